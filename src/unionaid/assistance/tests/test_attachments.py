"""Materials: type by content (never by name), size limit, EXIF/GPS stripped, stored under
PRIVATE_MEDIA_ROOT, thumbnails, and served only to people who may see the application."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from unionaid.assistance import services
from unionaid.assistance.models import Attachment
from unionaid.assistance.selectors import attachment_open_for_user
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, NotFound, ServiceError

from .helpers import PDF_BYTES, jpeg_bytes, png_bytes, upload


@pytest.fixture
def draft(worker, illness):
    return services.application_create_draft(actor=worker, member=worker.member, item=illness,
                                             facts={"self_paid": "6000"})


def add(actor, application, name, data, material="诊断证明"):
    return services.attachment_add(actor=actor, application=application, material=material,
                                   uploaded_file=upload(name, data))


def stored(settings, relative: str) -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / relative


def test_a_photo_loses_its_gps_and_camera_exif(worker, draft, settings):
    original = jpeg_bytes(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the test photo has GPS
    attachment = add(worker, draft, "IMG_0001.jpg", original)
    path = stored(settings, attachment.storage_path)
    assert path.is_file()
    assert path.resolve().is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT).resolve())
    data = path.read_bytes()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info
    assert b"SyntheticCam" not in data
    assert attachment.content_type == "image/jpeg"
    assert attachment.size == len(data)
    assert attachment.original_name == "IMG_0001.jpg"
    thumb = Image.open(stored(settings, attachment.thumbnail_path))
    assert max(thumb.size) <= 320
    assert dict(thumb.getexif()) == {}


def test_a_png_with_exif_is_cleaned_too(worker, draft, settings):
    attachment = add(worker, draft, "screen.png", png_bytes(exif=True))
    image = Image.open(stored(settings, attachment.storage_path))
    assert image.format == "PNG"
    assert "exif" not in image.info
    assert attachment.thumbnail_path.endswith("_thumb.jpg")


def test_a_pdf_is_kept_as_uploaded_without_a_thumbnail(worker, draft, settings):
    attachment = add(worker, draft, "诊断证明.pdf", PDF_BYTES)
    assert attachment.content_type == "application/pdf"
    assert attachment.thumbnail_path == ""
    assert stored(settings, attachment.storage_path).read_bytes() == PDF_BYTES


@pytest.mark.parametrize(("name", "data"), [
    ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200),
    ("photo.jpg", PDF_BYTES),
    ("scan.pdf", jpeg_bytes()),
    ("notes.txt", b"just some text, not a document photo"),
    ("page.png", b"<html><script>alert(1)</script></html>"),
])
def test_a_file_whose_content_is_not_what_is_allowed_or_named_is_refused(
        worker, draft, settings, name, data):
    with pytest.raises(ServiceError) as exc:
        add(worker, draft, name, data)
    assert exc.value.code == "file_type"
    assert "按文件内容识别" in exc.value.message
    assert not Attachment.objects.exists()
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def test_a_file_without_an_extension_is_typed_by_its_content(worker, draft):
    attachment = add(worker, draft, "scan", PDF_BYTES)
    assert attachment.content_type == "application/pdf"


def test_a_file_over_the_size_limit_is_refused(worker, draft, settings):
    settings.ASSISTANCE_MAX_UPLOAD_BYTES = 1024
    with pytest.raises(ServiceError) as exc:
        add(worker, draft, "big.pdf", PDF_BYTES + b"%" * 2000)
    assert exc.value.code == "file_too_large"
    assert "不能超过" in exc.value.message


def test_a_material_must_be_one_the_item_asks_for(worker, draft):
    with pytest.raises(ServiceError) as exc:
        add(worker, draft, "a.pdf", PDF_BYTES, material="自拍")
    assert exc.value.code == "invalid_material"
    assert add(worker, draft, "a.pdf", PDF_BYTES, material="其他材料").material == "其他材料"


def test_the_worker_and_cadres_in_scope_open_a_material_others_get_not_found(
        worker, draft, staff, new_worker, union):
    attachment = add(worker, draft, "IMG.jpg", jpeg_bytes())
    handle, content_type, filename = attachment_open_for_user(user=worker, pk=attachment.pk)
    with handle:
        assert handle.read(2) == b"\xff\xd8"
    assert (content_type, filename) == ("image/jpeg", "IMG.jpg")
    assert not AuditEvent.objects.filter(action="attachment.view").exists()

    handle, content_type, filename = attachment_open_for_user(
        user=staff.apply_cadre, pk=attachment.pk, thumbnail=True)
    handle.close()
    assert (content_type, filename) == ("image/jpeg", "IMG_thumb.jpg")
    event = AuditEvent.objects.get(action="attachment.view")
    assert event.actor_id == staff.apply_cadre.pk
    assert event.changes == {"attachment": attachment.pk, "thumbnail": True}

    for outsider in (staff.other_apply, new_worker(union.team_a)):
        with pytest.raises(NotFound):
            attachment_open_for_user(user=outsider, pk=attachment.pk)
    with pytest.raises(NotFound):
        attachment_open_for_user(user=worker, pk="../../etc/passwd")


def test_materials_of_a_draft_can_be_removed_and_their_files_go(
        worker, draft, settings, django_capture_on_commit_callbacks):
    attachment = add(worker, draft, "a.jpg", jpeg_bytes())
    paths = [stored(settings, attachment.storage_path), stored(settings, attachment.thumbnail_path)]
    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_remove(actor=worker, attachment=attachment)
    assert not Attachment.objects.exists()
    assert not any(p.exists() for p in paths)
    assert AuditEvent.objects.filter(action="attachment.remove").exists()


def test_nobody_else_uploads_to_a_workers_application(draft, staff, new_worker, union):
    with pytest.raises(NotFound):
        add(staff.other_apply, draft, "a.pdf", PDF_BYTES)
    with pytest.raises(NotFound):
        add(new_worker(union.team_a), draft, "a.pdf", PDF_BYTES)
    assert add(staff.apply_cadre, draft, "a.pdf", PDF_BYTES).uploaded_by == staff.apply_cadre


def test_a_withdrawn_application_takes_no_more_material(worker, draft):
    services.application_withdraw(actor=worker, application=draft)
    with pytest.raises(Conflict):
        add(worker, draft, "a.pdf", PDF_BYTES)
