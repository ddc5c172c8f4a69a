"""Visit photos never outlive their row: deleted when the transaction they were written in rolls
back (even after the service returned: at the next flush outside a transaction, e.g. the end of
the request), and swept when old and named by no row."""
# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from conftest import verified_login
from unionaid.assistance import storage
from unionaid.assistance.tests.helpers import jpeg_bytes, upload
from unionaid.audit.models import AuditEvent
from unionaid.visits.models import VisitPhoto
from unionaid.visits.services import photos as photo_services
from unionaid.visits.services import visits as visit_services

from .helpers_records import new_uuid, private_media, rec, visit_data  # noqa: F401


class Boom(Exception):
    pass


@pytest.fixture(autouse=True)
def _empty_queue():
    """Nothing queued by earlier tests (their files are gone with their tmp_path anyway)."""
    storage._dropped.clear()
    yield
    storage._dropped.clear()


@pytest.fixture
def visit(rec, private_media):
    visit, _ = visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(),
                                           data=visit_data(rec.member))
    return visit


def rolled_back(work):
    """Run ``work`` in a transaction that fails after it returned; return what it returned."""
    done = []

    def failing() -> None:
        with transaction.atomic():
            done.append(work())
            raise Boom

    with pytest.raises(Boom):
        failing()
    return done[0]


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_a_photo_whose_outer_transaction_rolls_back_after_the_service_is_deleted(
        rec, visit, private_media):
    def work():
        photo = photo_services.visit_photo_add(actor=rec.visitor_a, visit=visit,
                                               uploaded_file=upload("家中.jpg", jpeg_bytes()))
        paths = [private_media / photo.storage_path, private_media / photo.thumbnail_path]
        assert all(p.is_file() for p in paths)
        return paths

    paths = rolled_back(work)
    assert all(p.is_file() for p in paths)  # queued until a flush outside the transaction
    assert storage.flush_discarded() == 2
    assert not any(p.exists() for p in paths)
    assert not VisitPhoto.objects.exists()
    assert not AuditEvent.objects.filter(action="visit.photo_add").exists()


def test_photos_of_a_visit_whose_outer_transaction_rolls_back_are_deleted(rec, private_media):
    def work():
        visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(),
                                    data=visit_data(rec.member),
                                    photos=[upload("a.jpg", jpeg_bytes()),
                                            upload("b.jpg", jpeg_bytes())])
        return len(files_under(private_media))

    assert rolled_back(work) == 4
    assert storage.flush_discarded() == 4
    assert files_under(private_media) == []


def test_a_photo_whose_row_fails_leaves_no_file(rec, visit, private_media, monkeypatch):
    def failing_audit(**kwargs):
        raise Boom

    monkeypatch.setattr(photo_services, "audit_record", failing_audit)
    with pytest.raises(Boom):
        photo_services.visit_photo_add(actor=rec.visitor_a, visit=visit,
                                       uploaded_file=upload("家中.jpg", jpeg_bytes()))
    storage.flush_discarded()
    assert files_under(private_media) == []


def test_a_photo_upload_request_that_fails_leaves_no_file(client, rec, visit, private_media,
                                                          monkeypatch):
    """No explicit flush: the end of the request (``request_finished``) deletes the file."""
    def failing_audit(**kwargs):
        raise Boom

    monkeypatch.setattr(photo_services, "audit_record", failing_audit)
    verified_login(client, rec.visitor_a)
    with pytest.raises(Boom):
        client.post(f"/visits/{visit.pk}/photos/", {"photo": upload("家中.jpg", jpeg_bytes())})
    assert not VisitPhoto.objects.exists()
    assert files_under(private_media) == []


def test_the_sweep_keeps_photos_with_a_row_and_deletes_old_orphans(rec, visit, private_media):
    photo = photo_services.visit_photo_add(actor=rec.visitor_a, visit=visit,
                                           uploaded_file=upload("家中.jpg", jpeg_bytes()))
    orphan = photo_services.store_photo(upload("lost.jpg", jpeg_bytes()))  # no row came
    fresh = photo_services.store_photo(upload("new.jpg", jpeg_bytes()))
    named = [private_media / photo.storage_path, private_media / photo.thumbnail_path]
    lost = [private_media / orphan.storage_path, private_media / orphan.thumbnail_path]
    for path in named + lost:
        age(path, 72)

    out = io.StringIO()
    call_command("storage_sweep", "--dry-run", stdout=out)
    assert orphan.storage_path in out.getvalue()
    assert all(p.is_file() for p in lost)

    call_command("storage_sweep", stdout=io.StringIO())
    assert all(p.is_file() for p in named)
    assert not any(p.exists() for p in lost)
    assert (private_media / fresh.storage_path).is_file()
    changes = AuditEvent.objects.get(action="storage.sweep").changes
    assert (changes["referenced"], changes["orphans"], changes["recent"]) == (2, 2, 2)
