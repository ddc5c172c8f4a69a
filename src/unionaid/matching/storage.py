"""Where uploaded lists are kept until they are loaded: PRIVATE_MEDIA_ROOT/matching/YYYY/MM/,
outside the web root, under a random name (the file holds clear ID numbers).

Temporary copies made while reading a list (transcoded CSV, an Excel workbook as CSV) go to
PRIVATE_MEDIA_ROOT/matching/tmp (mode 0700), never to the shared /tmp; they are removed as soon
as read, and ``sweep_orphans`` (run by the nightly purge) removes any a killed worker left.
DuckDB connections holding decrypted data are made by ``duckdb_connect``: in memory, with
spilling to disk switched off."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path

import duckdb
from django.conf import settings
from django.utils import timezone

from unionaid.matching.models import Dataset

UPLOAD_DIR = "matching"
TMP_DIR = "tmp"
ORPHAN_AGE = dt.timedelta(days=1)


def duckdb_connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that never spills to disk (an empty ``temp_directory``): a query
    past its memory limit fails instead of writing clear personal data to ./.tmp."""
    return duckdb.connect(config={"temp_directory": ""})


def tmp_dir() -> Path:
    """The private directory for temporary copies of lists (created 0700)."""
    path = _root() / UPLOAD_DIR / TMP_DIR
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def mkstemp(suffix: str = ".csv") -> tuple[int, str]:
    """``tempfile.mkstemp`` in ``tmp_dir()``; the caller removes the file."""
    return tempfile.mkstemp(suffix=suffix, prefix="unionaid-list-", dir=tmp_dir())


def sweep_orphans(*, now: dt.datetime | None = None) -> int:
    """Remove temporary copies older than a day, and stored uploads no dataset row names
    (a worker killed mid-read, an upload whose row never committed). Returns the count."""
    now = now or timezone.now()
    cutoff = (now - ORPHAN_AGE).timestamp()
    base = _root() / UPLOAD_DIR
    if not base.is_dir():
        return 0
    known = set(Dataset.objects.exclude(stored_path="").values_list("stored_path", flat=True))
    removed = 0
    for path in base.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            if path.stat().st_mtime >= cutoff:
                continue
        except OSError:
            continue
        relative = path.relative_to(_root()).as_posix()
        in_tmp = path.parent == base / TMP_DIR
        if in_tmp or relative not in known:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _root() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT)


def store(chunks: Iterable[bytes], suffix: str) -> str:
    """Write an upload; returns its path relative to PRIVATE_MEDIA_ROOT."""
    stored = f"{UPLOAD_DIR}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"
    path = _root() / stored
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
    return stored


def unlink(stored: str) -> None:
    if stored:
        (_root() / stored).unlink(missing_ok=True)


def dataset_file(dataset: Dataset) -> Path | None:
    return _root() / dataset.stored_path if dataset.stored_path else None


def delete_dataset_file(dataset: Dataset) -> None:
    """Remove a dataset's stored upload and forget its path."""
    if dataset.stored_path:
        unlink(dataset.stored_path)
        Dataset.objects.filter(pk=dataset.pk).update(stored_path="")
        dataset.stored_path = ""
