"""Small helpers shared by the archive services: rights, locking, dates, the latest profile."""

from __future__ import annotations

import calendar
import datetime as dt

from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.archive.models import HardshipRecord
from unionaid.audit.services import audit_record
from unionaid.core.errors import NotFound, PermissionDenied, ServiceError
from unionaid.visits.models import HouseholdProfile

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


def latest_profile(member) -> HouseholdProfile | None:
    return (HouseholdProfile.objects.filter(member_id=member.pk)
            .order_by("-taken_on", "-id").first())


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
