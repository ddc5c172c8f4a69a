"""The background export task (django-tasks): run the job's registered kind's export function
(``exports.kinds``) as the user who asked, into the job's file under
PRIVATE_MEDIA_ROOT/exports/jobs/.

The export functions (the member roster's, the two ledgers' …) keep doing
everything they do on a direct download: the scope, the masking, the reveal right over each
member's unit and their own audit event. The task only re-loads the user (an account disabled
since the request fails the job), records progress on the job row for the job page, and marks
the job done or failed. A worker killed mid-run leaves the job running: ``export_jobs_cleanup``
fails it after ``MAX_RUNTIME``. A failure shows the user a Chinese message; the traceback goes only to
the log, whose filter redacts ID numbers and phones.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from unionaid.accounts.models import User
from unionaid.core.errors import NotFound, ServiceError
from unionaid.exports import kinds
from unionaid.exports.models import ExportJob, ExportJobStatus
from unionaid.org.models import OrgUnit

logger = logging.getLogger(__name__)

EXPORT_DIR = "exports"
JOB_DIR = f"{EXPORT_DIR}/jobs"
LIFETIME = dt.timedelta(hours=24)
# A job running longer than this is taken for one whose worker died: cleanup fails it.
MAX_RUNTIME = dt.timedelta(hours=6)


def private_root() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT)


def job_file(job: ExportJob) -> Path | None:
    return private_root() / job.file_path if job.file_path else None


class _Progress:
    """Publishes the rows written so far on the job row (the exports write no transaction
    while they stream, so the update is seen at once)."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        # SQLite: a write on the connection that is streaming the export's rows (an open read
        # of the same database) fails with "database is locked"; the page then shows the count
        # when the job is done, as the import page does while writing.
        self.live = connection.vendor != "sqlite"

    def __call__(self, done: int, total: int = 0) -> None:
        if self.live:
            counts = {"row_count": done, **({"total": total} if total else {})}
            ExportJob.objects.filter(pk=self.job_id).update(**counts)


def _unit(params: dict) -> OrgUnit | None:
    if not params.get("unit"):
        return None
    unit = OrgUnit.objects.filter(pk=params["unit"]).first()
    if unit is None:
        raise NotFound()
    return unit


def _run(job: ExportJob, user, path: Path):
    export_kind = kinds.kind_or_none(job.kind)
    if export_kind is None:  # asked for while registered, not any more (a domain removed)
        raise ServiceError(_("不再支持该导出内容，导出未执行。"), code="unknown_kind")
    params = job.params or {}
    return export_kind.write(actor=user, unit=_unit(params), params=params, path=path,
                             progress=_Progress(job.pk))


def _fail(job_id: int, message: str) -> None:
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportJobStatus.FAILED, finished_at=timezone.now(), file_path="",
        error_message=message[:500],
    )


@task()
def run_export_job(job_id: int) -> dict:
    """Run one queued export. A job already started (a second delivery) or cancelled is left
    alone."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJobStatus.QUEUED).update(
        status=ExportJobStatus.RUNNING, started_at=timezone.now(),
    )
    if not claimed:
        return {"job": job_id, "skipped": True}
    job = ExportJob.objects.get(pk=job_id)
    path = job_file(job)
    if path is None:  # every job is made with its path; a row edited by hand has none
        _fail(job_id, _("系统内部错误，请联系系统管理员。"))
        return {"job": job_id}
    try:
        # A fresh user object: its rights are computed now, not when the job was asked for.
        user = User.objects.filter(pk=job.created_by_id).first()
        if user is None or not user.is_active:
            raise ServiceError(_("申请导出的账号已停用，导出未执行。"), code="user_inactive")
        path.parent.mkdir(parents=True, exist_ok=True)
        result = _run(job, user, path)
        finished = timezone.now()
        # Only a job still running: one ``export_jobs_cleanup`` gave up on meanwhile stays
        # failed, and its file goes.
        done = ExportJob.objects.filter(pk=job_id, status=ExportJobStatus.RUNNING).update(
            status=ExportJobStatus.DONE, finished_at=finished, expires_at=finished + LIFETIME,
            row_count=result.count, total=result.count, revealed_count=result.revealed_count,
            file_name=result.download_name[:255],
        )
        if not done:
            path.unlink(missing_ok=True)
    except NotFound:
        path.unlink(missing_ok=True)
        _fail(job_id, _("所选单位不存在或已不在您的管辖范围内，导出未执行。"))
    except ServiceError as exc:
        path.unlink(missing_ok=True)
        _fail(job_id, exc.message)
    except Exception:
        logger.exception("export job %s (%s) failed", job_id, job.kind)
        path.unlink(missing_ok=True)
        _fail(job_id, _("系统内部错误，请联系系统管理员。"))
    return {"job": job_id}
