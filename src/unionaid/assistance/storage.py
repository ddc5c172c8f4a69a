"""Application materials on disk: checked by content, cleaned, stored outside the web root.

* The type comes from the bytes (``filetype``), never from the name: only JPEG, PNG and PDF;
  a name whose extension says otherwise (a PDF or a program renamed ``.jpg``) is refused.
* Photos are decoded and re-encoded from their pixels, which drops EXIF (GPS location, camera,
  time), XMP and text chunks; the EXIF orientation is applied first so the photo stays upright.
  A thumbnail (JPEG, at most 320 px) is made for each photo.
* Files live under ``settings.PRIVATE_MEDIA_ROOT/attachments/`` (visit photos under
  ``visit_photos/``) with random names and are only read back through ``open_private`` (the
  permission check is the caller's: ``selectors.attachment_open_for_user``).
* A file is written before the row that names it. Written inside a transaction, it is queued
  for deletion if that transaction (or the savepoint it was written in) rolls back
  (``discard_on_rollback``), and deleted by ``flush_discarded`` at the next safe point outside
  any transaction (the end of each request, the start of ``storage_sweep``) unless a row names
  it by then. What still slips through (a crash between the write and the commit, a process that
  never flushes) is removed by ``storage_sweep``: files that no row names and that are older
  than a threshold.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import stat
import time
import unicodedata
import uuid
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

import filetype
from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from unionaid.audit.services import audit_record
from unionaid.core.errors import ServiceError

logger = logging.getLogger(__name__)

ALLOWED = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
EXTENSIONS = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "jpe": "image/jpeg",
              "png": "image/png", "pdf": "application/pdf"}
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
MAX_BYTES_DEFAULT = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
THUMB_SIZE = (320, 320)
SUBDIR = "attachments"
VISIT_PHOTOS = "visit_photos"
READABLE = (SUBDIR, VISIT_PHOTOS)  # the private folders files are written to and read from


def max_bytes() -> int:
    return int(getattr(settings, "ASSISTANCE_MAX_UPLOAD_BYTES", MAX_BYTES_DEFAULT))


@dataclass(frozen=True)
class StoredFile:
    storage_path: str
    thumbnail_path: str
    content_type: str
    size: int
    sha256: str
    original_name: str


def _root() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT).resolve()


def _read_limited(uploaded) -> bytes:
    limit = max_bytes()
    declared = getattr(uploaded, "size", None)
    if declared is not None and declared > limit:
        raise _too_large(limit)
    buffer = io.BytesIO()
    chunks = uploaded.chunks() if hasattr(uploaded, "chunks") else iter(
        lambda: uploaded.read(64 * 1024), b"")
    for chunk in chunks:
        buffer.write(chunk)
        if buffer.tell() > limit:
            raise _too_large(limit)
    return buffer.getvalue()


def _too_large(limit: int) -> ServiceError:
    return ServiceError(_("文件过大，单个文件不能超过 %(mb)s MB。") % {"mb": limit // (1024 * 1024)},
                        code="file_too_large", fields={"file": _("文件过大。")})


def _refuse_type() -> ServiceError:
    message = _("只能上传 JPG、PNG 图片或 PDF 文件（按文件内容识别，改扩展名无效）。")
    return ServiceError(message, code="file_type", fields={"file": message})


def safe_name(name: str) -> str:
    """The file's own name without any directory part or control characters."""
    base = PurePosixPath(str(name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:200] or "file"


def sniff(data: bytes) -> str:
    """The content type from the bytes, or ServiceError "file_type"."""
    kind = filetype.guess(data[:8192]) if data else None
    if kind is None or kind.mime not in ALLOWED:
        raise _refuse_type()
    if kind.mime == "application/pdf" and not data.startswith(b"%PDF-"):
        raise _refuse_type()
    return kind.mime


def _decode(data: bytes, mime: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format != PILLOW_FORMATS[mime]:
                raise _refuse_type()
            if probe.width * probe.height > MAX_PIXELS:
                raise ServiceError(_("图片像素过大，请压缩后再上传。"), code="image_too_large")
            probe.load()
            return ImageOps.exif_transpose(probe)
    except ServiceError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise ServiceError(_("图片已损坏或无法识别，请重新拍照上传。"), code="image_invalid") from None


def _pixels_only(image: Image.Image, mime: str) -> Image.Image:
    """A new image holding only the pixels: no EXIF, XMP, ICC or text chunks."""
    if mime == "image/jpeg":
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
    elif image.mode not in ("1", "L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "transparency" in image.info or "A" in image.mode
                              else "RGB")
    return Image.frombytes(image.mode, image.size, image.tobytes())


def clean_image(data: bytes, mime: str) -> tuple[bytes, bytes]:
    """(cleaned image bytes, JPEG thumbnail bytes)."""
    clean = _pixels_only(_decode(data, mime), mime)
    out = io.BytesIO()
    if mime == "image/jpeg":
        clean.save(out, "JPEG", quality=90)
    else:
        clean.save(out, "PNG")
    thumb = clean.copy()
    thumb.thumbnail(THUMB_SIZE)
    if thumb.mode in ("LA", "RGBA"):
        background = Image.new("RGB", thumb.size, "white")
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, "JPEG", quality=80)
    return out.getvalue(), thumb_out.getvalue()


def _write(relative: str, data: bytes) -> None:
    path = _root() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def store_upload(uploaded, *, subdir: str = SUBDIR, allowed=None) -> StoredFile:
    """Check, clean and write one upload under ``subdir`` (one of ``READABLE``), accepting the
    content types in ``allowed`` (default: ``ALLOWED``). Raises ServiceError in Chinese."""
    if subdir not in READABLE:
        raise ValueError(subdir)
    data = _read_limited(uploaded)
    if not data:
        raise ServiceError(_("文件为空。"), code="file_empty", fields={"file": _("文件为空。")})
    mime = sniff(data)
    if allowed is not None and mime not in allowed:
        raise _refuse_type()
    name = safe_name(getattr(uploaded, "name", ""))
    if "." in name and EXTENSIONS.get(name.rsplit(".", 1)[1].lower()) != mime:
        raise _refuse_type()  # a name that lies about the content (a PDF or program as .jpg)
    thumb = b""
    if mime != "application/pdf":
        data, thumb = clean_image(data, mime)
    now = timezone.localtime()
    stem = f"{subdir}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}"
    storage_path = f"{stem}.{ALLOWED[mime]}"
    thumbnail_path = f"{stem}_thumb.jpg" if thumb else ""
    _write(storage_path, data)
    try:
        if thumb:
            _write(thumbnail_path, thumb)
    except BaseException:
        delete_private(storage_path)
        raise
    discard_on_rollback(storage_path, thumbnail_path)
    return StoredFile(storage_path=storage_path, thumbnail_path=thumbnail_path,
                      content_type=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                      original_name=name)


def _resolve(relative: str) -> Path:
    root = _root()
    path = (root / relative).resolve()
    if not relative or not any(path.is_relative_to(root / folder) for folder in READABLE):
        raise FileNotFoundError(relative)
    return path


def open_private(relative: str):
    """Open a stored file for reading (binary). Paths outside the attachment folder refuse."""
    return _resolve(relative).open("rb")


def delete_private(*relatives: str) -> None:
    for relative in relatives:
        if relative:
            with contextlib.suppress(FileNotFoundError):
                _resolve(relative).unlink(missing_ok=True)


# -- files of a transaction that rolls back ------------------------------------------------------

class _RollbackGuard:
    """An ``on_commit`` callback standing for files written inside a transaction.

    Django has no rollback hook, but it drops the on_commit callbacks of a savepoint or
    transaction that rolls back (and of a connection closed mid-transaction). The guard is
    referenced only from that callback list, so being dropped without having been called
    usually means "rolled back": its finalizer then queues the paths for ``flush_discarded``.
    Called (the commit went through), it detaches the finalizer and the files stay.

    "Usually": when an earlier on_commit hook raises, Django drops the later ones after the
    COMMIT, and the exception's traceback can keep them alive long after (a log record, an error
    reporter), to be freed at any time, in any thread. So the finalizer never deletes and never
    queries the database: ``flush_discarded`` decides later, by whether a row names the file.
    """

    __slots__ = ("__weakref__", "_finalizer")

    def __init__(self, alias: str, paths: tuple[str, ...]) -> None:
        self._finalizer = weakref.finalize(self, _queue_dropped, tuple((alias, p) for p in paths))
        self._finalizer.atexit = False  # at exit leave them to the sweep

    def __call__(self) -> None:
        self._finalizer.detach()


# (alias, path) of files whose guard was dropped, waiting for ``flush_discarded``. Appends and
# pops of a deque are thread-safe. Bounded so a process that never flushes cannot grow it
# without end: what falls off is left to the sweep.
DROPPED_MAX = 10_000
_dropped: deque[tuple[str, str]] = deque(maxlen=DROPPED_MAX)


def _queue_dropped(entries: tuple[tuple[str, str], ...]) -> None:
    """The guard's finalizer: it may run in any thread, at any time. Only queue."""
    _dropped.extend(entries)


def _in_transaction(alias: str) -> bool:
    """Inside an atomic block. Not counting the blocks a test case wraps each test in (as
    Django's own check of ``durable`` blocks does), so tests see what a request would; outside
    tests this is ``in_atomic_block``."""
    return any(not block._from_testcase for block in connections[alias].atomic_blocks)


def flush_discarded() -> int:
    """Delete the queued files of rolled-back transactions that no row names; return how many
    were deleted. A queued file that a row names belongs to a committed transaction and stays.
    Only outside a transaction (whose snapshot could miss a later commit): inside one, the
    queue is left for later. Run at the end of each request (``request_finished``), at the
    start of ``storage_sweep`` and by ``discard_on_rollback`` outside a transaction."""
    taken: dict[str, list[str]] = {}
    while True:
        try:
            alias, path = _dropped.popleft()
        except IndexError:
            break
        taken.setdefault(alias, []).append(path)
    deleted = 0
    root = _root()
    references = None
    for alias, queued in taken.items():
        if _in_transaction(alias):
            _dropped.extend((alias, path) for path in queued)
            continue
        # A file already gone needs no row check (nor a query).
        paths = [path for path in dict.fromkeys(queued) if os.path.lexists(root / path)]
        if not paths:
            continue
        references = path_references() if references is None else references
        try:
            named: set[str] = set()
            for start in range(0, len(paths), SWEEP_BATCH):
                named |= _referenced(paths[start:start + SWEEP_BATCH], references, using=alias)
        except BaseException:
            _dropped.extend((alias, path) for path in paths)  # undecided: keep them queued
            raise
        for path in paths:
            if path in named:
                continue
            try:
                delete_private(path)
            except OSError:
                logger.exception("could not delete the files of a rolled-back upload")
            else:
                deleted += 1
    return deleted


def flush_discarded_quietly(sender=None, **kwargs) -> None:
    """``flush_discarded`` that never raises (a failure is logged, the files stay queued or are
    left to the sweep): the ``request_finished`` receiver (``AssistanceConfig.ready``)."""
    try:
        flush_discarded()
    except Exception:
        logger.exception("could not flush the files of rolled-back uploads")


def discard_on_rollback(*relatives: str, using: str | None = None) -> None:
    """Delete these stored files (at the next ``flush_discarded``) if the current transaction,
    or the savepoint they were written in, rolls back. Outside a transaction nothing can roll
    back: this is a safe point to flush what earlier rollbacks queued."""
    alias = using or DEFAULT_DB_ALIAS
    paths = tuple(r for r in relatives if r)
    if transaction.get_connection(alias).in_atomic_block:
        if paths:
            transaction.on_commit(_RollbackGuard(alias, paths), using=alias)
    else:
        flush_discarded_quietly()


# -- the sweep: files no row names --------------------------------------------------------------

PATH_FIELDS = ("storage_path", "thumbnail_path")
SWEEP_MIN_HOURS = 1
SWEEP_BATCH = 500


@dataclass
class SweepResult:
    scanned: int = 0  # regular files under the private folders
    recent: int = 0  # younger than the threshold: not checked, never deleted
    referenced: int = 0  # named by a row
    orphans: int = 0  # named by no row and old enough: deleted (listed only in a dry run)
    orphan_bytes: int = 0
    skipped: int = 0  # symlinks, other non-regular entries, files changed meanwhile: untouched
    failed: int = 0  # orphans that could not be deleted


def path_references() -> list[tuple[type, str]]:
    """(model, field) of every model field that holds a path written by ``store_upload``
    (``Attachment``, ``VisitPhoto``, and any later model that follows the same naming)."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        found += [(model, f.name) for f in model._meta.concrete_fields if f.name in PATH_FIELDS]
    return found


def _files(root: Path, result: SweepResult) -> Iterator[tuple[str, os.stat_result]]:
    """(path relative to the root, lstat) of every regular file under the private folders,
    one directory at a time, never following a symlink."""
    for folder in READABLE:
        top = root / folder
        if top.is_symlink():
            result.skipped += 1
            continue
        if not top.is_dir():
            continue
        pending = [top]
        while pending:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        result.skipped += 1
                    elif entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        info = entry.stat(follow_symlinks=False)
                        yield Path(entry.path).relative_to(root).as_posix(), info
                    else:
                        result.skipped += 1


def _referenced(chunk: list[str], references, using: str | None = None) -> set[str]:
    named: set[str] = set()
    for model, field in references:
        manager = model._base_manager.db_manager(using) if using else model._base_manager
        named.update(manager.filter(**{f"{field}__in": chunk}).values_list(field, flat=True))
    return named


def _delete_if_still_old(relative: str, cutoff: float) -> bool:
    """Unlink one orphan after checking again that it is a regular file, still old, inside
    the private folders once every symlink of its parents is resolved."""
    path = _root() / relative
    try:
        if _resolve(relative) != path:  # a symlink somewhere on the way
            return False
        info = os.lstat(path)
    except FileNotFoundError:  # gone meanwhile, or outside the private folders
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_mtime > cutoff:
        return False
    path.unlink()
    return True


def storage_sweep(*, actor=None, older_than_hours: float = 24, dry_run: bool = False,
                  on_orphan: Callable[[str, int], None] | None = None) -> SweepResult:
    """Delete the files under the private folders that no row names and whose last change is
    older than ``older_than_hours`` (a younger file may be an upload whose row is not yet
    committed). ``dry_run`` only lists them. ``on_orphan(path, size)`` sees each orphan.
    Streams: one directory listing and one batch of paths at a time. A real run records one
    ``storage.sweep`` audit event with the counts (no paths). A real run first flushes the
    files queued by rollbacks (``flush_discarded``), whatever their age."""
    if older_than_hours < SWEEP_MIN_HOURS:
        raise ServiceError(_("只能清理 %(n)s 小时以前的文件（更新的可能是正在上传的文件）。")
                           % {"n": SWEEP_MIN_HOURS}, code="sweep_too_recent")
    if not dry_run:
        flush_discarded()
    result = SweepResult()
    root = _root()
    cutoff = time.time() - older_than_hours * 3600
    references = path_references()
    chunk: dict[str, int] = {}

    def settle() -> None:
        named = _referenced(list(chunk), references)
        for relative, size in chunk.items():
            if relative in named:
                result.referenced += 1
                continue
            if on_orphan is not None:
                on_orphan(relative, size)
            if not dry_run:
                try:
                    deleted = _delete_if_still_old(relative, cutoff)
                except OSError:
                    logger.exception("storage sweep: could not delete an orphan")
                    result.failed += 1
                    continue
                if not deleted:
                    result.skipped += 1
                    continue
            result.orphans += 1
            result.orphan_bytes += size
        chunk.clear()

    if root.is_dir():
        for relative, info in _files(root, result):
            result.scanned += 1
            if info.st_mtime > cutoff:
                result.recent += 1
                continue
            chunk[relative] = info.st_size
            if len(chunk) >= SWEEP_BATCH:
                settle()
        if chunk:
            settle()
    if not dry_run:
        audit_record(actor=actor, action="storage.sweep", target_type="assistance.storage",
                     target_label="private storage",
                     changes={"older_than_hours": older_than_hours, **asdict(result)})
    return result
