"""Keeping an uploaded archive ledger between its check and the confirmation (under the
private media root; the file holds clear ID numbers, so it never stays longer than needed)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.core.errors import ServiceError
from unionaid.core.spreadsheets import ReadLimits
from unionaid.members import roster_files

IMPORT_DIR = "archive-imports"
STALE_AFTER = dt.timedelta(days=1)


def max_upload_bytes() -> int:
    return getattr(settings, "ARCHIVE_IMPORT_MAX_BYTES", 20 * 1024 * 1024)


def read_limits() -> ReadLimits:
    """How big a ledger may be (settings ``ARCHIVE_IMPORT_MAX_ROWS``,
    ``ARCHIVE_IMPORT_MAX_UNPACKED_MB``, ``IMPORT_MAX_COLUMNS``), checked before it is read."""
    return ReadLimits(
        max_rows=int(settings.ARCHIVE_IMPORT_MAX_ROWS),
        max_columns=int(settings.IMPORT_MAX_COLUMNS),
        max_bytes=int(settings.ARCHIVE_IMPORT_MAX_UNPACKED_MB) << 20,
    )


def _root() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / IMPORT_DIR


def upload_store(upload) -> tuple[str, str]:
    """Store an uploaded ledger under the private media root; returns (token, file name).
    The file holds clear ID numbers: callers ``upload_discard`` it as soon as it is done with."""
    name = Path(upload.name or "").name[:200]
    suffix = Path(name).suffix.lower()
    invalid = None
    if suffix not in roster_files.EXTENSIONS:
        invalid = _("只支持 .xlsx 和 .csv 文件。")
    elif not upload.size:
        invalid = _("文件是空的。")
    elif upload.size > max_upload_bytes():
        invalid = _("文件太大，不能超过 %(mb)d MB。") % {"mb": max_upload_bytes() >> 20}
    if invalid:
        raise ServiceError(invalid, code="invalid_file", fields={"file": invalid})
    token = uuid.uuid4().hex + suffix
    target = _root() / token
    target.parent.mkdir(parents=True, exist_ok=True)
    _discard_stale()
    with target.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    problem = roster_files.check_content(target, read_limits())
    if problem:
        target.unlink(missing_ok=True)
        raise ServiceError(problem, code="invalid_file", fields={"file": problem})
    return token, name


def _discard_stale(max_age: dt.timedelta = STALE_AFTER) -> None:
    """Checked files nobody confirmed (a closed browser) hold clear ID numbers: remove them
    after a day."""
    cutoff = (timezone.now() - max_age).timestamp()
    for path in _root().glob("*.*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue


def upload_path(token: str) -> Path | None:
    """The stored file of ``token``, if it is a token we made and the file is still there."""
    if not re.fullmatch(r"[0-9a-f]{32}\.(xlsx|csv)", token or ""):
        return None
    path = _root() / token
    return path if path.exists() else None


def upload_discard(token: str) -> None:
    path = upload_path(token)
    if path is not None:
        path.unlink(missing_ok=True)
