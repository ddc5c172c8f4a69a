"""Application materials on disk: checked by content, cleaned, stored outside the web root.

* The type comes from the bytes (``filetype``), never from the name: only JPEG, PNG and PDF;
  a name whose extension says otherwise (a PDF or a program renamed ``.jpg``) is refused.
* Photos are decoded and re-encoded from their pixels, which drops EXIF (GPS location, camera,
  time), XMP and text chunks; the EXIF orientation is applied first so the photo stays upright.
  A thumbnail (JPEG, at most 320 px) is made for each photo.
* Files live under ``settings.PRIVATE_MEDIA_ROOT/attachments/`` with random names and are only
  read back through ``open_private`` (the permission check is the caller's:
  ``selectors.attachment_open_for_user``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import filetype
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from unionaid.core.errors import ServiceError

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
    _write(storage_path, data)
    thumbnail_path = ""
    if thumb:
        thumbnail_path = f"{stem}_thumb.jpg"
        _write(thumbnail_path, thumb)
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
