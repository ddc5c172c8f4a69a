"""/api/v1/schedules: the list and the changes, for the system admin only."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import verified_login
from unionaid.audit.models import AuditEvent
from unionaid.core.testing.api import ApiClient
from unionaid.schedules.models import Schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(personas):
    return ApiClient(verified_login(Client(), personas.bureau_admin))


def test_the_list_gives_each_job_its_schedule_and_next_times(admin_api, toy):
    response = admin_api.get("/schedules")
    assert response.status_code == 200
    [item] = response.json()
    assert item["key"] == "test.toy"
    assert item["label"] == "测试任务"
    assert item["expression"] == item["default_expression"] == "0 * * * *"
    assert item["in_words"] == "每小时第 0 分"
    assert item["enabled"] is True
    assert len(item["next_runs"]) == 3
    assert item["next_runs"][0].endswith(":00:00+08:00")
    assert item["last_run"] is None
    assert item["late_slot"] is None
    assert item["failures_to_acknowledge"] == 0


def test_patch_changes_the_expression_and_switches_off_journaled(admin_api, toy):
    response = admin_api.patch("/schedules/test.toy",
                               {"expression": "*/10 * * * *", "enabled": False})
    assert response.status_code == 200
    body = response.json()
    assert (body["expression"], body["enabled"], body["next_runs"]) == ("*/10 * * * *", False, [])
    assert AuditEvent.objects.get(action="schedule.update").changes == {
        "expression": {"before": "0 * * * *", "after": "*/10 * * * *"},
        "enabled": {"before": True, "after": False}}


def test_a_bad_expression_is_422_and_nothing_is_saved(admin_api, toy):
    response = admin_api.patch("/schedules/test.toy", {"expression": "0 0 * * 9",
                                                       "enabled": False})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_expression"
    assert "“周”一段不正确" in body["fields"]["expression"]
    assert not Schedule.objects.exists()
    assert not AuditEvent.objects.filter(action="schedule.update").exists()


def test_an_unknown_job_is_404(admin_api, toy):
    response = admin_api.patch("/schedules/nobody.job", {"enabled": False})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_cadre_is_refused(personas, toy, as_session):
    api = as_session(personas.station_cadre)
    for response in (api.get("/schedules"), api.patch("/schedules/test.toy", {"enabled": False})):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert not Schedule.objects.exists()
