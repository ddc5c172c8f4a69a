"""Background exports: ask for one (``export_job_create``), download its file
(``export_job_download``), and delete expired files (``export_jobs_cleanup``).

``export_job_create`` checks up front what the export function itself will check again when the
task runs (the right, the reveal right, the unit in scope, a sane period), so the user hears
"no" at once; the task then calls the same export function a direct download calls, as the
same user, and that function remains the authority on scope, masking and its own audit event.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.accounts.access import access_for
from unionaid.archive.ledgers import archive_ledger, check_export, visit_ledger
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.core.logging import redact
from unionaid.core.masking import looks_like_identifier
from unionaid.exports.models import ExportJob, ExportJobStatus, ExportKind
from unionaid.exports.tasks import (
    EXPORT_DIR,
    JOB_DIR,
    LIFETIME,
    job_file,
    private_root,
    run_export_job,
)
from unionaid.members import exporting
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import unit_get_for_user

# The right each kind needs, the one its export function checks.
KIND_PERMS = {
    ExportKind.MEMBERS: exporting.PERM,
    ExportKind.ARCHIVE_LEDGER: archive_ledger.PERM,
    ExportKind.VISITS_LEDGER: visit_ledger.PERM,
}
REVEAL = exporting.REVEAL
MAX_QUERY = 100


class Gone(ServiceError):
    status = 410
    default_code = "expired"
    default_message = gettext_lazy("导出文件已过期并已删除（保留 24 小时），请重新导出。")


def _identifier_refused() -> ServiceError:
    message = _("后台导出只能按姓名筛选，不能按身份证号或手机号筛选；请改用直接导出。")
    return ServiceError(message, code="identifier_in_query", fields={"q": message})


def _unit(actor, perm: str, unit_id) -> OrgUnit | None:
    if unit_id in (None, ""):
        return None
    if isinstance(unit_id, OrgUnit):
        unit_id = unit_id.pk
    return unit_get_for_user(user=actor, pk=unit_id, perm=perm)  # out of scope: NotFound


def _date(params: dict, key: str) -> dt.date:
    value = params.get(key)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        message = _("请填写开始日期和结束日期。")
        raise ServiceError(message, code="invalid_period", fields={key: message}) from None


def _members_params(actor, params: dict) -> tuple[dict, OrgUnit | None]:
    query = str(params.get("q") or "").strip()[:MAX_QUERY]
    if looks_like_identifier(query):
        raise _identifier_refused()
    reveal = bool(params.get("reveal"))
    exporting.check_export(actor=actor, reveal=reveal)  # the export's own checks and messages
    unit = _unit(actor, exporting.PERM, params.get("unit"))  # out of scope: not found
    return {"unit": unit.pk if unit else None, "unit_name": unit.name if unit else "",
            "q": query, "reveal": reveal}, unit


def _ledger_params(actor, kind: str, params: dict) -> tuple[dict, OrgUnit | None]:
    perm = KIND_PERMS[kind]
    start, end = _date(params, "start"), _date(params, "end")
    unit = _unit(actor, perm, params.get("unit"))
    check_export(actor=actor, perm=perm, unit=unit, start=start, end=end)
    reveal = kind == ExportKind.ARCHIVE_LEDGER and bool(params.get("reveal"))
    if reveal and not access_for(actor).has_perm(archive_ledger.REVEAL):
        raise PermissionDenied(_("您无权导出完整的证件号和手机号。"))
    return {"unit": unit.pk if unit else None, "unit_name": unit.name if unit else "",
            "start": start.isoformat(), "end": end.isoformat(), "reveal": reveal}, unit


@transaction.atomic
def export_job_create(*, actor, kind: str, params: dict) -> ExportJob:
    """Check an export request as the direct export would, record it, and queue its task
    once the job row is committed. ``params``: ``unit`` (id or unit, optional), and ``q`` and
    ``reveal`` for members, ``start``, ``end`` (and ``reveal`` for the archive ledger) for the
    ledgers."""
    if kind not in KIND_PERMS:
        raise ServiceError(_("不支持的导出内容。"), code="validation_error",
                           fields={"kind": _("不支持的导出内容。")})
    params = params or {}
    if kind == ExportKind.MEMBERS:
        clean, unit = _members_params(actor, params)
    else:
        clean, unit = _ledger_params(actor, kind, params)
    now = timezone.now()
    job = ExportJob.objects.create(
        kind=kind, created_by=actor, params=clean, expires_at=now + LIFETIME,
        file_path=f"{JOB_DIR}/{now:%Y/%m}/{uuid.uuid4().hex}.xlsx",
    )
    changes = {"kind": kind, **clean}
    changes.pop("unit", None)
    if "q" in changes:
        changes["q"] = redact(changes["q"])
    audit_record(actor=actor, action="export.job_create", target=job,
                 org_unit_path=unit.path if unit else "", changes=changes)
    transaction.on_commit(lambda: run_export_job.enqueue(job.pk))
    return job


@transaction.atomic
def export_job_download(*, actor, job: ExportJob):
    """Open the finished job's file for its requester, who must still hold the right to make
    that export; record the download. Returns the open binary file."""
    job = ExportJob.objects.select_for_update().get(pk=job.pk)
    if job.created_by_id != actor.pk:  # callers pass a job from export_job_get_for_user
        raise PermissionDenied()
    if job.status != ExportJobStatus.DONE:
        raise Conflict(_("导出尚未完成，完成后才能下载。"), code="not_ready")
    access = access_for(actor)
    if not access.has_perm(KIND_PERMS[job.kind]) or (
            job.revealed_count and not access.has_perm(REVEAL)):
        raise PermissionDenied(_("您已没有导出这些数据的权限，不能下载。"))
    path = job_file(job)
    if job.is_expired or path is None:
        raise Gone()
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise Gone() from None
    job.downloaded_at = timezone.now()
    job.save(update_fields=["downloaded_at"])
    audit_record(actor=actor, action="export.download", target=job,
                 changes={"kind": job.kind, "count": job.row_count,
                          "revealed_count": job.revealed_count})
    return handle


@dataclass
class CleanupResult:
    deleted: int = 0  # files of expired jobs
    orphans: int = 0  # files under exports/ that no job names, older than a day
    cancelled: int = 0  # queued jobs that expired before any worker ran them


def _orphans(cutoff: float, named: set[str]) -> list[Path]:
    """Old .xlsx files under exports/ that no job names: left by a direct export whose worker
    was killed before it could delete its temporary file. Symlinks are never followed."""
    root = private_root()
    top = root / EXPORT_DIR
    if not top.is_dir() or top.is_symlink():
        return []
    found = []
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
        for name in files:
            path = Path(folder) / name
            if (path.suffix == ".xlsx" and not path.is_symlink()
                    and path.relative_to(root).as_posix() not in named
                    and path.stat().st_mtime < cutoff):
                found.append(path)
    return found


def export_jobs_cleanup(*, actor=None, now: dt.datetime | None = None) -> CleanupResult:
    """Delete the files of expired jobs (the rows stay, without a file), cancel queued jobs
    that expired before they ran, and delete old unnamed files under exports/. Running jobs
    are left alone. One ``export.cleanup`` audit event with the counts."""
    now = now or timezone.now()
    result = CleanupResult()
    with transaction.atomic():
        result.cancelled = ExportJob.objects.filter(
            status=ExportJobStatus.QUEUED, expires_at__lte=now,
        ).update(status=ExportJobStatus.FAILED, finished_at=now, file_path="",
                 error_message=_("导出任务等待超时，已取消，请重新导出。"))
    expired = ExportJob.objects.filter(
        expires_at__lte=now, status__in=[ExportJobStatus.DONE, ExportJobStatus.FAILED],
    ).exclude(file_path="")
    for job in expired.only("pk", "file_path").iterator():
        (private_root() / job.file_path).unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(file_path="")
        result.deleted += 1
    named = set(ExportJob.objects.exclude(file_path="").values_list("file_path", flat=True))
    for path in _orphans((now - LIFETIME).timestamp(), named):
        path.unlink(missing_ok=True)
        result.orphans += 1
    with transaction.atomic():
        audit_record(actor=actor, action="export.cleanup", target_type="exports.exportjob",
                     changes={"deleted": result.deleted, "orphans": result.orphans,
                              "cancelled": result.cancelled})
    return result
