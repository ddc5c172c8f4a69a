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

from unionaid.archive.category import CategoryResult, compute_category, dibao_line_for, rules_for
from unionaid.archive.household import open_record_in_household
from unionaid.archive.models import CloseReason, HardshipCategory, HardshipRecord, RecordStatus
from unionaid.archive.services.common import (
    ENROLMENT_KIND,
    EXIT_KIND,
    audit,
    lock_record,
    profile_for,
    require_manage,
)
from unionaid.audit.services import atomic_audited
from unionaid.core.errors import Conflict, ServiceError
from unionaid.core.masking import mask_name
from unionaid.members.models import Member
from unionaid.visits.models import HouseholdProfile

PREVIOUS_STATUSES = (RecordStatus.EXITED, RecordStatus.CLOSED, RecordStatus.REJECTED)
WITHDRAWABLE = (RecordStatus.PENDING, RecordStatus.RETURNED, RecordStatus.EXITING)
MAX_REASON = 2000


def _household_conflict(holder: HardshipRecord, member: Member) -> Conflict:
    who = mask_name(holder.member.name)
    status = holder.get_status_display()
    if holder.member_id == member.pk:
        message = _("该职工已有困难职工档案（%(status)s），不能重复建档。") % {"status": status}
    else:
        message = _("该职工家庭已有困难职工档案（持档人：%(who)s，%(status)s），一户只能建一档。") % {
            "who": who, "status": status}
    return Conflict(message, code="household_has_record")


def evaluate(*, member: Member, profile: HouseholdProfile, on: dt.date | None = None
             ) -> CategoryResult:
    """The category the member's household would get today (raises ``no_dibao_line``)."""
    on = on or timezone.localdate()
    line = dibao_line_for(member, on.year)
    return compute_category(profile=profile, line=line.monthly_amount, rules=rules_for(member))


def record_precheck(*, member: Member, profile: HouseholdProfile | None = None) -> dict[str, Any]:
    """What enrolling ``member`` now would give, without writing: the profile used, the
    category with its calculation, and the Chinese reasons it would be refused."""
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
    if holder is not None:
        out["problems"].append(_household_conflict(holder, member).message)
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
    record.dibao_line = result.line
    record.review_flags = result.review_flags
    record.causes = profile.causes[:200]


def case_facts(record: HardshipRecord) -> dict[str, Any]:
    """What the enrolment flow's skip conditions may use (JSON-safe)."""
    return {
        "category": record.category,
        "per_capita_monthly": float(record.per_capita_monthly),
        "dibao_line": float(record.dibao_line),
        "household_size": int((record.calculation.get("inputs") or {}).get("household_size")
                              or record.profile.household_size),
        "needs_review": bool(record.review_flags),
        "re_enrolment": record.previous_id is not None,
    }


def _start(*, actor, record: HardshipRecord, kind: str, facts: dict) -> None:
    from unionaid.approvals.services import case_start

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
        raise _household_conflict(holder, member)
    result = evaluate(member=member, profile=profile)
    _require_eligible(result)
    previous = (HardshipRecord.objects.filter(member=member, status__in=PREVIOUS_STATUSES)
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
          per_capita_monthly=str(record.per_capita_monthly), dibao_line=str(record.dibao_line),
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
        raise _household_conflict(holder, member)
    result = evaluate(member=member, profile=profile)
    _require_eligible(result)
    _apply_result(record, profile, result)
    if reason is not None:
        record.reason = reason.strip()[:MAX_REASON]
    record.org_unit = member.org_unit
    record.status = RecordStatus.PENDING
    record.save(update_fields=["profile", "category", "computed_category", "calculation",
                               "per_capita_monthly", "dibao_line", "review_flags", "causes",
                               "reason", "org_unit", "status"])
    audit(actor, "archive.resubmit", record, category=record.category, profile=profile.pk,
          per_capita_monthly=str(record.per_capita_monthly))
    _start(actor=actor, record=record, kind=ENROLMENT_KIND, facts=case_facts(record))
    record.refresh_from_db()
    return record


def _open_case(record: HardshipRecord, kind: str):
    from unionaid.approvals.models import ApprovalCase, CaseStatus

    return (ApprovalCase.objects.filter(subject_kind=kind, subject_id=record.pk,
                                        status=CaseStatus.IN_PROGRESS).first())


@atomic_audited
def record_withdraw(*, actor, record: HardshipRecord, reason: str = "") -> HardshipRecord:
    """Withdraw an enrolment in progress or returned (→ WITHDRAWN), or an exit application in
    progress (→ back to ACTIVE). The open case is withdrawn with it."""
    from unionaid.approvals.services import case_withdraw

    record = lock_record(record)
    require_manage(actor, record.org_unit)
    if record.status not in WITHDRAWABLE:
        raise Conflict(_("只有建档审批中、退回补充或脱困审批中的档案可以撤回。"),
                       code="not_withdrawable")
    before = record.status
    kind = EXIT_KIND if before == RecordStatus.EXITING else ENROLMENT_KIND
    case = _open_case(record, kind)
    if case is not None:
        case_withdraw(actor=actor, case=case)
    if before == RecordStatus.EXITING:
        record.status, record.exit_reason, record.exit_applied_at = RecordStatus.ACTIVE, "", None
        record.save(update_fields=["status", "exit_reason", "exit_applied_at"])
        audit(actor, "archive.exit_withdraw", record, reason=(reason or "")[:200])
    else:
        record.status = RecordStatus.WITHDRAWN
        record.save(update_fields=["status"])
        audit(actor, "archive.withdraw", record, before=before, reason=(reason or "")[:200])
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
    audit(actor, "archive.exit_apply", record, reason=reason[:200])
    months = 0
    if record.enrolled_on:
        today = timezone.localdate()
        months = (today.year - record.enrolled_on.year) * 12 + today.month - record.enrolled_on.month
    _start(actor=actor, record=record, kind=EXIT_KIND, facts={
        "category": record.category, "per_capita_monthly": float(record.per_capita_monthly),
        "months_in_archive": max(0, months)})
    record.refresh_from_db()
    return record


@atomic_audited
def record_close(*, actor, record: HardshipRecord, reason: str, on: dt.date | None = None,
                 note: str = "") -> HardshipRecord:
    """Close (销档) an open record at once on retirement, transfer or death (or another reason,
    which needs a note); no flow. An enrolment or exit case in progress is withdrawn."""
    from unionaid.approvals.services import case_withdraw

    record = lock_record(record)
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
    if not record.is_open:
        raise Conflict(_("该档案已结束（%(status)s），不能销档。")
                       % {"status": record.get_status_display()}, code="not_open")
    before = record.status
    for kind in (ENROLMENT_KIND, EXIT_KIND):
        case = _open_case(record, kind)
        if case is not None:
            case_withdraw(actor=actor, case=case)
    record.status, record.close_reason, record.closed_on = RecordStatus.CLOSED, reason, on
    record.save(update_fields=["status", "close_reason", "closed_on"])
    audit(actor, "archive.close", record, before=before, reason=reason, on=on.isoformat(),
          note=note[:200])
    return record


def category_label(code: str) -> str:
    return str(HardshipCategory(code).label) if code else ""
