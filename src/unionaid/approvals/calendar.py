"""Chinese working days: chinese-calendar's statutory holidays and 调休 days, corrected by the
admins' ``WorkdayOverride`` rows.

chinese-calendar only knows the years whose holiday arrangement the State Council has published
(1.11.0 ends with 2026). For a later year we do not guess Monday–Friday — that would end a
public notice across 元旦 or 春节 too early — unless the admins have entered that year's
holidays and 调休 days as overrides: a year with at least one override counts as configured,
and its other days are Monday–Friday. Otherwise counting refuses with ``calendar_year_unknown``
and a Chinese message that says what to do.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from django.utils.translation import gettext as _

from unionaid.approvals.models import WorkdayOverride
from unionaid.core.errors import ServiceError


def _overrides(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    return dict(WorkdayOverride.objects.filter(day__gte=start, day__lte=end)
                .values_list("day", "is_workday"))


def statutory_workday(day: dt.date) -> bool | None:
    """chinese-calendar's answer, or None for a year it does not know."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def known_year(year: int) -> bool:
    return statutory_workday(dt.date(year, 6, 1)) is not None


def _configured_years(years: set[int]) -> set[int]:
    return {d.year for d in WorkdayOverride.objects.filter(day__year__in=years)
            .dates("day", "year")}


def unknown_year_error(year: int) -> ServiceError:
    return ServiceError(
        _("系统尚无 %(year)s 年的法定节假日安排，无法计算公示期。请管理员在“工作日调整”中录入"
          "%(year)s 年的节假日和调休上班日后再试。") % {"year": year},
        code="calendar_year_unknown")


def is_workday(day: dt.date) -> bool:
    return add_working_days(day - dt.timedelta(days=1), 1) == day


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The day on which ``days`` working days after ``start`` have passed (``start`` itself
    does not count): a notice published on Wednesday 2026-09-30 for 5 working days ends on
    2026-10-13, after the 国庆 holiday and its 调休 Saturday."""
    if days <= 0:
        return start
    # a generous window: the longest holiday run plus weekends stays far below 3× + 30 days
    end = start + dt.timedelta(days=days * 3 + 30)
    overrides = _overrides(start, end)
    unknown = {year for year in range(start.year, end.year + 1) if not known_year(year)}
    configured = _configured_years(unknown) if unknown else set()
    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        working = overrides.get(day)
        if working is None:
            working = statutory_workday(day)
        if working is None:  # a year chinese-calendar does not know
            if day.year not in configured:
                raise unknown_year_error(day.year)
            working = day.weekday() < 5
        days -= int(working)
    return day
