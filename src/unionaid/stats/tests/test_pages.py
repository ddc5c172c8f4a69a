"""The statistics page, its .xlsx export and the API, through the HTTP client: the station
cadre's figures stay in their subtree, drill-down links go one level down, the export carries
a native chart and is journaled, bad input is 422 with its code."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client

from unionaid.audit.models import AuditEvent
from unionaid.core.testing.api import ApiClient
from unionaid.stats.selectors import statistic

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_the_table_chart_and_drill_down_within_scope(readers):
    client = _client(readers.station)
    response = client.get("/stats/", {"fact": "applications", "dims": "org,category",
                                      "measures": "cases,people,amount_paid"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="stats-chart-data"' in body
    assert "js/stats.js" in body
    assert "<script>" not in body  # data as json_script only: the CSP allows no inline code
    stat = statistic(actor=readers.station, fact="applications", dims=["org", "category"],
                     measures=["cases"])
    drill = next(r for r in stat.rows if r.unit_id is not None)
    assert f"unit={drill.unit_id}" in body
    assert readers.other_unit.name not in body
    # drilling into another 站段 is not found; the page is not there without stats.view
    assert client.get("/stats/", {"fact": "applications", "dims": "org",
                                  "unit": readers.other_unit.pk}).status_code == 404
    assert _client(readers.no_stats).get("/stats/").status_code == 404
    # an unknown measure is said on the page, nothing is counted
    response = client.get("/stats/", {"fact": "applications", "measures": "income"})
    assert "没有这项统计指标" in response.content.decode()
    for query in ({"fact": "salaries"}, {"fact": "applications", "unit": "x"}):
        response = client.get("/stats/", query)
        assert response.status_code == 200
        assert 'class="alert alert-warning"' in response.content.decode()


def test_the_export_is_an_xlsx_with_a_native_chart_and_is_journaled(readers):
    response = _client(readers.station).get(
        "/stats/export.xlsx", {"fact": "payments", "dims": "org,month",
                               "measures": "amount_paid,payments"})
    assert response.status_code == 200
    book = zipfile.ZipFile(io.BytesIO(response.content))
    assert any(name.startswith("xl/charts/chart") for name in book.namelist())
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # figures, no formulas
    event = AuditEvent.objects.get(action="stats.export")
    assert event.actor_id == readers.station.pk
    assert event.changes["fact"] == "payments"


def test_the_api_answers_within_scope(readers):
    api = ApiClient(_client(readers.station))
    response = api.get("/stats/statistic?fact=applications&dims=org&measures=cases,people")
    assert response.status_code == 200
    data = response.json()
    stat = statistic(actor=readers.station, fact="applications", dims=["org"],
                     measures=["cases", "people"])
    assert data["totals"] == stat.totals
    assert data["unit_id"] == readers.station_unit.pk
    assert all(r["keys"]["org"].startswith(readers.station_unit.path) for r in data["rows"])
    assert api.get(f"/stats/statistic?fact=applications&dims=org&measures=cases"
                   f"&unit={readers.other_unit.pk}").status_code == 404
    facts = api.get("/stats/facts").json()
    assert {"applications", "payments", "hardship", "visits", "budget"} <= {
        f["key"] for f in facts}


@pytest.mark.parametrize(("query", "code"), [
    ("fact=nope&measures=cases", "unknown_fact"),
    ("fact=applications&dims=colour&measures=cases", "unknown_dimension"),
    ("fact=applications&measures=income", "unknown_measure"),
    ("fact=applications&dims=month,year&measures=cases", "period_conflict"),
    ("fact=applications&measures=cases&unit=abc", "invalid_filter"),
])
def test_the_api_says_what_is_wrong_with_422(reader, query, code):
    response = ApiClient(_client(reader)).get(f"/stats/statistic?{query}")
    assert response.status_code == 422
    assert response.json()["code"] == code


def test_the_api_is_forbidden_without_stats_view(union, personas):
    response = ApiClient(_client(personas.station_cadre)).get(
        "/stats/statistic?fact=applications&measures=cases")
    assert response.status_code == 403
