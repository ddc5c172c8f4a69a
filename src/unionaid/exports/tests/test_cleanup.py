"""``exports_cleanup`` deletes expired export files only, fails jobs whose worker died, and always
journals what it did; the upload sweep never walks exports/."""

from __future__ import annotations

import datetime as dt
import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from unionaid.assistance import storage
from unionaid.audit.models import AuditEvent
from unionaid.exports import services, tasks
from unionaid.exports.models import ExportJob, ExportJobStatus
from unionaid.exports.services import export_job_create, export_jobs_cleanup
from unionaid.exports.tests.support import Kinds
from unionaid.members import exporting  # the roster kind calls it through the module


def make_job(actor, *, status, expires_in_hours: float, name: str, with_file=True,
             started_hours_ago: float | None = None) -> ExportJob:
    now = timezone.now()
    job = ExportJob.objects.create(
        kind=Kinds.MEMBERS, created_by=actor, status=status,
        expires_at=now + dt.timedelta(hours=expires_in_hours),
        started_at=None if started_hours_ago is None
        else now - dt.timedelta(hours=started_hours_ago),
        file_path=f"exports/jobs/2026/01/{name}.xlsx",
    )
    if with_file:
        path = tasks.job_file(job)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"xlsx")
    return job


def age(path, hours: float) -> None:
    then = (timezone.now() - dt.timedelta(hours=hours)).timestamp()
    os.utime(path, (then, then))


def test_cleanup_deletes_expired_files_only(personas):
    user = personas.station_cadre
    expired = make_job(user, status=ExportJobStatus.DONE, expires_in_hours=-1, name="expired")
    fresh = make_job(user, status=ExportJobStatus.DONE, expires_in_hours=5, name="fresh")
    running = make_job(user, status=ExportJobStatus.RUNNING, expires_in_hours=20, name="running",
                       started_hours_ago=1)
    stale_queue = make_job(user, status=ExportJobStatus.QUEUED, expires_in_hours=-1,
                           name="queued", with_file=False)
    exports = tasks.private_root() / "exports"
    orphan_old = exports / "tmpold.xlsx"  # a direct export whose worker was killed
    orphan_new = exports / "tmpnew.xlsx"  # a direct export being written right now
    other = exports / "notes.txt"
    for path in (orphan_old, orphan_new, other):
        path.write_bytes(b"x")
    age(orphan_old, 30)
    age(other, 30)
    age(tasks.job_file(fresh), 30)  # old on disk, but its job has not expired
    expired_path = tasks.job_file(expired)

    out = StringIO()
    call_command("exports_cleanup", stdout=out)

    assert not expired_path.exists()
    assert tasks.job_file(fresh).exists()
    assert tasks.job_file(running).exists()
    assert not orphan_old.exists()
    assert orphan_new.exists()
    assert other.exists()
    expired.refresh_from_db()
    assert expired.file_path == ""
    assert expired.status == ExportJobStatus.DONE  # the row stays, shown as expired
    fresh.refresh_from_db()
    assert fresh.file_path
    stale_queue.refresh_from_db()
    assert stale_queue.status == ExportJobStatus.FAILED
    assert "已取消" in stale_queue.error_message
    event = AuditEvent.objects.get(action="export.cleanup")
    assert event.changes == {"deleted": 1, "orphans": 1, "cancelled": 1, "stuck": 0}
    assert event.outcome == "ok"
    assert "已删除过期导出文件 1 个" in out.getvalue()


def test_a_cancelled_queued_job_is_not_run_later(personas, roll,
                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = export_job_create(actor=personas.station_cadre, kind=Kinds.MEMBERS,
                                params={})
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now())
    call_command("exports_cleanup", stdout=StringIO())

    for callback in callbacks:
        callback()

    job.refresh_from_db()
    assert job.status == ExportJobStatus.FAILED
    assert not AuditEvent.objects.filter(action="member.export").exists()


def test_the_upload_sweep_never_walks_the_exports_folder(personas, settings):
    assert "exports" not in storage.READABLE
    job = make_job(personas.station_cadre, status=ExportJobStatus.DONE, expires_in_hours=5,
                   name="kept")
    orphan = tasks.private_root() / "exports" / "unnamed.xlsx"
    orphan.write_bytes(b"x")
    for path in (tasks.job_file(job), orphan):
        age(path, 48)

    result = storage.storage_sweep(actor=None, older_than_hours=24)

    assert tasks.job_file(job).exists()
    assert orphan.exists()
    assert result.scanned == 0


@pytest.mark.parametrize(("started_hours_ago", "expires_in_hours"), [
    (7, 17),  # running longer than the longest export may
    (72, -48),  # the reviewer's case: started days ago, long expired
    (None, -1),  # never stamped as started, expired
])
def test_a_running_job_whose_worker_died_is_failed_and_its_file_deleted(
        personas, started_hours_ago, expires_in_hours):
    user = personas.station_cadre
    stuck = make_job(user, status=ExportJobStatus.RUNNING, expires_in_hours=expires_in_hours,
                     name="stuck", started_hours_ago=started_hours_ago)
    busy = make_job(user, status=ExportJobStatus.RUNNING, expires_in_hours=23, name="busy",
                    started_hours_ago=5)
    stuck_path = tasks.job_file(stuck)
    age(stuck_path, 100)

    result = export_jobs_cleanup()

    assert result.stuck == 1
    stuck.refresh_from_db()
    assert stuck.status == ExportJobStatus.FAILED
    assert stuck.error_message == "导出任务运行超时，可能已中断，请重新导出。"
    assert stuck.file_path == ""
    assert stuck.finished_at is not None
    assert not stuck_path.exists()
    busy.refresh_from_db()
    assert busy.status == ExportJobStatus.RUNNING
    assert tasks.job_file(busy).exists()
    event = AuditEvent.objects.get(action="export.cleanup")
    assert event.changes["stuck"] == 1
    assert event.outcome == "ok"


def test_a_worker_finishing_a_job_cleanup_gave_up_on_leaves_it_failed(
        personas, roll, monkeypatch, django_capture_on_commit_callbacks):
    real_export = exporting.export_members

    def slow_export(**kwargs):
        result = real_export(**kwargs)
        export_jobs_cleanup(now=timezone.now() + tasks.MAX_RUNTIME + dt.timedelta(minutes=1))
        return result

    monkeypatch.setattr(exporting, "export_members", slow_export)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_create(actor=personas.station_cadre, kind=Kinds.MEMBERS,
                                params={})

    job.refresh_from_db()
    assert job.status == ExportJobStatus.FAILED
    assert job.file_path == ""
    assert "运行超时" in job.error_message
    assert not list((tasks.private_root() / "exports").rglob("*.xlsx"))
    assert AuditEvent.objects.get(action="export.cleanup").changes["stuck"] == 1


def test_a_file_vanishing_while_the_folder_is_walked_is_skipped(personas, monkeypatch):
    exports = tasks.private_root() / "exports"
    exports.mkdir(parents=True)
    orphan = exports / "tmpold.xlsx"
    vanishing = exports / "tmpgone.xlsx"  # a direct export deleting its own file meanwhile
    for path in (orphan, vanishing):
        path.write_bytes(b"x")
        age(path, 30)
    real_walk = os.walk

    def walk_while_deleting(top, *args, **kwargs):
        for folder, dirs, files in real_walk(top, *args, **kwargs):
            vanishing.unlink(missing_ok=True)
            yield folder, dirs, files

    monkeypatch.setattr(services.os, "walk", walk_while_deleting)

    result = export_jobs_cleanup()

    assert result.orphans == 1
    assert not orphan.exists()
    event = AuditEvent.objects.get(action="export.cleanup")
    assert event.outcome == "ok"
    assert event.changes["orphans"] == 1


def test_the_cleanup_event_is_written_when_a_step_fails(personas, monkeypatch):
    user = personas.station_cadre
    expired = make_job(user, status=ExportJobStatus.DONE, expires_in_hours=-1, name="expired")
    make_job(user, status=ExportJobStatus.QUEUED, expires_in_hours=-1, name="queued",
             with_file=False)

    def broken(cutoff, named):
        raise PermissionError("exports folder not readable")

    monkeypatch.setattr(services, "_orphans", broken)

    with pytest.raises(PermissionError):
        export_jobs_cleanup()

    expired.refresh_from_db()
    assert expired.file_path == ""
    event = AuditEvent.objects.get(action="export.cleanup")
    assert event.outcome == "failed"
    assert event.changes == {"deleted": 1, "orphans": 0, "cancelled": 1, "stuck": 0}
