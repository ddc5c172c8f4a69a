"""Builders for the issue-3 API tests: files to upload, the pending task of an application."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
# The start of a Windows program (MZ header, PE signature): what a renamed .exe looks like.
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 46 + b"PE\x00\x00" * 64


def pdf_upload(name="scan.pdf", data=PDF_BYTES):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def jpeg_bytes(size=(64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def pending_task(application):
    from unionaid.approvals.models import TaskStatus

    application.refresh_from_db()
    return application.case.tasks.get(status=TaskStatus.PENDING)


def upload(api, application_id: int, name: str, data: bytes, material: str = "诊断证明",
           content_type: str = "application/octet-stream"):
    """POST a multipart upload with ``api``'s credentials (session or bearer token)."""
    file = SimpleUploadedFile(name, data, content_type=content_type)
    return api.client.post(f"/api/v1/assistance/applications/{application_id}/attachments",
                           data={"material": material, "file": file}, headers=api.headers)


def fetch(api, url: str):
    """GET a full URL returned by the API (e.g. a file link) with ``api``'s credentials."""
    return api.client.get(url, headers=api.headers)
