# The fixtures come from helpers_records (no conftest of our own), hence F811 as parameters.
# ruff: noqa: F811
"""The calendar page warns before public notices run into a year whose holidays are unknown."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from conftest import verified_login
from unionaid.approvals.models import WorkdayOverride
from unionaid.archive.tests.helpers_records import archive, at, clock  # noqa: F401 (fixtures)


def test_calendar_warns_about_next_year_until_its_holidays_are_entered(client, archive, clock):
    clock.move_to(at("2026-12-28", 10))  # a 5-day notice from here runs into 2027
    page = verified_login(client, archive.config_admin)
    body = page.get(reverse("archive:calendar")).content.decode()
    assert 'id="calendar-unknown-year"' in body
    assert "2027" in body
    assert 'id="notice-example"' not in body  # no end date is made up
    WorkdayOverride.objects.create(day=dt.date(2027, 1, 1), is_workday=False, note="元旦")
    body = page.get(reverse("archive:calendar")).content.decode()
    assert 'id="calendar-unknown-year"' not in body
    assert "将于 2027-01-05 18:00 期满" in body  # 元旦 skipped
