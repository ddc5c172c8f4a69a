"""The home dashboard (``web.dashboard``): its charts are the statistics of the user's own
scope — the same figures as the statistics page and the records — each linking to the table
behind it; a unit's bar drills into that unit; no chart without the right to it."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope
from unionaid.archive.models import HardshipRecord
from unionaid.assistance.models import Application
from unionaid.org.models import OrgUnit
from unionaid.web.dashboard import charts_for, figures_for

pytestmark = pytest.mark.django_db

PERMS = ["org.view", "stats.view", "archive.view", "assistance.view", "visits.view",
         "funds.view"]


def _reader(name: str, unit: OrgUnit, scope: str):
    return make_staff(name, unit, [make_role(f"dash_{name}", PERMS, scope)])


def _chart(charts, key):
    return next(c for c in charts if c.key == key)


def test_the_trend_chart_counts_this_years_applications_by_month(demo):
    root = OrgUnit.objects.get_root_nodes().get()
    user = _reader("dash_bureau", root, DataScope.ALL)
    year = timezone.localdate().year
    trend = _chart(charts_for(user=user, year=year), "trend")
    submitted = Application.objects.filter(submitted_at__year=year)
    assert sum(trend.series[0]["data"]) == submitted.count()
    assert trend.link.startswith("/stats/?fact=applications&dims=month")
    assert {c.key for c in charts_for(user=user, year=year)} == {
        "hardship", "trend", "structure", "budget", "visits"}


def test_a_station_cadre_sees_only_their_subtree_and_drills_into_its_units(readers):
    station = readers.station_unit
    user = _reader("dash_station", station, DataScope.UNIT_AND_BELOW)
    year = timezone.localdate().year
    charts = charts_for(user=user, year=year)
    hardship = _chart(charts, "hardship")
    children = set(OrgUnit.objects.filter(path__startswith=station.path,
                                          depth=station.depth + 1).values_list("name", flat=True))
    shown = set(hardship.categories) - {station.name}  # the station's own records: 本级
    assert shown <= children | {c for c in hardship.categories if "本级" in c}
    entered = HardshipRecord.objects.filter(
        org_unit__path__startswith=station.path, enrolled_on__year=year).count()
    assert sum(hardship.series[0]["data"]) == entered
    other = readers.other_unit.name
    assert all(other not in c for c in hardship.categories)
    drills = [u for u in hardship.drill if u]
    assert all(re.search(r"[?&]unit=\d+", u) for u in drills)
    trend = _chart(charts, "trend")
    mine = Application.objects.filter(submitted_at__year=year,
                                      org_unit__path__startswith=station.path).count()
    assert sum(trend.series[0]["data"]) == mine


def test_no_charts_without_the_statistics_right(readers):
    assert charts_for(user=readers.no_stats) == []


def test_the_home_page_draws_the_charts_and_prints(client, readers):
    user = _reader("dash_page", readers.station_unit, DataScope.UNIT_AND_BELOW)
    client.force_login(user)
    page = client.get("/").content.decode()
    assert 'id="dashboard"' in page
    assert 'id="print-report"' in page
    assert "js/dashboard.js" in page
    data = re.search(r'<script id="chart-data-trend" type="application/json">(.*?)</script>',
                     page).group(1)
    assert json.loads(data)["kind"] == "line"
    assert 'href="/stats/?fact=applications&amp;dims=month' in page


def test_figures_count_the_to_do_and_link_to_their_lists(readers):
    figures = {f.key: f for f in figures_for(user=readers.station)}
    assert figures["todo"].url == "/approvals/todo/"
    assert figures["overdue"].url == "/approvals/todo/?overdue=1"
    assert int(figures["todo"].value.rstrip("+")) >= int(figures["overdue"].value.rstrip("+"))


def test_the_tables_under_the_charts_show_the_figures_as_the_statistics_page_does(demo):
    """Amounts with thousands separators and two decimals (100,416.00, not 100416.00)."""
    root = OrgUnit.objects.get_root_nodes().get()
    user = _reader("dash_figures", root, DataScope.ALL)
    values = [v for c in charts_for(user=user, year=timezone.localdate().year)
              for _label, row in c.rows for v in row]
    assert any("," in v for v in values), values
    assert not [v for v in values if re.fullmatch(r"\d{4,}(\.\d+)?", v)], values
