"""Materials are served only through the permission-checked view, with private headers; out of
scope is a plain 404 and staff reads are journaled."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from unionaid.assistance import services
from unionaid.audit.models import AuditEvent

from .helpers import PDF_BYTES, jpeg_bytes, upload


@pytest.fixture
def photo(worker, illness):
    application = services.application_create_draft(actor=worker, member=worker.member,
                                                     item=illness, facts={"self_paid": "9000"})
    return services.attachment_add(actor=worker, application=application, material="诊断证明",
                                   uploaded_file=upload("诊断.jpg", jpeg_bytes(size=(800, 600))))


def url(attachment, **query) -> str:
    suffix = "".join(f"?{k}={v}" for k, v in query.items())
    return f"/assistance/attachments/{attachment.pk}/{suffix}"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_cadre_in_scope_gets_the_photo_with_private_headers(client, staff, photo):
    client.force_login(staff.apply_cadre)
    response = client.get(url(photo))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]
    assert Image.open(io.BytesIO(body(response))).size == (800, 600)
    event = AuditEvent.objects.get(action="attachment.view")
    assert event.actor_id == staff.apply_cadre.pk
    assert event.changes == {"attachment": photo.pk, "thumbnail": False}


def test_the_thumbnail_is_small(client, staff, photo):
    client.force_login(staff.apply_cadre)
    response = client.get(url(photo, thumb=1))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "_thumb" in response["Content-Disposition"]
    width, height = Image.open(io.BytesIO(body(response))).size
    assert max(width, height) < 800


def test_a_pdf_is_downloaded_not_shown_inline(client, staff, worker, illness):
    application = services.application_create_draft(actor=worker, member=worker.member,
                                                     item=illness, facts={})
    pdf = services.attachment_add(actor=worker, application=application, material="诊断证明",
                                  uploaded_file=upload("x.pdf", PDF_BYTES))
    client.force_login(staff.apply_cadre)
    response = client.get(url(pdf))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert body(response).startswith(b"%PDF")


def test_out_of_scope_is_404_and_journaled(client, staff, photo):
    client.force_login(staff.other_apply)
    response = client.get(url(photo))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="attachment.view").exists()
    denied = AuditEvent.objects.get(action="access.denied")
    assert denied.target_id == str(photo.pk)
    assert denied.actor_id == staff.other_apply.pk


def test_an_unknown_attachment_is_404(client, staff):
    client.force_login(staff.apply_cadre)
    assert client.get("/assistance/attachments/999999/").status_code == 404


def test_the_worker_sees_their_own_without_a_journal_entry(client, worker, photo):
    client.force_login(worker)
    assert client.get(url(photo)).status_code == 200
    assert not AuditEvent.objects.filter(action="attachment.view").exists()


def test_anonymous_users_are_sent_to_log_in(client, photo):
    response = client.get(url(photo))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
