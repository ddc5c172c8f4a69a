"""Where uploaded lists are kept until they are loaded: PRIVATE_MEDIA_ROOT/matching/YYYY/MM/,
outside the web root, under a random name (the file holds clear ID numbers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from unionaid.matching.models import Dataset

UPLOAD_DIR = "matching"


def _root() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT)


def store(chunks: Iterable[bytes], suffix: str) -> str:
    """Write an upload; returns its path relative to PRIVATE_MEDIA_ROOT."""
    stored = f"{UPLOAD_DIR}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"
    path = _root() / stored
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
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
