"""Builders for assistance tests: photos with EXIF, a tiny PDF, uploads."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image


def jpeg_bytes(*, gps: bool = False, size=(64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SyntheticCam"  # Make
    exif[0x0110] = "Model-1"  # Model
    if gps:
        exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bytes(*, exif: bool = False) -> bytes:
    image = Image.new("RGBA", (40, 40), (0, 120, 0, 128))
    out = io.BytesIO()
    kwargs = {}
    if exif:
        data = Image.Exif()
        data[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}
        kwargs["exif"] = data
    image.save(out, "PNG", **kwargs)
    return out.getvalue()


PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def this_year() -> int:
    return timezone.localdate().year


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
