"""Reads of hardship records and of the archive's configuration.

Records are personal data: every list and detail goes through ``records_visible_to`` (the
scope of ``archive.view`` over the record's unit). Out of scope looks exactly like "not
found", and the attempt is journaled.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import chinese_calendar
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from unionaid.accounts.access import access_for
from unionaid.approvals.models import (
    ApprovalCase,
    ApprovalTask,
    CaseStatus,
    TaskStatus,
    WorkdayOverride,
)
from unionaid.archive.household import open_record_in_household
from unionaid.archive.models import (
    CategoryRules,
    DibaoStandard,
    HardshipRecord,
    Objection,
    RecordStatus,
)
from unionaid.archive.selectors.lists import member_watch_kinds
from unionaid.archive.services.common import CONFIG, ENROLMENT_KIND, EXIT_KIND, VIEW
from unionaid.audit.scoped import get_in_scope, scoped_getter
from unionaid.members.selectors import identifier_q
from unionaid.org.selectors import units_visible_to

CASE_KINDS = (ENROLMENT_KIND, EXIT_KIND)
RECHECK_SOON_DAYS = 30
# chinese-calendar names its holidays in English.
HOLIDAY_NAMES = {
    "New Year's Day": _("元旦"), "Spring Festival": _("春节"), "Tomb-sweeping Day": _("清明节"),
    "Labour Day": _("劳动节"), "Dragon Boat Festival": _("端午节"), "National Day": _("国庆节"),
    "Mid-autumn Festival": _("中秋节"), "Anti-Fascist 70th Day": _("抗战胜利纪念日"),
}


def records_visible_to(*, user, perm: str = VIEW) -> QuerySet[HardshipRecord]:
    access = access_for(user)
    return (HardshipRecord.objects
            .filter(access.scope_q(perm, unit_field="org_unit", self_field="member_id"))
            .select_related("member", "org_unit"))


def record_list(*, user, status: str | None = None, category: str | None = None, unit=None,
                recheck_due_by: dt.date | None = None, query: str = "",
                identifiers: bool = False) -> QuerySet[HardshipRecord]:
    """The records ``user`` may see, newest first. ``recheck_due_by``: active records whose
    next re-check falls on or before that day (overdue ones included). ``query``: the member's
    name (start); with ``identifiers`` (a search that came in a POST body) also their full ID
    number or phone."""
    qs = records_visible_to(user=user)
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if unit is not None:
        qs = qs.filter(org_unit__path__startswith=unit.path)
    if recheck_due_by is not None:
        qs = qs.filter(status=RecordStatus.ACTIVE, next_recheck_on__lte=recheck_due_by)
    query = (query or "").strip()
    by_identifier = identifier_q(query, member_field="member") if identifiers else None
    if by_identifier is not None:
        qs = qs.filter(by_identifier)
    elif query:
        qs = qs.filter(member__name__startswith=query)
    return qs.order_by("-applied_at", "-pk")


def recheck_soon(today: dt.date | None = None) -> dt.date:
    return (today or timezone.localdate()) + dt.timedelta(days=RECHECK_SOON_DAYS)


@scoped_getter
def record_get_for_user(*, user, pk, perm: str = VIEW) -> HardshipRecord:
    return get_in_scope(
        user=user, pk=pk, perm=perm, self_field="member_id",
        queryset=HardshipRecord.objects.select_related(
            "member__org_unit", "org_unit", "profile", "previous", "created_by"),
        target_type="archive.hardshiprecord", log_read="member_id",
    )


@scoped_getter
def objection_get_for_user(*, user, pk, perm: str = VIEW) -> Objection:
    return get_in_scope(
        user=user, pk=pk, perm=perm,
        queryset=Objection.objects.select_related("record__org_unit", "record__member", "case"),
        scope=Q(record__in=records_visible_to(user=user, perm=perm)),
        target_type="archive.objection",
    )


def record_cases(record_ids: list[int]) -> dict[int, list[ApprovalCase]]:
    """The enrolment and exit cases of the records, oldest first (one query)."""
    out: dict[int, list[ApprovalCase]] = defaultdict(list)
    for case in (ApprovalCase.objects.filter(subject_kind__in=CASE_KINDS,
                                             subject_id__in=record_ids)
                 .select_related("flow_version__flow").order_by("started_at", "pk")):
        out[case.subject_id].append(case)
    return out


def household_open_record(*, member) -> HardshipRecord | None:
    """The open record held by anyone in ``member``'s household, if any (no lock: a read)."""
    return open_record_in_household(member, lock=False)


def record_history(*, member) -> list[HardshipRecord]:
    """Every record of the member, oldest first, each with ``cases`` (its enrolment and exit
    cases, oldest first). The caller reached ``member`` through a scoped selector: a person's
    archive history follows them."""
    records = list(HardshipRecord.objects.filter(member_id=member.pk)
                   .select_related("org_unit").order_by("applied_at", "pk"))
    cases = record_cases([r.pk for r in records])
    for record in records:
        record.cases = cases.get(record.pk, [])
    return records


def record_objections(record: HardshipRecord) -> list[Objection]:
    return list(record.objections.select_related("recorded_by", "resolved_by", "case")
                .order_by("recorded_at", "pk"))


# -- configuration -------------------------------------------------------------------------

def dibao_standards_visible_to(*, user, year: int | None = None) -> QuerySet[DibaoStandard]:
    units = units_visible_to(user=user, perm=CONFIG)
    qs = DibaoStandard.objects.filter(org_unit__in=units).select_related("org_unit")
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "org_unit__path")


@scoped_getter
def dibao_standard_get_for_user(*, user, pk) -> DibaoStandard:
    return get_in_scope(
        user=user, pk=pk, perm=CONFIG, queryset=DibaoStandard.objects.select_related("org_unit"),
        scope=Q(org_unit__in=units_visible_to(user=user, perm=CONFIG)),
        target_type="archive.dibaostandard",
    )


def category_rules_visible_to(*, user) -> QuerySet[CategoryRules]:
    units = units_visible_to(user=user, perm=CONFIG)
    return (CategoryRules.objects.filter(org_unit__in=units).select_related("org_unit")
            .order_by("org_unit__path"))


def calendar_days(*, start: dt.date, days: int = 60) -> list[dict]:
    """The next ``days`` days as the public-notice count sees them: working or not, the
    statutory holiday's name, and the admin's override if any (two queries in all)."""
    end = start + dt.timedelta(days=days - 1)
    overrides = {row.day: row for row in WorkdayOverride.objects.filter(day__gte=start,
                                                                        day__lte=end)}
    out = []
    for n in range(days):
        day = start + dt.timedelta(days=n)
        try:
            statutory = chinese_calendar.is_workday(day)
            _on_holiday, holiday = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            statutory, holiday = day.weekday() < 5, None
        override = overrides.get(day)
        working = statutory if override is None else override.is_workday
        out.append({"day": day, "weekday": day.weekday(), "is_workday": working,
                    "statutory_workday": statutory,
                    "holiday": HOLIDAY_NAMES.get(holiday, holiday) if holiday else "",
                    "adjusted_workday": bool(statutory and day.weekday() >= 5),
                    "override": override})
    return out


def workday_overrides(*, start: dt.date | None = None) -> QuerySet[WorkdayOverride]:
    qs = WorkdayOverride.objects.select_related("updated_by")
    if start is not None:
        qs = qs.filter(day__gte=start)
    return qs.order_by("day")


# -- the member page's summary ---------------------------------------------------------------

# Records that never entered the archive are not "where the worker stands".
SUMMARY_SKIPPED = (RecordStatus.REJECTED, RecordStatus.WITHDRAWN)


def _months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def member_summary_for_user(*, user, member) -> dict | None:
    """The archive part of the member page's 帮扶概况: the member's current record (the newest
    one that was not refused or withdrawn) and the watch lists they are on.

    ``None`` when ``user`` lacks ``archive.view`` over the member's unit, and when there is
    nothing to say (no such record, on no list). Only category, status and dates: causes
    (which may be health data) are left to the record's own page. At most three queries,
    whatever the member's history."""
    if not access_for(user).covers_unit(VIEW, member.org_unit):
        return None
    record = (records_visible_to(user=user).filter(member_id=member.pk)
              .exclude(status__in=SUMMARY_SKIPPED).order_by("-applied_at", "-pk").first())
    notice = None
    follow_up_months = None
    if record is not None and record.status in (RecordStatus.PENDING, RecordStatus.EXITING):
        # The case's current task is a public-notice step (one query, not the two of
        # ``objections.notice_task``).
        kind = EXIT_KIND if record.status == RecordStatus.EXITING else ENROLMENT_KIND
        notice = (ApprovalTask.objects
                  .filter(case__subject_kind=kind, case__subject_id=record.pk,
                          case__status=CaseStatus.IN_PROGRESS, order=F("case__current_order"),
                          status=TaskStatus.PENDING, step__is_public_notice=True)
                  .values("due_at").first())
    if record is not None and record.exited_on and record.follow_up_until:
        follow_up_months = _months_between(record.exited_on, record.follow_up_until)
    watch = member_watch_kinds(user=user, member=member)
    if record is None and not watch:
        return None
    return {"record": record, "in_notice": notice is not None,
            "notice_until": notice["due_at"] if notice is not None else None,
            "follow_up_months": follow_up_months, "watch": watch}
