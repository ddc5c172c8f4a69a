"""Hardship records (困难职工档案): enrolment (建档), resubmission after a return, withdrawal,
exit (解困脱困) and closure (销档).

Enrolment and exit each run an approval case (subject kinds ``archive.enrolment`` and
``archive.exit``, see ``archive.approval_subject``) whose flow has a public-notice step
(公示); the record changes state when the case ends. Closure on retirement, transfer or death
needs no flow. A member enrolled again after an exit gets a new record pointing at the old one
(``previous``), so history is never overwritten.

Rights: ``archive.manage`` over the member's unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.approvals.services import case_start, case_withdraw
from unionaid.archive.category import (
    CategoryResult,
    compute_category,
    dibao_standard_for,
    rules_for,
)
from unionaid.archive.household import open_record_in_household
from unionaid.archive.models import (
    OPEN_STATUSES,
    CloseReason,
    HardshipCategory,
    HardshipRecord,
    RecordStatus,
)
from unionaid.archive.services.common import (
    ENROLMENT_KIND,
    EXIT_KIND,
    VIEW,
    audit,
    lock_record,
    lock_record_with_cases,
    profile_for,
    require_manage,
)
from unionaid.audit.services import atomic_audited
from unionaid.core.errors import Conflict, ServiceError
from unionaid.core.masking import mask_name
from unionaid.members.models import Member
from unionaid.visits.models import FollowUp, FollowUpStatus, HouseholdProfile

# A re-enrolment points at the member's last record that was really in the archive: exited,
# or closed after being enrolled (a refused, withdrawn or never-approved one does not count).
PREVIOUS_STATUSES = (RecordStatus.EXITED, RecordStatus.CLOSED)
WITHDRAWABLE = (RecordStatus.PENDING, RecordStatus.RETURNED, RecordStatus.EXITING)
# An exited record can still be closed (death or transfer during the follow-up months).
CLOSABLE = (*OPEN_STATUSES, RecordStatus.EXITED)
MAX_REASON = 2000


def _household_conflict(holder: HardshipRecord, member: Member, actor=None) -> Conflict:
    """The one-household-one-file refusal. Who holds the file, and its status, are named only
    to someone whose ``archive.view`` covers the holder's record; anyone else (or no actor)
    learns only that the household already has a file."""
    visible = actor is not None and access_for(actor).covers_unit(VIEW, holder.org_unit)
    if holder.member_id == member.pk:
        if visible:
            message = _("该职工已有困难职工档案（%(status)s），不能重复建档。") % {
                "status": holder.get_status_display()}
        else:
            message = _("该职工已有困难职工档案，不能重复建档。")
    elif visible:
        message = _("该职工家庭已有困难职工档案（持档人：%(who)s，%(status)s），一户只能建一档。") % {
            "who": mask_name(holder.member.name), "status": holder.get_status_display()}
    else:
        message = _("该职工的家庭成员已有困难职工档案，一户只能建一档。")
    return Conflict(message, code="household_has_record")


def evaluate(*, member: Member, profile: HouseholdProfile, on: dt.date | None = None
             ) -> CategoryResult:
    """The category the member's household would get today (raises ``no_dibao_line``)."""
    on = on or timezone.localdate()
    line = dibao_standard_for(member, on.year)
    return compute_category(profile=profile, line=line.monthly_amount, rules=rules_for(member))


def record_precheck(*, member: Member, profile: HouseholdProfile | None = None,
                    actor=None, resubmitting: HardshipRecord | None = None) -> dict[str, Any]:
    """What enrolling ``member`` now would give, without writing: the profile used, the
    category with its calculation, and the Chinese reasons it would be refused (a household
    member's file is described only as far as ``actor`` may see it; no actor: not at all).
    ``resubmitting``: the returned record being sent again, which holds the household's open
    file itself and so is no conflict."""
    out: dict[str, Any] = {"profile": None, "result": None, "problems": [], "codes": []}
    try:
        profile = profile_for(member, profile)
        out["profile"] = profile
        out["result"] = result = evaluate(member=member, profile=profile)
    except ServiceError as exc:
        out["problems"].append(exc.message)
        out["codes"].append(exc.code)
        return out
    if not result.eligible:
        out["problems"].append(_("按家庭情况测算，不符合建档条件。"))
        out["codes"].append("not_eligible")
    holder = open_record_in_household(member, lock=False)
    if holder is not None and (resubmitting is None or holder.pk != resubmitting.pk):
        out["problems"].append(_household_conflict(holder, member, actor).message)
        out["codes"].append("household_has_record")
    return out


def _require_eligible(result: CategoryResult) -> None:
    if not result.eligible:
        message = _("按家庭情况测算，不符合建档条件：%(calc)s") % {"calc": "；".join(result.lines)}
        raise ServiceError(message, code="not_eligible", fields={"__all__": result.lines})


def _apply_result(record: HardshipRecord, profile: HouseholdProfile,
                  result: CategoryResult) -> None:
    record.profile = profile
    record.category = record.computed_category = result.category
    record.calculation = result.as_calculation()
    record.per_capita_monthly = result.per_capita_monthly
    record.dibao_standard = result.line
    record.review_flags = result.review_flags
    record.causes = profile.causes[:200]


def case_facts(record: HardshipRecord) -> dict[str, Any]:
    """What the enrolment flow's skip conditions may use (JSON-safe)."""
    return {
        "category": record.category,
        "per_capita_monthly": float(record.per_capita_monthly),
        # The fact keeps its name: stored case facts and flow skip conditions use it.
        "dibao_line": float(record.dibao_standard),
        "household_size": int((record.calculation.get("inputs") or {}).get("household_size")
                              or record.profile.household_size),
        "needs_review": bool(record.review_flags),
        "re_enrolment": record.previous_id is not None,
    }


def _start(*, actor, record: HardshipRecord, kind: str, facts: dict) -> None:
    case_start(actor=actor, subject_kind=kind, subject_id=record.pk, subject_key=record.category,
               org_unit=record.org_unit, applicant=record.member, facts=facts)


@atomic_audited
def record_enrol(*, actor, member: Member, profile: HouseholdProfile | None = None,
                 reason: str = "") -> HardshipRecord:
    """Enrol ``member`` (建档): compute the category on ``profile`` (default: the latest),
    refuse when not eligible (``not_eligible``, with the calculation) or when anyone in the
    household already holds an open record (``household_has_record``), then start the
    enrolment case. The record is PENDING until the case ends."""
    require_manage(actor, member.org_unit)
    profile = profile_for(member, profile)
    holder = open_record_in_household(member, lock=True)
    if holder is not None:
        raise _household_conflict(holder, member, actor)
    result = evaluate(member=member, profile=profile)
    _require_eligible(result)
    previous = (HardshipRecord.objects.filter(member=member, status__in=PREVIOUS_STATUSES,
                                              enrolled_on__isnull=False)
                .order_by("-applied_at", "-pk").first())
    record = HardshipRecord(member=member, org_unit=member.org_unit, status=RecordStatus.PENDING,
                            previous=previous, reason=(reason or "").strip()[:MAX_REASON],
                            created_by=actor)
    _apply_result(record, profile, result)
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:  # the per-member guard, should a race pass the household lock
        raise Conflict(_("该职工已有困难职工档案，不能重复建档。"), code="household_has_record") from None
    audit(actor, "archive.enrol", record, category=record.category, profile=profile.pk,
          per_capita_monthly=str(record.per_capita_monthly), dibao_line=str(record.dibao_standard),
          review_flags=[f["code"] for f in record.review_flags],
          previous=previous.pk if previous else None)
    _start(actor=actor, record=record, kind=ENROLMENT_KIND, facts=case_facts(record))
    record.refresh_from_db()
    return record


@atomic_audited
def record_resubmit(*, actor, record: HardshipRecord, profile: HouseholdProfile | None = None,
                    reason: str | None = None) -> HardshipRecord:
    """After a return (退回补充): recompute on ``profile`` (default: the member's latest, e.g.
    the one recorded on a new visit) and start a new enrolment case."""
    record = lock_record(record)
    require_manage(actor, record.org_unit)
    if record.status != RecordStatus.RETURNED:
        raise Conflict(_("只有退回补充的档案可以重新提交。"), code="not_returned")
    member = record.member
    profile = profile_for(member, profile)
    holder = open_record_in_household(member, lock=True)
    if holder is not None and holder.pk != record.pk:
        raise _household_conflict(holder, member, actor)
    result = evaluate(member=member, profile=profile)
    _require_eligible(result)
    _apply_result(record, profile, result)
    if reason is not None:
        record.reason = reason.strip()[:MAX_REASON]
    record.org_unit = member.org_unit
    record.status = RecordStatus.PENDING
    record.save(update_fields=["profile", "category", "computed_category", "calculation",
                               "per_capita_monthly", "dibao_standard", "review_flags", "causes",
                               "reason", "org_unit", "status"])
    audit(actor, "archive.resubmit", record, category=record.category, profile=profile.pk,
          per_capita_monthly=str(record.per_capita_monthly))
    _start(actor=actor, record=record, kind=ENROLMENT_KIND, facts=case_facts(record))
    record.refresh_from_db()
    return record


@atomic_audited
def record_withdraw(*, actor, record: HardshipRecord, reason: str = "") -> HardshipRecord:
    """Withdraw an enrolment in progress or returned (→ WITHDRAWN), or an exit application in
    progress (→ back to ACTIVE). The open case is withdrawn with it. The journal keeps the
    reason's length, not its text (it may name people or illnesses)."""
    record, cases = lock_record_with_cases(record)
    require_manage(actor, record.org_unit)
    if record.status not in WITHDRAWABLE:
        raise Conflict(_("只有建档审批中、退回补充或脱困审批中的档案可以撤回。"),
                       code="not_withdrawable")
    before = record.status
    kind = EXIT_KIND if before == RecordStatus.EXITING else ENROLMENT_KIND
    case = cases.get(kind)
    if case is not None:
        case_withdraw(actor=actor, case=case)
    reason_chars = len((reason or "").strip())
    if before == RecordStatus.EXITING:
        record.status, record.exit_reason, record.exit_applied_at = RecordStatus.ACTIVE, "", None
        record.save(update_fields=["status", "exit_reason", "exit_applied_at"])
        audit(actor, "archive.exit_withdraw", record, reason_chars=reason_chars)
    else:
        record.status = RecordStatus.WITHDRAWN
        record.save(update_fields=["status"])
        audit(actor, "archive.withdraw", record, before=before, reason_chars=reason_chars)
    return record


@atomic_audited
def record_exit_apply(*, actor, record: HardshipRecord, reason: str) -> HardshipRecord:
    """Apply for the exit (解困脱困) of an active record, with its reason: the record is
    EXITING while the exit case (with its own public notice) runs."""
    reason = (reason or "").strip()
    record = lock_record(record)
    require_manage(actor, record.org_unit)
    if not reason:
        raise ServiceError(_("请填写脱困原因。"), code="validation_error",
                           fields={"reason": _("请填写脱困原因。")})
    if record.status != RecordStatus.ACTIVE:
        raise Conflict(_("只有在档的困难职工可以申请解困脱困。"), code="not_active")
    record.status = RecordStatus.EXITING
    record.exit_reason = reason[:300]
    record.exit_applied_at = timezone.now()
    record.save(update_fields=["status", "exit_reason", "exit_applied_at"])
    # the reason stays on the record; the journal keeps only its length
    audit(actor, "archive.exit_apply", record, reason_chars=len(reason))
    months = 0
    if record.enrolled_on:
        today = timezone.localdate()
        months = (today.year - record.enrolled_on.year) * 12 + today.month - record.enrolled_on.month
    _start(actor=actor, record=record, kind=EXIT_KIND, facts={
        "category": record.category, "per_capita_monthly": float(record.per_capita_monthly),
        "months_in_archive": max(0, months)})
    record.refresh_from_db()
    return record


def record_closable(record: HardshipRecord) -> bool:
    """May the record be closed now (the rule ``record_close`` applies, without the rights)?
    An exited record can, unless the member has come back into the archive since: then the
    newer record is the one to close."""
    if record.status not in CLOSABLE:
        return False
    return record.status != RecordStatus.EXITED or not (
        HardshipRecord.objects.filter(previous_id=record.pk)
        .exclude(status__in=(RecordStatus.REJECTED, RecordStatus.WITHDRAWN)).exists())


@atomic_audited
def record_close(*, actor, record: HardshipRecord, reason: str, on: dt.date | None = None,
                 note: str = "") -> HardshipRecord:
    """Close (销档) a record at once on retirement, transfer or death (or another reason,
    which needs a note); no flow. An open record's enrolment or exit case in progress is
    withdrawn; an exited record can be closed too (death or transfer during the follow-up
    months). The member's follow-up visits after an exit still open are cancelled. The
    journal keeps the note's length, not its text."""
    record, cases = lock_record_with_cases(record)
    require_manage(actor, record.org_unit)
    if reason not in CloseReason.values:
        raise ServiceError(_("请选择销档原因。"), code="validation_error",
                           fields={"reason": _("请选择销档原因。")})
    note = (note or "").strip()
    if reason == CloseReason.OTHER and not note:
        raise ServiceError(_("销档原因为“其他”时请填写说明。"), code="validation_error",
                           fields={"note": _("请填写说明。")})
    today = timezone.localdate()
    on = on or today
    if on > today:
        raise ServiceError(_("销档日期不能晚于今天。"), code="validation_error",
                           fields={"on": _("销档日期不能晚于今天。")})
    if record.status not in CLOSABLE:
        raise Conflict(_("该档案已结束（%(status)s），不能销档。")
                       % {"status": record.get_status_display()}, code="not_open")
    if not record_closable(record):
        raise Conflict(_("该职工脱困后已再次建档，请对其当前档案销档。"), code="re_enrolled")
    before = record.status
    for case in cases.values():
        case_withdraw(actor=actor, case=case)
    # the follow-up visits after this exit (or after an earlier exit of the member's) are moot
    open_follow_ups = list(FollowUp.objects.select_for_update(of=("self",))
                           .filter(hardship_record__member_id=record.member_id,
                                   status=FollowUpStatus.OPEN)
                           .order_by("pk").values_list("pk", flat=True))
    if open_follow_ups:
        FollowUp.objects.filter(pk__in=open_follow_ups).update(status=FollowUpStatus.CANCELLED)
    record.status, record.close_reason, record.closed_on = RecordStatus.CLOSED, reason, on
    record.save(update_fields=["status", "close_reason", "closed_on"])
    audit(actor, "archive.close", record, before=before, reason=reason, on=on.isoformat(),
          note_chars=len(note), follow_ups_cancelled=open_follow_ups)
    return record


def category_label(code: str) -> str:
    return str(HardshipCategory(code).label) if code else ""
