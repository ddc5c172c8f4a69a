"""Writes of the matching domain: sources, uploads, runs, review decisions and the purge.

Each service checks the actor's rights over the record's unit, runs in one transaction with
its audit event, and queues background work (``matching.tasks``) on commit. Calling one twice
changes nothing the second time (a decided match stays decided, a purged dataset stays purged).
The heavy work itself (reading a list, linking it) lives in ``matching.loading`` and
``matching.linking`` and runs in the task worker or from the command line.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.matching import storage, tasks
from unionaid.matching.leads.services import (
    leads_forget_evidence,
    leads_raise,
    leads_raise_for_match,
    leads_withdraw_for_match,
)
from unionaid.matching.models import (
    Dataset,
    DatasetStatus,
    Decision,
    ExternalRecord,
    Match,
    MatchRun,
    MatchStatus,
    PairDecision,
    RunStatus,
    Source,
    SourceKind,
)
from unionaid.matching.selectors import CONFIG, MANAGE, REVIEW, VIEW
from unionaid.org.models import OrgUnit

logger = logging.getLogger(__name__)

EXTENSIONS = (".xlsx", ".xls", ".csv")
CANONICAL_FIELDS = ("name", "id_number", "birth_date", "sex", "phone", "unit", "address",
                    "member_key", "amount", "date")


def max_upload_bytes() -> int:
    return getattr(settings, "MATCHING_UPLOAD_MAX_BYTES", 200 * 1024 * 1024)


def _stale(started_at: dt.datetime | None) -> bool:
    """A run or load "in progress" for longer than MATCHING_STALE_MINUTES lost its worker (the
    process died): a cancel then ends it at once instead of waiting for a report never sent."""
    minutes = getattr(settings, "MATCHING_STALE_MINUTES", 360)
    return started_at is None or started_at < timezone.now() - dt.timedelta(minutes=minutes)


def _require(actor, perm: str, unit: OrgUnit) -> None:
    """``perm`` over ``unit``; a user who cannot even see matching there gets "not found"."""
    access = access_for(actor)
    if access.covers_unit(perm, unit):
        return
    if access.covers_unit(VIEW, unit):
        raise PermissionDenied(_("您无权在“%(unit)s”执行此操作。") % {"unit": unit.name})
    raise NotFound()


# -- sources ---------------------------------------------------------------------------------------

def _clean_mapping(mapping) -> dict[str, str]:
    if not isinstance(mapping, dict):
        raise ServiceError(_("列名对应格式不正确。"), code="invalid_mapping",
                           fields={"column_mapping": _("应为“表头 → 字段”的对应关系。")})
    cleaned: dict[str, str] = {}
    for header, field in mapping.items():
        header = str(header).strip()
        if not header or field not in CANONICAL_FIELDS:
            raise ServiceError(
                _("列名对应中“%(h)s”的字段无效。") % {"h": header[:30]}, code="invalid_mapping",
                fields={"column_mapping": _("可用字段：%(f)s。") % {
                    "f": "、".join(CANONICAL_FIELDS)}})
        cleaned[header[:100]] = field
    return cleaned


@transaction.atomic
def source_save(*, actor, org_unit: OrgUnit, kind: str, name: str, retention_days: int,
                column_mapping: dict | None = None, is_active: bool = True,
                source: Source | None = None) -> Source:
    """Create or change a source (``matching.config`` over its unit)."""
    _require(actor, CONFIG, org_unit)
    if source is not None:
        _require(actor, CONFIG, source.org_unit)
    if kind not in SourceKind.values:
        raise ServiceError(_("类别无效。"), code="invalid_kind", fields={"kind": _("类别无效。")})
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("请填写名称。"), code="validation_error",
                           fields={"name": _("请填写名称。")})
    if not 1 <= int(retention_days) <= 3650:
        raise ServiceError(_("保留天数应在 1 到 3650 之间。"), code="validation_error",
                           fields={"retention_days": _("保留天数应在 1 到 3650 之间。")})
    values = {"org_unit": org_unit, "kind": kind, "name": name[:100],
              "retention_days": int(retention_days),
              "column_mapping": _clean_mapping(column_mapping or {}), "is_active": is_active}
    action = "matching.source_create" if source is None else "matching.source_update"
    if source is None:
        source = Source.objects.create(**values)
    else:
        source = Source.objects.select_for_update().get(pk=source.pk)
        for key, value in values.items():
            setattr(source, key, value)
        source.save(update_fields=[*values, "updated_at"])
    audit_record(actor=actor, action=action, target=source, org_unit_path=org_unit.path,
                 changes={k: v for k, v in values.items() if k != "org_unit"}
                 | {"org_unit": org_unit.pk})
    return source


# -- datasets --------------------------------------------------------------------------------------

def _invalid(message: str) -> ServiceError:
    return ServiceError(message, code="invalid_file", fields={"file": message})


def dataset_upload(*, actor, source: Source, org_unit: OrgUnit, upload, title: str = "",
                   dry_run: bool = True, enqueue: bool = True) -> Dataset:
    """Store an uploaded list for ``org_unit`` and queue its check (``dry_run``: problems by
    row, nothing written, the file kept for "import now") or its import."""
    _require(actor, MANAGE, org_unit)
    if not source.is_active:
        raise ServiceError(_("该数据来源已停用。"), code="source_inactive")
    name = Path(upload.name or "").name[:255]
    suffix = Path(name).suffix.lower()
    if suffix not in EXTENSIONS:
        raise _invalid(_("只支持 .xlsx、.xls 和 .csv 文件。"))
    if not upload.size:
        raise _invalid(_("文件是空的。"))
    if upload.size > max_upload_bytes():
        raise _invalid(_("文件太大，不能超过 %(mb)d MB。") % {"mb": max_upload_bytes() >> 20})
    stored = storage.store(upload.chunks(), suffix)
    # A failure anywhere below (the commit included) must remove the file: a list of clear ID
    # numbers must not stay orphaned.
    try:
        with transaction.atomic():
            # purged when due even if never imported: a checked upload keeps its file until
            # then (loading moves the date to "loaded + retention")
            dataset = Dataset.objects.create(
                purge_after=timezone.now() + dt.timedelta(days=source.retention_days),
                source=source, org_unit=org_unit,
                title=(title or "").replace("\x00", "").strip()[:200] or name,
                file_name=name, stored_path=stored, uploaded_by=actor)
            audit_record(actor=actor, action="matching.dataset_upload", target=dataset,
                         org_unit_path=org_unit.path,
                         changes={"file": name, "source": source.pk, "dry_run": dry_run,
                                  "size": upload.size})
            if enqueue:
                pk = dataset.pk
                transaction.on_commit(lambda: tasks.load_dataset.enqueue(pk, dry_run))
    except BaseException:
        storage.unlink(stored)
        raise
    return dataset


@transaction.atomic
def dataset_confirm(*, actor, dataset: Dataset, enqueue: bool = True) -> Dataset:
    """Import the file of a checked dataset, without a second upload."""
    dataset = Dataset.objects.select_for_update().select_related("org_unit").get(pk=dataset.pk)
    _require(actor, MANAGE, dataset.org_unit)
    path = storage.dataset_file(dataset)
    if (dataset.status != DatasetStatus.UPLOADED or not dataset.checked or path is None
            or not path.exists()):
        raise Conflict(_("只有检查过、尚未导入的文件才能直接导入。"), code="not_confirmable")
    audit_record(actor=actor, action="matching.dataset_confirm", target=dataset,
                 org_unit_path=dataset.org_unit.path)
    if enqueue:
        transaction.on_commit(lambda: tasks.load_dataset.enqueue(dataset.pk, False))
    return dataset


@transaction.atomic
def dataset_retry(*, actor, dataset: Dataset, enqueue: bool = True) -> Dataset:
    """Import again a dataset whose import failed for a system error (its file was kept)."""
    dataset = Dataset.objects.select_for_update().select_related("org_unit").get(pk=dataset.pk)
    _require(actor, MANAGE, dataset.org_unit)
    path = storage.dataset_file(dataset)
    if dataset.status != DatasetStatus.FAILED or path is None or not path.exists():
        raise Conflict(_("只有因系统错误失败、文件仍保留的导入可以重试，否则请重新上传。"),
                       code="not_retryable")
    dataset.status, dataset.message, dataset.cancel_requested = DatasetStatus.UPLOADED, "", False
    dataset.save(update_fields=["status", "message", "cancel_requested"])
    audit_record(actor=actor, action="matching.dataset_retry", target=dataset,
                 org_unit_path=dataset.org_unit.path)
    if enqueue:
        transaction.on_commit(lambda: tasks.load_dataset.enqueue(dataset.pk, False))
    return dataset


@transaction.atomic
def dataset_cancel(*, actor, dataset: Dataset) -> Dataset:
    """Cancel an upload not imported yet (its file is deleted), or ask a running import to
    stop (it stops at its next stage and writes nothing)."""
    dataset = Dataset.objects.select_for_update().select_related("org_unit").get(pk=dataset.pk)
    _require(actor, MANAGE, dataset.org_unit)
    if dataset.status == DatasetStatus.CANCELLED:
        return dataset
    if dataset.status == DatasetStatus.UPLOADED:
        dataset.status = DatasetStatus.CANCELLED
        dataset.save(update_fields=["status"])
        storage.delete_dataset_file(dataset)
    elif dataset.status == DatasetStatus.LOADING and _stale(dataset.started_at):
        _end_stale_load(dataset)
    elif dataset.status == DatasetStatus.LOADING:
        dataset.cancel_requested = True
        dataset.save(update_fields=["cancel_requested"])
    else:
        raise Conflict(_("只能取消尚未完成导入的数据。"), code="not_cancellable")
    audit_record(actor=actor, action="matching.dataset_cancel", target=dataset,
                 org_unit_path=dataset.org_unit.path, changes={"status": dataset.status})
    return dataset


def _end_stale_load(dataset: Dataset) -> None:
    """An import "in progress" long past MATCHING_STALE_MINUTES lost its worker: cancelled at
    once, its file (clear ID numbers) deleted. A worker still alive writes nothing after this
    (``loading`` checks the status). Inside the caller's transaction, the row locked."""
    dataset.status, dataset.stage = DatasetStatus.CANCELLED, ""
    dataset.message = _("导入进程已中断，已取消；请重新上传。")
    dataset.save(update_fields=["status", "stage", "message"])
    storage.delete_dataset_file(dataset)


def _purge(dataset: Dataset, *, actor, reason: str) -> int:
    """Delete a dataset's records (and its file); links keep their member and score, lose the
    record; undecided review items go. Inside the caller's transaction."""
    count = dataset.records.count()
    leads_forget_evidence(dataset)
    Match.objects.filter(dataset=dataset, status=MatchStatus.REVIEW).delete()
    Match.objects.filter(dataset=dataset).update(record=None)
    ExternalRecord.objects.filter(dataset=dataset).delete()
    storage.delete_dataset_file(dataset)
    dataset.status = DatasetStatus.PURGED
    dataset.purged_at = timezone.now()
    dataset.problems = []
    dataset.save(update_fields=["status", "purged_at", "problems"])
    audit_record(actor=actor, action="matching.dataset_purge", target=dataset,
                 org_unit_path=dataset.org_unit.path,
                 changes={"records": count, "reason": reason})
    return count


@transaction.atomic
def dataset_purge(*, actor, dataset: Dataset) -> int:
    """Purge a dataset now (before its retention period ends)."""
    dataset = Dataset.objects.select_for_update().select_related("org_unit").get(pk=dataset.pk)
    _require(actor, MANAGE, dataset.org_unit)
    if dataset.status == DatasetStatus.PURGED:
        return 0
    if dataset.is_busy:
        raise Conflict(_("数据正在导入或比对，请稍后再清除。"), code="dataset_busy")
    return _purge(dataset, actor=actor, reason="manual")


def datasets_purge_expired(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The scheduler's retention purge: every dataset past ``purge_after``, one transaction
    each (a busy one waits for the next run). Returns counts, no personal data."""
    now = now or timezone.now()
    minutes = getattr(settings, "MATCHING_STALE_MINUTES", 360)
    stale = list(Dataset.objects.filter(status=DatasetStatus.LOADING).filter(
        Q(started_at__isnull=True) | Q(started_at__lt=now - dt.timedelta(minutes=minutes)))
        .values_list("pk", flat=True))
    ended = 0
    for pk in stale:
        with transaction.atomic():
            dataset = (Dataset.objects.select_for_update().select_related("org_unit")
                       .filter(pk=pk, status=DatasetStatus.LOADING).first())
            if dataset is None or not _stale(dataset.started_at):
                continue
            _end_stale_load(dataset)
            audit_record(actor=None, action="matching.dataset_cancel", target=dataset,
                         org_unit_path=dataset.org_unit.path,
                         changes={"status": dataset.status, "reason": "stale"})
            ended += 1
    due = list(Dataset.objects.filter(purge_after__lte=now).exclude(
        status__in=[DatasetStatus.PURGED, *Dataset.ACTIVE]).values_list("pk", flat=True))
    datasets = records = 0
    for pk in due:
        with transaction.atomic():
            dataset = (Dataset.objects.select_for_update().select_related("org_unit")
                       .filter(pk=pk, purge_after__lte=now)
                       .exclude(status__in=[DatasetStatus.PURGED, *Dataset.ACTIVE]).first())
            if dataset is None:
                continue
            records += _purge(dataset, actor=None, reason="retention")
            datasets += 1
    return {"datasets": datasets, "records": records, "stale_loads": ended,
            "orphan_files": storage.sweep_orphans(now=now)}


def leads_catch_up() -> dict[str, int]:
    """The scheduler's catch-up: raise again the leads of every current run's linked matches.
    A run's leads are raised as it is written, and a failure there is only logged (the run is
    kept); raising again is idempotent (a lead never repeats), so this finishes what failed."""
    runs = raised = failed = 0
    for run in (MatchRun.objects.filter(status=RunStatus.DONE,
                                        pk__in=Dataset.objects.filter(
                                            status=DatasetStatus.MATCHED)
                                        .values("current_run"))
                .order_by("pk")):
        try:
            raised += leads_raise(run)
        except Exception:
            logger.error("catching up the leads of run %s failed", run.pk, exc_info=True)
            failed += 1
        runs += 1
    return {"runs": runs, "leads": raised, "failed": failed}


# -- runs ------------------------------------------------------------------------------------------

@transaction.atomic
def match_run_start(*, actor, dataset: Dataset, enqueue: bool = True) -> MatchRun:
    """Queue a linkage of a loaded dataset against the members the actor may match."""
    dataset = Dataset.objects.select_for_update().select_related("org_unit").get(pk=dataset.pk)
    _require(actor, MANAGE, dataset.org_unit)
    if dataset.status not in (DatasetStatus.LOADED, DatasetStatus.MATCHED):
        raise Conflict(_("数据导入完成后才能比对。"), code="dataset_not_loaded")
    if dataset.runs.exclude(status__in=MatchRun.FINISHED).exists():
        raise Conflict(_("该数据已有比对任务在进行。"), code="run_in_progress")
    run = MatchRun.objects.create(dataset=dataset, started_by=actor)
    audit_record(actor=actor, action="matching.run_start", target=run,
                 org_unit_path=dataset.org_unit.path, changes={"dataset": dataset.pk})
    if enqueue:
        transaction.on_commit(lambda: tasks.run_match.enqueue(run.pk))
    return run


def _lock_run(run: MatchRun) -> MatchRun:
    return (MatchRun.objects.select_for_update(of=("self",))
            .select_related("dataset__org_unit").get(pk=run.pk))


@transaction.atomic
def match_run_cancel(*, actor, run: MatchRun) -> MatchRun:
    """Cancel a queued run now; ask a running one to stop (it stops at its next progress
    report and writes nothing)."""
    run = _lock_run(run)
    _require(actor, MANAGE, run.dataset.org_unit)
    if run.status == RunStatus.QUEUED:
        run.status, run.finished_at = RunStatus.CANCELLED, timezone.now()
        run.save(update_fields=["status", "finished_at"])
    elif run.status == RunStatus.RUNNING and _stale(run.started_at):
        run.status, run.finished_at = RunStatus.CANCELLED, timezone.now()
        run.error = _("比对进程已中断，已取消；可重试。")
        run.save(update_fields=["status", "finished_at", "error"])
        dataset = Dataset.objects.select_for_update().get(pk=run.dataset_id)
        if dataset.status == DatasetStatus.MATCHING:
            dataset.status = (DatasetStatus.MATCHED if dataset.current_run_id
                              else DatasetStatus.LOADED)
            dataset.save(update_fields=["status"])
    elif run.status == RunStatus.RUNNING:
        run.cancel_requested = True
        run.save(update_fields=["cancel_requested"])
    elif run.status != RunStatus.CANCELLED:
        raise Conflict(_("该比对任务已结束。"), code="run_finished")
    else:
        return run
    audit_record(actor=actor, action="matching.run_cancel", target=run,
                 org_unit_path=run.dataset.org_unit.path, changes={"status": run.status})
    return run


@transaction.atomic
def match_run_retry(*, actor, run: MatchRun, enqueue: bool = True) -> MatchRun:
    """Queue a failed or cancelled run again (the same row; its attempts are counted)."""
    run = _lock_run(run)
    _require(actor, MANAGE, run.dataset.org_unit)
    if run.status not in (RunStatus.FAILED, RunStatus.CANCELLED):
        raise Conflict(_("只有失败或已取消的比对任务可以重试。"), code="not_retryable")
    dataset = Dataset.objects.select_for_update().get(pk=run.dataset_id)
    if dataset.status not in (DatasetStatus.LOADED, DatasetStatus.MATCHED):
        raise Conflict(_("数据导入完成后才能比对。"), code="dataset_not_loaded")
    if dataset.runs.exclude(pk=run.pk).exclude(status__in=MatchRun.FINISHED).exists():
        raise Conflict(_("该数据已有比对任务在进行。"), code="run_in_progress")
    run.status, run.error, run.cancel_requested = RunStatus.QUEUED, "", False
    run.stage, run.done, run.total, run.started_at, run.finished_at = "", 0, 0, None, None
    run.save(update_fields=["status", "error", "cancel_requested", "stage", "done", "total",
                            "started_at", "finished_at"])
    audit_record(actor=actor, action="matching.run_retry", target=run,
                 org_unit_path=run.dataset.org_unit.path, changes={"attempts": run.attempts})
    if enqueue:
        transaction.on_commit(lambda: tasks.run_match.enqueue(run.pk))
    return run


# -- review ----------------------------------------------------------------------------------------

@transaction.atomic
def match_decide(*, actor, match: Match, decision: str) -> Match:
    """Confirm or reject a match; the answer is kept for the pair (member, external person) and
    applied to the same pair's other undecided matches, so it is never asked again. Deciding a
    decided match the same way again changes nothing; the other way is a conflict."""
    if decision not in Decision.values:
        raise ServiceError(_("复核结论无效。"), code="invalid_decision",
                           fields={"decision": _("应为 confirmed 或 rejected。")})
    match = (Match.objects.select_for_update(of=("self",))
             .select_related("member__org_unit", "record").get(pk=match.pk))
    _require(actor, REVIEW, match.member.org_unit)
    if match.is_decided:
        if match.status == decision:
            return match
        raise Conflict(_("该比对结果已复核为“%(s)s”。") % {"s": match.status_label},
                       code="already_decided")
    now = timezone.now()
    match.status, match.decided_by, match.decided_at = decision, actor, now
    match.save(update_fields=["status", "decided_by", "decided_at"])
    person_key = match.record.person_key if match.record is not None else ""
    others = 0
    same_pair: list[int] = []
    if person_key:
        PairDecision.objects.update_or_create(
            member=match.member, person_key=person_key,
            defaults={"decision": decision, "match": match, "decided_by": actor,
                      "decided_at": now})
        same_pair = list(Match.objects.filter(
            member=match.member, record__person_key=person_key,
            status__in=[MatchStatus.REVIEW, MatchStatus.MATCHED])
            .exclude(pk=match.pk).values_list("pk", flat=True))
        others = Match.objects.filter(pk__in=same_pair).update(
            status=decision, decided_by=actor, decided_at=now)
    audit_record(actor=actor, action=f"matching.match_{decision}", target=match,
                 org_unit_path=match.member.org_unit.path,
                 changes={"member": match.member_id, "dataset": match.dataset_id,
                          "score": match.score, "same_pair_elsewhere": others})
    if decision == Decision.CONFIRMED:
        leads_raise_for_match(match, actor=actor)
        # the same pair's other matches, confirmed with it, raise their leads too (a lead
        # never repeats: the same evidence raises nothing twice)
        for other in Match.objects.filter(pk__in=same_pair).order_by("pk"):
            leads_raise_for_match(other, actor=actor)
    else:
        leads_withdraw_for_match(match, actor=actor, person_key=person_key)
    return match
