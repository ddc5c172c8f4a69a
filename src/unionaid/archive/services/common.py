"""Small helpers shared by the archive services: rights, locking, dates, the latest profile."""

from __future__ import annotations

import calendar
import datetime as dt

from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.approvals.models import ApprovalCase, CaseStatus
from unionaid.archive.models import HardshipRecord, RecordStatus
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.visits.models import HouseholdProfile
from unionaid.visits.selectors.profiles import latest_profile

ENROLMENT_KIND = "archive.enrolment"
EXIT_KIND = "archive.exit"
MANAGE = "archive.manage"
VIEW = "archive.view"
CONFIG = "archive.config"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def require_manage(actor, unit) -> None:
    """``archive.manage`` over ``unit``; a user who cannot even see the archive there gets
    "not found" (they must not learn the record exists)."""
    access = access_for(actor)
    if access.covers_unit(MANAGE, unit):
        return
    if access.covers_unit(VIEW, unit) or access.covers_unit("members.view", unit):
        raise PermissionDenied(_("您无权办理“%(unit)s”的困难职工档案。") % {"unit": unit.name})
    raise NotFound()


def lock_record(record: HardshipRecord) -> HardshipRecord:
    return (HardshipRecord.objects.select_for_update(of=("self",))
            .select_related("member__org_unit", "org_unit", "profile")
            .get(pk=record.pk))


def lock_record_with_cases(record: HardshipRecord) -> tuple[HardshipRecord, dict]:
    """Lock the record's cases in progress, THEN the record, and return both (the cases by
    subject kind). The approval engine locks a case and then, in the handlers, its record;
    a service that locked the record first and then touched the case — withdrawing it, or
    inserting a row that references it (which takes a key-share lock on it) — could deadlock
    with a decision on PostgreSQL. Should a case have started between the two locks, the
    caller is asked to retry (``stale_record``) rather than lock it out of order."""
    kinds = (ENROLMENT_KIND, EXIT_KIND)
    cases = {case.subject_kind: case for case in (
        ApprovalCase.objects.select_for_update(of=("self",)).select_related("org_unit")
        .filter(subject_kind__in=kinds, subject_id=record.pk, status=CaseStatus.IN_PROGRESS)
        .order_by("pk"))}
    record = lock_record(record)
    expected = {RecordStatus.PENDING: ENROLMENT_KIND,
                RecordStatus.EXITING: EXIT_KIND}.get(record.status)
    if expected and expected not in cases and ApprovalCase.objects.filter(
            subject_kind=expected, subject_id=record.pk,
            status=CaseStatus.IN_PROGRESS).exists():
        raise Conflict(_("该困难职工档案的状态已变化，请刷新后再办理。"), code="stale_record")
    return record, cases


def profile_for(member, profile: HouseholdProfile | None) -> HouseholdProfile:
    """The given profile (it must be the member's), or the member's latest one."""
    if profile is None:
        profile = latest_profile(member)
        if profile is None:
            raise ServiceError(
                _("该职工还没有家庭情况（六清）登记，请先入户走访登记家庭情况。"),
                code="no_profile", fields={"profile": _("请先登记家庭情况。")})
        return profile
    if profile.member_id != member.pk:
        raise ServiceError(_("所选家庭情况不是该职工的。"), code="invalid_profile",
                           fields={"profile": _("所选家庭情况不是该职工的。")})
    return profile


def audit(actor, action: str, record: HardshipRecord, **changes) -> None:
    audit_record(actor=actor, action=action, target=record, org_unit_path=record.org_unit.path,
                 changes={"member": record.member_id, **changes})
