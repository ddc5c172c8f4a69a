"""Background exports: ask for one (``export_job_create``), download its file
(``export_job_download``), and delete expired files (``export_jobs_cleanup``).

``export_job_create`` checks up front what the export function itself will check again when the
task runs (the right, the reveal right, the unit in scope, a sane period), so the user hears
"no" at once; the task then calls the same export function a direct download calls, as the
same user, and that function remains the authority on scope, masking and its own audit event.
A user has at most ``MAX_ACTIVE`` jobs queued or running at a time.

The file is made once but may be downloaded for a day, so the download checks again that the
user still covers everything the file may contain: the chosen unit, or else every grant root
recorded when the job was asked for (``scope_roots``; with the reveal right's roots when the
file holds full numbers). A user moved to another unit in the same role gets nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.accounts.access import Access, access_for
from unionaid.accounts.models import DataScope, User
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.core.logging import redact
from unionaid.exports import kinds
from unionaid.exports.models import ExportJob, ExportJobStatus
from unionaid.exports.tasks import (
    EXPORT_DIR,
    JOB_DIR,
    LIFETIME,
    MAX_RUNTIME,
    job_file,
    private_root,
    run_export_job,
)
from unionaid.members.selectors import record_denial
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import unit_get_for_user

MAX_ACTIVE = 2  # queued or running jobs per user
ACTIVE = (ExportJobStatus.QUEUED, ExportJobStatus.RUNNING)


class Gone(ServiceError):
    status = 410
    default_code = "expired"
    default_message = gettext_lazy("导出文件已过期并已删除（保留 24 小时），请重新导出。")


def scope_roots(access: Access, perm: str, unit: OrgUnit | None) -> list[dict]:
    """The parts of the tree an export with ``perm`` may draw from, as roots to record on the
    job: the user's grants of ``perm`` (a self-only grant covers no unit), or, inside ``unit``,
    the grants lying within it and the unit itself for a grant covering it."""
    roots: list[dict] = []

    def add(scope: str, unit_id, unit_path: str) -> None:
        root = {"perm": perm, "scope": scope, "unit_id": unit_id, "unit_path": unit_path}
        if root not in roots:
            roots.append(root)

    for grant in access.grants_for(perm):
        if grant.scope == DataScope.SELF:
            continue
        if unit is None or (grant.scope != DataScope.ALL
                            and grant.unit_path.startswith(unit.path)):
            add(grant.scope, grant.unit_id, grant.unit_path)
        elif grant.scope == DataScope.ALL or (grant.scope == DataScope.UNIT_AND_BELOW
                                              and unit.path.startswith(grant.unit_path)):
            add(DataScope.UNIT_AND_BELOW, unit.pk, unit.path)
    return roots


def _still_covered(access: Access, roots: list[dict]) -> bool:
    """Does ``access`` still cover every recorded root, each at least as widely as then?"""
    return all(
        access.covers_scope(root["perm"],
                            SimpleNamespace(pk=root["unit_id"], path=root["unit_path"]),
                            root["scope"])
        for root in roots
    )


def _too_many_exports() -> Conflict:
    return Conflict(
        _("您已有 %(count)d 个导出正在排队或进行中，请等其中一个完成后再申请。")
        % {"count": MAX_ACTIVE}, code="too_many_exports")


@transaction.atomic
def export_job_create(*, actor, kind: str, params: dict) -> ExportJob:
    """Check an export request as the direct export would (the registered kind's ``clean``),
    record it, and queue its task once the job row is committed. ``params``: ``unit`` (id or
    unit, optional) and what the kind reads (e.g. ``q`` and ``reveal`` for the member roster,
    ``start`` and ``end`` for the ledgers). A kind nobody registered → ``unknown_kind``."""
    export_kind = kinds.kind_for(kind)
    params = params or {}
    clean, unit = export_kind.clean(actor=actor, params=params)
    # The user's row serialises their concurrent requests (PostgreSQL), so the count holds.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    if ExportJob.objects.filter(created_by_id=actor.pk, status__in=ACTIVE).count() >= MAX_ACTIVE:
        raise _too_many_exports()
    access = access_for(actor)
    roots = scope_roots(access, export_kind.permission, unit)
    if clean.get("reveal"):
        roots += scope_roots(access, export_kind.reveal_permission, unit)
    now = timezone.now()
    job = ExportJob.objects.create(
        kind=kind, created_by=actor, params=clean, scope_roots=roots,
        expires_at=now + LIFETIME, file_path=f"{JOB_DIR}/{now:%Y/%m}/{uuid.uuid4().hex}.xlsx",
    )
    changes = {"kind": kind, **clean}
    changes.pop("unit", None)
    if "q" in changes:
        changes["q"] = redact(changes["q"])
    audit_record(actor=actor, action="export.job_create", target=job,
                 org_unit_path=unit.path if unit else "", changes=changes)
    transaction.on_commit(lambda: run_export_job.enqueue(job.pk))
    return job


class _Refused(Exception):
    """A download refused for the user's rights: journaled once the download's transaction
    has been rolled back, then raised as ``error``."""

    def __init__(self, job: ExportJob, error: ServiceError):
        super().__init__(error.message)
        self.job, self.error = job, error


def export_job_download(*, actor, job: ExportJob):
    """Open the finished job's file for its requester, who must still hold the right to make
    that export over all it may contain; record the download. Returns the open binary file.

    The requester no longer covering the job's unit gets NotFound, as for anyone else's job;
    no longer covering the scope the job was made in (``scope_roots``) or no longer holding the
    right gets PermissionDenied. Each refusal is journaled (``outcome="denied"``). A job whose
    kind is no longer registered is not found."""
    try:
        return _download(actor=actor, job=job)
    except _Refused as refused:
        if isinstance(refused.error, NotFound):
            record_denial(user=actor, target_type="exports.exportjob",
                          target_id=refused.job.pk, action="exports.download")
        else:
            with transaction.atomic():
                audit_record(actor=actor, action="export.download", outcome="denied",
                             target=refused.job, changes={"reason": refused.error.code,
                                                          "kind": refused.job.kind})
        raise refused.error from None


@transaction.atomic
def _download(*, actor, job: ExportJob):
    job = ExportJob.objects.select_for_update().get(pk=job.pk)
    if job.created_by_id != actor.pk:  # callers pass a job from export_job_get_for_user
        raise PermissionDenied()
    if job.status != ExportJobStatus.DONE:
        raise Conflict(_("导出尚未完成，完成后才能下载。"), code="not_ready")
    export_kind = kinds.kind_or_none(job.kind)
    if export_kind is None:
        raise NotFound()
    perm, reveal = export_kind.permission, export_kind.reveal_permission
    access = access_for(actor)
    if not access.has_perm(perm) or (job.revealed_count
                                      and not (reveal and access.has_perm(reveal))):
        raise _Refused(job, PermissionDenied(_("您已没有导出这些数据的权限，不能下载。")))
    unit_id = (job.params or {}).get("unit")
    if unit_id:
        try:
            unit_get_for_user(user=actor, pk=unit_id, perm=perm)
        except NotFound:
            raise _Refused(job, NotFound()) from None
    roots = [root for root in job.scope_roots or []
             if root["perm"] != reveal or job.revealed_count]
    # A job for the whole scope always has roots; none recorded (a job made before they
    # were) cannot be checked and is refused.
    if not _still_covered(access, roots) or (not unit_id and not roots):
        raise _Refused(job, PermissionDenied(
            _("您的管辖范围已变更，不再包含这份导出的全部数据，不能下载；请重新导出。"),
            code="scope_changed"))
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
    stuck: int = 0  # running jobs given up on: their worker died (running too long, or expired)


def _orphans(cutoff: float, named: set[str]) -> list[Path]:
    """Old .xlsx files under exports/ that no job names: left by a direct export whose worker
    was killed before it could delete its temporary file. Symlinks are never followed; a file
    gone while the folder is walked (a direct export deleting its own) is skipped."""
    root = private_root()
    top = root / EXPORT_DIR
    if not top.is_dir() or top.is_symlink():
        return []
    found = []
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
        for name in files:
            path = Path(folder) / name
            if (path.suffix != ".xlsx" or path.is_symlink()
                    or path.relative_to(root).as_posix() in named):
                continue
            try:
                modified = path.stat().st_mtime
            except FileNotFoundError:
                continue
            if modified < cutoff:
                found.append(path)
    return found


def _fail_stuck(now: dt.datetime) -> int:
    """Fail the running jobs whose worker must have died (running for longer than
    ``MAX_RUNTIME``, or past their expiry) and delete their partial files. A job its worker
    finishes meanwhile is left done; a worker finishing one failed here deletes its file."""
    stuck = ExportJob.objects.filter(
        Q(started_at__lt=now - MAX_RUNTIME) | Q(expires_at__lte=now),
        status=ExportJobStatus.RUNNING,
    )
    count = 0
    for job in list(stuck.only("pk", "file_path")):
        failed = ExportJob.objects.filter(pk=job.pk, status=ExportJobStatus.RUNNING).update(
            status=ExportJobStatus.FAILED, finished_at=now, file_path="",
            error_message=_("导出任务运行超时，可能已中断，请重新导出。"),
        )
        if failed:
            if job.file_path:
                (private_root() / job.file_path).unlink(missing_ok=True)
            count += 1
    return count


def export_jobs_cleanup(*, actor=None, now: dt.datetime | None = None) -> CleanupResult:
    """Delete the files of expired jobs (the rows stay, without a file), cancel queued jobs
    that expired before they ran, fail running jobs whose worker died (``MAX_RUNTIME``) and
    delete their files, and delete old unnamed files under exports/. One ``export.cleanup``
    audit event with the counts, written even when a step fails (then with the counts so far
    and ``outcome="failed"``, and the error is raised)."""
    now = now or timezone.now()
    result = CleanupResult()
    outcome = "failed"
    try:
        with transaction.atomic():
            result.cancelled = ExportJob.objects.filter(
                status=ExportJobStatus.QUEUED, expires_at__lte=now,
            ).update(status=ExportJobStatus.FAILED, finished_at=now, file_path="",
                     error_message=_("导出任务等待超时，已取消，请重新导出。"))
        result.stuck = _fail_stuck(now)
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
        outcome = "ok"
    finally:
        with transaction.atomic():
            audit_record(actor=actor, action="export.cleanup", target_type="exports.exportjob",
                         outcome=outcome,
                         changes={"deleted": result.deleted, "orphans": result.orphans,
                                  "cancelled": result.cancelled, "stuck": result.stuck})
    return result
