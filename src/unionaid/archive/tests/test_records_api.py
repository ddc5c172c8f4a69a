# The fixtures come from helpers_records (no conftest of our own), hence F811 as parameters.
# ruff: noqa: F811
"""/api/v1/archive through the HTTP client: records, enrolment, objections, exit, close,
re-check, the category preview, configuration; errors as {code, message}; scope."""

from __future__ import annotations

import pytest

from conftest import verified_login
from unionaid.approvals.models import WorkdayOverride
from unionaid.archive.models import DibaoStandard, HardshipRecord, RecordStatus
from unionaid.archive.services.common import EXIT_KIND
from unionaid.archive.tests.helpers_records import (  # noqa: F401 (fixtures)
    approve_all,
    archive,
    at,
    clock,
    people,
    record_profile,
    through_workshop,
)

API = "/api/v1/archive"


@pytest.fixture
def member(archive, make_member):
    return make_member(archive.union.team_a)


def api(client, user):
    return verified_login(client, user)


def enrol(client, archive, member, **household):
    record_profile(archive, member, **household)
    return api(client, archive.filer).post(f"{API}/records", {"member_id": member.pk},
                                           content_type="application/json")


def test_enrol_through_the_api(client, archive, member):
    response = enrol(client, archive, member, monthly="2500")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["category"] == "deep"
    assert body["calculation"][1] == "低保标准 800.00 元；500.00 < 800.00 × 1.00 → 深度困难"
    assert HardshipRecord.objects.get(pk=body["id"]).member == member


def test_refusal_is_code_and_message(client, archive, member):
    response = enrol(client, archive, member, monthly="9000")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "not_eligible"
    assert "不符合建档条件" in body["message"]


def test_household_conflict_is_409(client, archive, member):
    enrol(client, archive, member, monthly="2500")
    response = api(client, archive.filer).post(f"{API}/records", {"member_id": member.pk},
                                               content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "household_has_record"


def test_preview_does_not_write(client, archive, member):
    profile = record_profile(archive, member, monthly="4000")
    response = api(client, archive.filer).get(f"{API}/category-preview",
                                              {"member_id": member.pk, "profile_id": profile.pk})
    body = response.json()
    assert response.status_code == 200
    assert body["category"] == "relative"
    assert body["problems"] == []
    assert not HardshipRecord.objects.exists()


def test_detail_shows_the_notice_end_and_objections(client, archive, member, clock):
    record_id = enrol(client, archive, member, monthly="2500").json()["id"]
    record = HardshipRecord.objects.get(pk=record_id)
    clock.move_to(at("2026-09-30", 10))
    through_workshop(archive, record)
    client = api(client, archive.station_officer)
    created = client.post(f"{API}/records/{record_id}/objections",
                          {"raised_by_label": "同事", "content": "收入有隐瞒"},
                          content_type="application/json")
    assert created.status_code == 201
    detail = client.get(f"{API}/records/{record_id}").json()
    assert detail["current_step"]["step"] == "公示"
    assert detail["current_step"]["notice_ends_on"] == "2026-10-13"
    assert [o["content"] for o in detail["objections"]] == ["收入有隐瞒"]
    assert detail["cases"][0]["subject_kind"] == "archive.enrolment"
    resolved = client.post(f"{API}/objections/{created.json()['id']}/resolve",
                           {"upheld": False, "resolution": "已核实，无隐瞒"},
                           content_type="application/json")
    assert resolved.status_code == 200
    assert resolved.json()["upheld"] is False


def test_out_of_scope_cadre_gets_404(client, archive, member):
    record_id = enrol(client, archive, member, monthly="2500").json()["id"]
    client = api(client, archive.other_officer)
    assert client.get(f"{API}/records/{record_id}").status_code == 404
    assert client.get(f"{API}/records/{record_id}").json()["code"] == "not_found"
    assert client.post(f"{API}/records/{record_id}/exit", {"reason": "x"},
                       content_type="application/json").status_code == 404
    assert client.post(f"{API}/records", {"member_id": member.pk},
                       content_type="application/json").status_code == 404
    assert client.get(f"{API}/records").json()["items"] == []


def test_list_filters(client, archive, member):
    enrol(client, archive, member, monthly="2500")
    client = api(client, archive.filer)
    assert len(client.get(f"{API}/records", {"category": "deep"}).json()["items"]) == 1
    assert client.get(f"{API}/records", {"category": "sudden"}).json()["items"] == []
    assert client.get(f"{API}/records", {"status": "active"}).json()["items"] == []


def test_exit_close_and_recheck_through_the_api(client, archive, member, clock):
    record_id = enrol(client, archive, member, monthly="2500").json()["id"]
    record = approve_all(archive, HardshipRecord.objects.get(pk=record_id), clock)
    assert record.status == RecordStatus.ACTIVE
    client = api(client, archive.filer)
    record_profile(archive, member, monthly="4000")
    recheck = client.post(f"{API}/records/{record_id}/recheck", {"note": "年度"},
                          content_type="application/json").json()
    assert recheck["outcome"] == "change"
    assert recheck["record_category"] == "relative"
    exit_ = client.post(f"{API}/records/{record_id}/exit", {"reason": "收入稳定"},
                        content_type="application/json")
    assert exit_.json()["status"] == "exiting"
    approve_all(archive, record, clock, EXIT_KIND)
    client = api(client, archive.filer)
    detail = client.get(f"{API}/records/{record_id}").json()
    assert detail["status"] == "exited"
    assert len(detail["follow_ups"]) == 6
    # re-enrolment keeps history
    record_profile(archive, member, monthly="2500")
    again = client.post(f"{API}/records", {"member_id": member.pk},
                        content_type="application/json").json()
    assert again["previous_id"] == record_id
    closed = client.post(f"{API}/records/{again['id']}/close", {"reason": "death"},
                         content_type="application/json")
    assert closed.json()["status"] == "closed"
    history = client.get(f"{API}/records/{again['id']}").json()["history"]
    assert [h["id"] for h in history] == [record_id]


def test_config_needs_archive_config(client, archive, union):
    client = api(client, archive.filer)
    response = client.post(f"{API}/dibao-lines", {"org_unit_id": union.team_a.pk, "year": 2030,
                                                  "monthly_amount": "900"},
                           content_type="application/json")
    assert response.status_code == 404  # the unit is not in the user's archive.config scope
    assert client.get(f"{API}/workdays").status_code == 404


def test_dibao_rules_and_workdays_through_the_api(client, archive, union):
    client = api(client, archive.config_admin)
    created = client.post(f"{API}/dibao-lines", {"org_unit_id": union.station_a.pk,
                                                 "year": 2026, "monthly_amount": "950.00",
                                                 "region": "甲市"},
                          content_type="application/json")
    assert created.status_code == 201
    duplicate = client.post(f"{API}/dibao-lines", {"org_unit_id": union.station_a.pk,
                                                   "year": 2026, "monthly_amount": "960"},
                            content_type="application/json")
    assert duplicate.status_code == 409
    line_id = created.json()["id"]
    assert client.delete(f"{API}/dibao-lines/{line_id}").status_code == 204
    assert not DibaoStandard.objects.filter(pk=line_id).exists()
    rules = client.put(f"{API}/rules/{union.station_a.pk}", {"relative_multiplier": "2.50"},
                       content_type="application/json")
    assert rules.status_code == 200
    assert rules.json()["relative_multiplier"] == "2.50"
    inherited = client.get(f"{API}/rules/{union.team_a.pk}").json()
    assert inherited["own"] is False
    assert inherited["org_unit_id"] == union.station_a.pk
    invalid = client.put(f"{API}/rules/{union.station_a.pk}", {"follow_up_months": 3},
                         content_type="application/json")
    assert invalid.status_code == 422
    assert "follow_up_months" in invalid.json()["fields"]
    override = client.post(f"{API}/workday-overrides", {"day": "2026-10-12", "is_workday": False,
                                                        "note": "地方假日"},
                           content_type="application/json")
    assert override.status_code == 201
    assert WorkdayOverride.objects.get(day="2026-10-12").is_workday is False
    days = {d["day"]: d for d in client.get(f"{API}/workdays",
                                             {"start": "2026-10-01", "days": 14}).json()}
    assert days["2026-10-01"]["is_workday"] is False
    assert days["2026-10-01"]["holiday"] == "国庆节"
    assert days["2026-10-10"]["adjusted_workday"] is True
    assert days["2026-10-12"]["overridden"] is True
    assert days["2026-10-12"]["is_workday"] is False


def test_search_by_id_number_or_phone_only_by_post(client, archive, member, make_member):
    """An ID number or phone in the URL is refused and not run (the access log keeps URLs); the
    POST search takes it in the body (issue 10, item 4)."""
    enrol(client, archive, member, monthly="2500")
    other = make_member(archive.union.team_a)
    enrol(client, archive, other, monthly="2500")
    client = api(client, archive.filer)
    refused = client.get(f"{API}/records", {"q": member.id_number})
    assert refused.status_code == 400
    assert refused.json()["code"] == "use_post_search"
    assert "/api/v1/archive/records/search" in refused.json()["message"]
    for q in (member.id_number, member.phone):
        found = client.post(f"{API}/records/search", {"q": q}, content_type="application/json")
        assert found.status_code == 200, found.content
        assert [r["member_id"] for r in found.json()["items"]] == [member.pk]
    assert client.post(f"{API}/records/search", {"q": "110101199003070000"},
                       content_type="application/json").json()["items"] == []
    by_name = client.post(f"{API}/records/search", {"q": other.name[:2]},
                          content_type="application/json").json()["items"]
    assert other.pk in [r["member_id"] for r in by_name]
