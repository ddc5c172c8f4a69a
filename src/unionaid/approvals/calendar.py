"""Chinese working days: chinese-calendar's statutory holidays and 调休 days, corrected by the
admins' ``WorkdayOverride`` rows. Outside the years chinese-calendar knows, Monday–Friday."""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from unionaid.approvals.models import WorkdayOverride


def _overrides(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    return dict(WorkdayOverride.objects.filter(day__gte=start, day__lte=end)
                .values_list("day", "is_workday"))


def _statutory_workday(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # outside the calendar's years
        return day.weekday() < 5


def is_workday(day: dt.date) -> bool:
    override = _overrides(day, day).get(day)
    return _statutory_workday(day) if override is None else override


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The day on which ``days`` working days after ``start`` have passed (``start`` itself
    does not count): a notice published on Friday 2026-09-25 for 5 working days ends on the
    working day that is the fifth after it."""
    if days <= 0:
        return start
    # a generous window: the longest holiday run plus weekends stays far below 3× + 30 days
    overrides = _overrides(start, start + dt.timedelta(days=days * 3 + 30))
    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        working = overrides.get(day)
        if working is None:
            working = _statutory_workday(day)
        days -= int(working)
    return day
