"""Uploaded files never outlive their row: a file written in a transaction that rolls back is
queued (even after the service returned) and deleted at the next flush outside a transaction
(the end of a request, the sweep) unless a row names it; ``storage_sweep`` removes old files no
row names, never a named, fresh, symlinked or outside file."""

from __future__ import annotations

import gc
import io
import os
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from unionaid.assistance import services, storage
from unionaid.assistance.models import Attachment
from unionaid.audit.models import AuditEvent

from .helpers import PDF_BYTES, jpeg_bytes, upload

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


@pytest.fixture(autouse=True)
def _empty_queue():
    """Nothing queued by earlier tests (their files are gone with their tmp_path anyway)."""
    storage._dropped.clear()
    yield
    storage._dropped.clear()


@pytest.fixture
def committing(transactional_db):
    """For ``transaction=True`` tests (real commits): on PostgreSQL the audit journal refuses
    TRUNCATE, which is how Django empties the database after such a test. Switch triggers off
    for this connection just before that flush (the connection is closed right after it)."""
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")


def queued() -> set[str]:
    return {path for _alias, path in storage._dropped}


def orphan_file(settings, name="lost.pdf") -> str:
    """A stored file that no row names; its relative path."""
    relative = f"{storage.SUBDIR}/2020/01/{name}"
    path = Path(settings.PRIVATE_MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF_BYTES)
    return relative


def drop_guard(*relatives: str) -> None:
    """What Django does to the guard of a rolled-back transaction: drop it uncalled."""
    storage._RollbackGuard("default", relatives)


@pytest.fixture
def draft(worker, illness):
    return services.application_create_draft(actor=worker, member=worker.member, item=illness,
                                             facts={"self_paid": "6000"})


def rolled_back(work):
    """Run ``work`` in a transaction that fails after it returned (as a view's atomic block
    might); return what ``work`` returned."""
    done = []

    def failing() -> None:
        with transaction.atomic():
            done.append(work())
            raise Boom

    with pytest.raises(Boom):
        failing()
    return done[0]


def add(actor, application, name="IMG_0001.jpg", data=None):
    return services.attachment_add(actor=actor, application=application, material="诊断证明",
                                   uploaded_file=upload(name, data or jpeg_bytes()))


def on_disk(settings, relative: str) -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / relative


def files_under(root) -> list[Path]:
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def sweep(*args) -> str:
    out = io.StringIO()
    call_command("storage_sweep", *args, stdout=out)
    return out.getvalue()


# -- rollback-aware cleanup ---------------------------------------------------------------------

def test_a_material_whose_outer_transaction_rolls_back_after_the_service_is_deleted(
        worker, draft, settings):
    def work():
        attachment = add(worker, draft)
        paths = [on_disk(settings, attachment.storage_path),
                 on_disk(settings, attachment.thumbnail_path)]
        assert all(p.is_file() for p in paths)
        return paths

    paths = rolled_back(work)
    assert all(p.is_file() for p in paths)  # queued, not deleted yet
    assert queued() == {p.relative_to(settings.PRIVATE_MEDIA_ROOT).as_posix() for p in paths}
    assert storage.flush_discarded() == 2
    assert not any(p.exists() for p in paths)
    assert not Attachment.objects.exists()
    assert files_under(settings.PRIVATE_MEDIA_ROOT) == []


def test_a_material_whose_service_fails_after_writing_is_deleted(worker, draft, settings,
                                                                   monkeypatch):
    def failing_audit(*args, **kwargs):
        raise Boom

    monkeypatch.setattr("unionaid.assistance.services.applications._audit", failing_audit)
    with pytest.raises(Boom):
        add(worker, draft, "scan.pdf", PDF_BYTES)
    storage.flush_discarded()
    assert not Attachment.objects.exists()
    assert files_under(settings.PRIVATE_MEDIA_ROOT) == []


def test_a_committed_material_stays_when_a_later_savepoint_rolls_back(
        worker, draft, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attachment = add(worker, draft)
    other = rolled_back(lambda: add(worker, draft, "other.pdf", PDF_BYTES))
    assert storage.flush_discarded() == 1
    assert not on_disk(settings, other.storage_path).exists()
    assert on_disk(settings, attachment.storage_path).is_file()
    assert on_disk(settings, attachment.thumbnail_path).is_file()
    assert len(files_under(settings.PRIVATE_MEDIA_ROOT)) == 2


def test_a_material_of_a_released_savepoint_stays_until_the_transaction_decides(
        worker, draft, settings):
    attachment = add(worker, draft)  # its own savepoint, released: the file must stay
    assert on_disk(settings, attachment.storage_path).is_file()
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_a_dropped_guard_only_queues_its_files(settings, django_assert_num_queries):
    """The finalizer may run anywhere, any time (see the next test): no deletion, no query."""
    relative = orphan_file(settings)
    with django_assert_num_queries(0):
        drop_guard(relative)
    assert on_disk(settings, relative).is_file()
    assert queued() == {relative}


def test_a_queued_file_that_a_row_names_is_kept(worker, draft, settings):
    attachment = add(worker, draft)
    lost = orphan_file(settings)
    drop_guard(attachment.storage_path, attachment.thumbnail_path, lost)

    assert storage.flush_discarded() == 1

    assert on_disk(settings, attachment.storage_path).is_file()
    assert on_disk(settings, attachment.thumbnail_path).is_file()
    assert not on_disk(settings, lost).exists()
    assert queued() == set()


def test_a_flush_inside_an_atomic_block_does_nothing(settings):
    lost = orphan_file(settings)
    drop_guard(lost)
    with transaction.atomic():
        assert storage.flush_discarded() == 0
        assert on_disk(settings, lost).is_file()
    assert queued() == {lost}  # left for later
    assert storage.flush_discarded() == 1
    assert not on_disk(settings, lost).exists()


def test_the_end_of_a_request_flushes_the_queue(client, settings):
    lost = orphan_file(settings)
    drop_guard(lost)
    assert client.get("/healthz").status_code == 200
    assert not on_disk(settings, lost).exists()
    assert queued() == set()


@pytest.mark.django_db(transaction=True)
def test_a_committed_material_stays_when_an_earlier_commit_hook_raised(
        committing, worker, draft, settings, client, django_assert_num_queries):
    """Regression: a non-robust on_commit hook that raises makes Django drop the later hooks
    after the COMMIT; the exception's traceback keeps the material's guard alive until it is
    released, after further commits (a log record, an error reporter, another thread's GC)."""
    def sms():  # e.g. notifications.notify's gateway call
        raise RuntimeError("SMS gateway down")

    kept = None
    try:
        with transaction.atomic():
            transaction.on_commit(sms)
            attachment = add(worker, draft)
    except RuntimeError as exc:
        kept = exc  # held a little longer
    paths = [on_disk(settings, attachment.storage_path),
             on_disk(settings, attachment.thumbnail_path)]
    assert Attachment.objects.filter(pk=attachment.pk).exists()  # the transaction committed
    with transaction.atomic():  # any later transaction on this connection
        Attachment.objects.exists()
    with django_assert_num_queries(0):
        del kept
        gc.collect()
    assert queued() == {attachment.storage_path, attachment.thumbnail_path}  # guard dropped
    assert all(p.is_file() for p in paths)

    assert client.get("/healthz").status_code == 200  # request_finished: flush
    assert storage.flush_discarded() == 0

    assert all(p.is_file() for p in paths)
    assert queued() == set()
    assert Attachment.objects.filter(pk=attachment.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_storing_a_file_outside_a_transaction_flushes_the_queue(committing, settings):
    lost = orphan_file(settings)
    drop_guard(lost)
    stored = storage.store_upload(upload("scan.pdf", PDF_BYTES))
    assert not on_disk(settings, lost).exists()
    assert on_disk(settings, stored.storage_path).is_file()


def test_delete_private_refuses_paths_outside_the_private_folders(settings, tmp_path):
    outside = tmp_path / "outside" / "secret.pdf"
    outside.parent.mkdir()
    outside.write_bytes(PDF_BYTES)
    Path(settings.PRIVATE_MEDIA_ROOT, storage.SUBDIR).mkdir(parents=True)
    storage.delete_private("../outside/secret.pdf", f"{storage.SUBDIR}/../../outside/secret.pdf",
                           str(outside))
    assert outside.is_file()


# -- the sweep ----------------------------------------------------------------------------------

def test_the_sweep_finds_every_model_that_names_stored_files():
    found = {(model._meta.label, field) for model, field in storage.path_references()}
    assert {("assistance.Attachment", "storage_path"), ("assistance.Attachment", "thumbnail_path"),
            ("visits.VisitPhoto", "storage_path"), ("visits.VisitPhoto", "thumbnail_path")} <= found


def test_the_sweep_deletes_an_old_orphan_and_keeps_named_files(worker, draft, settings):
    attachment = add(worker, draft)
    named = [on_disk(settings, attachment.storage_path),
             on_disk(settings, attachment.thumbnail_path)]
    orphan = storage.store_upload(upload("lost.jpg", jpeg_bytes()))  # a row that never came
    orphans = [on_disk(settings, orphan.storage_path), on_disk(settings, orphan.thumbnail_path)]
    for path in named + orphans:
        age(path, 48)
    orphan_bytes = sum(p.stat().st_size for p in orphans)

    out = sweep()

    assert all(p.is_file() for p in named)
    assert not any(p.exists() for p in orphans)
    assert f"已删除 2 个，共 {orphan_bytes} 字节" in out
    assert f"deleted 2 orphan files, {orphan_bytes} bytes" in out
    event = AuditEvent.objects.get(action="storage.sweep")
    assert event.actor_id is None
    assert event.changes == {"older_than_hours": 24, "scanned": 4, "recent": 0, "referenced": 2,
                             "orphans": 2, "orphan_bytes": orphan_bytes, "skipped": 0,
                             "failed": 0}
    assert orphan.storage_path not in str(event.changes)


def test_the_sweep_removes_what_a_rolled_back_request_left_behind(worker, draft, settings,
                                                                   monkeypatch):
    # Without the rollback guard (e.g. the process died before the rollback), the sweep is the
    # safety net.
    monkeypatch.setattr(storage, "discard_on_rollback", lambda *paths, using=None: None)
    attachment = rolled_back(lambda: add(worker, draft, "scan.pdf", PDF_BYTES))
    left = on_disk(settings, attachment.storage_path)
    assert left.is_file()
    age(left, 25)
    sweep()
    assert not left.exists()


def test_the_sweep_keeps_a_fresh_orphan_an_upload_in_flight(settings):
    fresh = storage.store_upload(upload("scan.pdf", PDF_BYTES))
    path = on_disk(settings, fresh.storage_path)
    age(path, 23)
    out = sweep("--older-than-hours", "24")
    assert path.is_file()
    assert "不足 24 小时未检查 1" in out
    assert AuditEvent.objects.get(action="storage.sweep").changes["orphans"] == 0


def test_a_dry_run_lists_orphans_and_deletes_nothing(settings):
    orphan = storage.store_upload(upload("scan.pdf", PDF_BYTES))
    path = on_disk(settings, orphan.storage_path)
    age(path, 100)
    out = sweep("--dry-run")
    assert path.is_file()
    assert orphan.storage_path in out
    assert "可删除（试运行，未删除） 1 个" in out
    assert not AuditEvent.objects.filter(action="storage.sweep").exists()


def test_the_sweep_never_follows_a_symlink_out_of_the_root(settings, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.pdf"
    secret.write_bytes(PDF_BYTES)
    age(secret, 100)
    month = Path(settings.PRIVATE_MEDIA_ROOT) / storage.SUBDIR / "2020" / "01"
    month.mkdir(parents=True)
    (month / "link.pdf").symlink_to(secret)
    (month / "linked_dir").symlink_to(outside, target_is_directory=True)
    Path(settings.PRIVATE_MEDIA_ROOT, storage.VISIT_PHOTOS).symlink_to(
        outside, target_is_directory=True)

    sweep("--older-than-hours", "1")

    assert secret.is_file()
    assert (month / "link.pdf").is_symlink()
    assert (month / "linked_dir").is_symlink()
    changes = AuditEvent.objects.get(action="storage.sweep").changes
    assert (changes["scanned"], changes["skipped"], changes["orphans"]) == (0, 3, 0)


def test_a_file_swapped_for_a_symlink_before_deletion_is_left_alone(settings, tmp_path):
    outside = tmp_path / "secret.pdf"
    outside.write_bytes(PDF_BYTES)
    relative = f"{storage.SUBDIR}/2020/01/x.pdf"
    path = Path(settings.PRIVATE_MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True)
    path.symlink_to(outside)
    assert storage._delete_if_still_old(relative, time.time()) is False
    assert outside.is_file()
    assert path.is_symlink()


def test_the_sweep_works_through_many_files_in_batches(worker, draft, settings, monkeypatch):
    monkeypatch.setattr(storage, "SWEEP_BATCH", 2)
    kept = [add(worker, draft, f"a{n}.pdf", PDF_BYTES) for n in range(3)]
    lost = [storage.store_upload(upload(f"b{n}.pdf", PDF_BYTES)) for n in range(4)]
    for path in files_under(settings.PRIVATE_MEDIA_ROOT):
        age(path, 30)
    sweep()
    left = {p.relative_to(settings.PRIVATE_MEDIA_ROOT).as_posix()
            for p in files_under(settings.PRIVATE_MEDIA_ROOT)}
    assert left == {a.storage_path for a in kept}
    assert not left & {s.storage_path for s in lost}


def test_a_real_sweep_first_flushes_the_queue_a_dry_run_does_not(settings):
    fresh = storage.store_upload(upload("scan.pdf", PDF_BYTES))  # its transaction rolls back
    drop_guard(fresh.storage_path)
    path = on_disk(settings, fresh.storage_path)
    sweep("--dry-run")
    assert path.is_file()
    sweep()
    assert not path.exists()  # fresh, but queued and named by no row
    assert queued() == set()


def test_the_sweep_refuses_a_threshold_under_an_hour(settings):
    orphan = storage.store_upload(upload("scan.pdf", PDF_BYTES))
    path = on_disk(settings, orphan.storage_path)
    age(path, 10)
    with pytest.raises(CommandError, match="1 小时以前"):
        sweep("--older-than-hours", "0")
    assert path.is_file()
    assert not AuditEvent.objects.filter(action="storage.sweep").exists()
