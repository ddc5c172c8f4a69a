"""Builders for portal tests: synthetic photos and PDFs, and filing through the services."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from unionaid.approvals.models import TaskStatus
from unionaid.assistance import services

PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def jpeg_bytes(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def photo(name="IMG_0001.jpg", colour=(200, 30, 30)):
    return SimpleUploadedFile(name, jpeg_bytes(colour), content_type="image/jpeg")


def pdf(name="scan.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def draft(user, item, **facts):
    return services.application_create_draft(actor=user, member=user.member, item=item,
                                             facts=facts or {"self_paid": "12000"})


def submitted(user, item, **facts):
    application = draft(user, item, **facts)
    services.attachment_add(actor=user, application=application, material="诊断证明",
                            uploaded_file=pdf())
    return services.application_submit(actor=user, application=application)


def pending_task(application):
    application.refresh_from_db()
    return application.case.tasks.get(status=TaskStatus.PENDING)
