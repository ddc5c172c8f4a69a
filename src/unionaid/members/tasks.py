"""Roster imports as background jobs (django-tasks): upload, run with progress, see the result.

``import_job_create`` stores the upload under PRIVATE_MEDIA_ROOT/imports/ and enqueues
``run_import_job`` once the job row is committed. The task records progress on the job row so
the job page can poll it. While the rows are being written inside the import's transaction the
job row can only be updated from a second connection, which only PostgreSQL allows alongside an
open write transaction; on SQLite the page shows "writing" until the commit.

The uploaded file holds clear ID numbers, so it is deleted as soon as it is no longer needed:
after a real import, after a failed run, and after a check that found errors. A clean check
keeps it so that "import now" needs no second upload.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from unionaid.accounts.access import access_for
from unionaid.accounts.models import DataScope
from unionaid.audit.scoped import get_in_scope, scoped_getter
from unionaid.audit.services import audit_record
from unionaid.core.errors import PermissionDenied, ServiceError
from unionaid.members import roster_files
from unionaid.members.importing import PERM, import_roster, read_limits
from unionaid.members.models import ImportJob, ImportJobStage, ImportJobStatus
from unionaid.org.models import OrgUnit

logger = logging.getLogger(__name__)

IMPORT_DIR = "imports"


def max_upload_bytes() -> int:
    return getattr(settings, "MEMBERS_IMPORT_MAX_BYTES", 200 * 1024 * 1024)


def _root() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT)


def job_file(job: ImportJob) -> Path | None:
    return _root() / job.stored_path if job.stored_path else None


def _delete_file(stored_path: str) -> None:
    if stored_path:
        (_root() / stored_path).unlink(missing_ok=True)


def _job_unit(actor) -> OrgUnit | None:
    """The unit a job belongs to: the highest unit of the uploader's import rights."""
    grants = access_for(actor).grants_for(PERM)
    if not grants:
        return None
    widest = min(grants, key=lambda g: (g.scope != DataScope.ALL, len(g.unit_path)))
    if widest.scope == DataScope.ALL:
        return OrgUnit.objects.filter(path=widest.unit_path[: OrgUnit.steplen]).first()
    return OrgUnit.objects.filter(pk=widest.unit_id).first()


def _invalid(message: str) -> ServiceError:
    return ServiceError(message, code="invalid_file", fields={"file": message})


def import_job_create(*, actor, upload, dry_run: bool) -> ImportJob:
    """Store an uploaded roster and queue its check or import."""
    if not access_for(actor).has_perm(PERM):
        raise PermissionDenied(_("您没有导入职工名册的权限。"))
    name = Path(upload.name or "").name[:255]
    suffix = Path(name).suffix.lower()
    if suffix not in roster_files.EXTENSIONS:
        raise _invalid(_("只支持 .xlsx 和 .csv 文件。"))
    if not upload.size:
        raise _invalid(_("文件是空的。"))
    if upload.size > max_upload_bytes():
        raise _invalid(_("文件太大，不能超过 %(mb)d MB。") % {"mb": max_upload_bytes() >> 20})
    now = timezone.now()
    stored = f"{IMPORT_DIR}/{now:%Y/%m}/{uuid.uuid4().hex}{suffix}"
    path = _root() / stored
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    problem = roster_files.check_content(path, read_limits())
    if problem:
        path.unlink(missing_ok=True)
        raise _invalid(problem)
    # The file is written before the transaction, so a failure anywhere in it (the commit
    # included) must remove the file: a roster of clear ID numbers must not stay orphaned.
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                created_by=actor, org_unit=_job_unit(actor), file_name=name,
                stored_path=stored, dry_run=dry_run,
            )
            audit_record(actor=actor, action="member.import_upload", target=job,
                         org_unit_path=job.org_unit.path if job.org_unit else "",
                         changes={"file": name, "dry_run": dry_run, "size": upload.size})
            transaction.on_commit(lambda: run_import_job.enqueue(job.pk))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return job


@transaction.atomic
def import_job_confirm(*, actor, job: ImportJob) -> ImportJob:
    """Import for real the file of a clean check, without a second upload."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if not access_for(actor).has_perm(PERM):
        raise PermissionDenied(_("您没有导入职工名册的权限。"))
    path = job_file(job)
    if (not job.dry_run or job.status != ImportJobStatus.DONE or job.error_count
            or path is None or not path.exists()):
        raise ServiceError(_("只有检查通过的文件才能直接导入，请重新上传。"), code="not_confirmable")
    new = ImportJob.objects.create(
        created_by=actor, org_unit=job.org_unit, file_name=job.file_name,
        stored_path=job.stored_path, dry_run=False, total=job.total,
    )
    job.stored_path = ""
    job.save(update_fields=["stored_path"])
    audit_record(actor=actor, action="member.import_confirm", target=new,
                 org_unit_path=new.org_unit.path if new.org_unit else "",
                 changes={"file": new.file_name, "checked_job": job.pk})
    transaction.on_commit(lambda: run_import_job.enqueue(new.pk))
    return new


def _import_jobs_q(user) -> Q:
    access = access_for(user)
    q = Q(created_by_id=user.pk)
    if access.has_perm(PERM):
        q |= access.scope_q(PERM, unit_field="org_unit", self_field="created_by__member")
    return q


def import_jobs_visible_to(*, user) -> QuerySet[ImportJob]:
    """Jobs the user uploaded, and jobs of units their own import rights cover."""
    return ImportJob.objects.filter(_import_jobs_q(user)).select_related("created_by", "org_unit")


@scoped_getter
def import_job_get_for_user(*, user, pk) -> ImportJob:
    """A job the user uploaded, or one of a unit their import rights cover (journaled if not)."""
    return get_in_scope(
        user=user, pk=pk, perm=PERM, queryset=ImportJob.objects.select_related("created_by",
                                                                               "org_unit"),
        scope=_import_jobs_q(user), target_type="members.importjob",
    )


class _JobProgress:
    """Writes (stage, done, total) to the job row at most once per batch."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.side = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage == ImportJobStage.WRITING and done:
            # Inside the import transaction: only a second connection can publish progress.
            if connection.vendor == "postgresql":
                self._side_update(stage, done, total)
            return
        ImportJob.objects.filter(pk=self.job_id).update(stage=stage, processed=done, total=total)

    def _side_update(self, stage: str, done: int, total: int) -> None:
        if self.side is None:
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        table = self.side.ops.quote_name(ImportJob._meta.db_table)
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET stage = %s, processed = %s, total = %s WHERE id = %s",  # noqa: S608
                [stage, done, total, self.job_id],
            )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def _finish(job_id: int, *, status: str, result=None, message: str = "") -> None:
    fields = {"status": status, "stage": "", "finished_at": timezone.now(), "message": message}
    if result is not None:
        fields.update(
            total=result.total, processed=result.total, created=result.created,
            error_count=result.error_count, errors=[e.as_dict() for e in result.errors],
        )
    ImportJob.objects.filter(pk=job_id).update(**fields)


@task()
def run_import_job(job_id: int) -> dict:
    """Run one queued job. A job already started (a second delivery) is left alone."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJobStatus.QUEUED).update(
        status=ImportJobStatus.RUNNING, started_at=timezone.now(), stage=ImportJobStage.CHECKING,
    )
    if not claimed:
        return {"job": job_id, "skipped": True}
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    path = job_file(job)
    progress = _JobProgress(job_id)
    keep_file = False
    try:
        if path is None or not path.exists():
            raise ServiceError(_("上传的文件已不存在，请重新上传。"), code="file_missing")
        result = import_roster(
            actor=job.created_by, path=path, dry_run=job.dry_run, progress=progress,
            file_name=job.file_name, max_errors=ImportJob.MAX_STORED_ERRORS,
        )
    except ServiceError as exc:
        _finish(job_id, status=ImportJobStatus.FAILED, message=exc.message[:500])
    except Exception:
        logger.exception("import job %s failed", job_id)
        _finish(job_id, status=ImportJobStatus.FAILED,
                message=_("导入失败：系统内部错误，请联系系统管理员。"))
    else:
        _finish(job_id, status=ImportJobStatus.DONE, result=result)
        keep_file = job.dry_run and result.ok
    finally:
        progress.close()
        if not keep_file:
            _delete_file(job.stored_path)
            ImportJob.objects.filter(pk=job_id).update(stored_path="")
    return {"job": job_id}
