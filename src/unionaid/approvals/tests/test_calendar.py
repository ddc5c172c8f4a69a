"""Working days for public notices: chinese-calendar's years, admins' overrides, and a refusal
(not a Monday–Friday guess) for a year whose holidays nobody has entered yet."""

from __future__ import annotations

import datetime as dt

import pytest

from unionaid.approvals.calendar import add_working_days, is_workday, known_year
from unionaid.approvals.models import WorkdayOverride
from unionaid.core.errors import ServiceError

pytestmark = pytest.mark.django_db
D = dt.date


def test_a_notice_across_national_day_ends_after_the_holiday_and_counts_the_makeup_saturday():
    # 2026-10-01..07 are holidays (国庆/中秋); Saturday 10-10 is a 调休 working day
    assert add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 13)
    assert is_workday(D(2026, 10, 10))
    assert not is_workday(D(2026, 10, 5))


def test_an_admin_holiday_moves_the_end_by_a_day():
    WorkdayOverride.objects.create(day=D(2026, 10, 12), is_workday=False, note="地方假日")
    assert add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 14)


def test_a_year_the_calendar_does_not_know_is_refused_not_guessed():
    assert not known_year(2027)
    with pytest.raises(ServiceError) as raised:
        add_working_days(D(2026, 12, 28), 5)  # would run over 元旦 2027
    assert raised.value.code == "calendar_year_unknown"
    assert "2027" in raised.value.message


def test_once_admins_enter_the_years_holidays_it_counts_with_them():
    WorkdayOverride.objects.create(day=D(2027, 1, 1), is_workday=False, note="元旦")
    # 12-29, 12-30, 12-31 (2026, known), 2027-01-01 holiday, weekend, then 01-04 and 01-05
    assert add_working_days(D(2026, 12, 28), 5) == D(2027, 1, 5)
