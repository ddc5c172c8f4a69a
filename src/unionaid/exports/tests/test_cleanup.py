"""``exports_cleanup`` deletes expired export files only; the upload sweep never walks exports/."""

from __future__ import annotations

import datetime as dt
import os
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from unionaid.assistance import storage
from unionaid.audit.models import AuditEvent
from unionaid.exports import tasks
from unionaid.exports.models import ExportJob, ExportJobStatus, ExportKind
from unionaid.exports.services import export_job_create


def make_job(actor, *, status, expires_in_hours: float, name: str, with_file=True) -> ExportJob:
    job = ExportJob.objects.create(
        kind=ExportKind.MEMBERS, created_by=actor, status=status,
        expires_at=timezone.now() + dt.timedelta(hours=expires_in_hours),
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
    running = make_job(user, status=ExportJobStatus.RUNNING, expires_in_hours=-1, name="running")
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
    assert event.changes == {"deleted": 1, "orphans": 1, "cancelled": 1}
    assert "已删除过期导出文件 1 个" in out.getvalue()


def test_a_cancelled_queued_job_is_not_run_later(personas, roll,
                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = export_job_create(actor=personas.station_cadre, kind=ExportKind.MEMBERS,
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
