"""/api/v1/visits/campaigns: the same rules as the pages — scope, organising rights, pairing
rules — with errors as {code, message}."""

from __future__ import annotations

import pytest

from unionaid.audit.models import AuditEvent
from unionaid.visits.models import CampaignStatus, Pairing, VisitCampaign
from unionaid.visits.services import campaigns as services
from unionaid.visits.tests.helpers_campaigns import (
    END,
    START,
    Api,
    build_example,
    build_world,
)


@pytest.fixture
def world(union, make_member):
    return build_world(union, make_member)


@pytest.fixture
def example(world):
    return build_example(world)


def test_the_list_holds_campaigns_meeting_the_callers_scope(world, example):
    services.campaign_create(actor=world.bureau_org, name="乙段专项走访",
                             org_unit=world.union.station_b, starts_on=START, ends_on=END,
                             covered_units=[])
    response = Api(world.cadre_a).get()
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["items"]] == [example.campaign.name]
    assert len(Api(world.bureau_org).get().json()["items"]) == 2


def test_the_detail_gives_the_dashboard_of_the_callers_scope(world, example):
    p = example.pairings
    response = Api(world.cadre_b).get(f"/{example.campaign.pk}?as_of=2026-03-06")
    assert response.status_code == 200
    body = response.json()
    board = body["dashboard"]
    assert board["partial"] is True
    assert board["totals"] == {"pairings": 3, "pairings_visited": 1, "visits": 1,
                               "units_visited": 0, "workers_visited": 1, "hardship_found": 1,
                               "solved": 1}
    assert [(c["username"], c["behind"]) for c in board["cadres"]] == [
        ("cadre_b2", True), ("cadre_b", False)]
    assert [u["unit_name"] for u in board["units"]] == [world.union.station_b.name]
    assert board["satisfaction"] == {"average": "3.0", "count": 1}
    assert body["can_manage"] is False
    assert [m["id"] for m in body["my_pairings"]] == [p["p5"].pk, p["p6"].pk]
    assert body["my_pairings"][1]["visited"] is True


def test_the_organiser_gets_the_whole_campaign(world, example):
    body = Api(world.bureau_org).get(f"/{example.campaign.pk}?as_of=2026-03-06").json()
    board = body["dashboard"]
    assert board["totals"]["pairings"] == 7
    assert board["satisfaction"] == {"average": "3.5", "count": 4}
    assert board["targets"] == [
        {"code": "units", "target": 2, "actual": 1, "percent": 50},
        {"code": "workers", "target": 4, "actual": 3, "percent": 75}]
    assert (board["elapsed_percent"], board["behind_count"]) == (50, 1)
    assert body["can_manage"] is True


def test_out_of_scope_campaigns_are_not_found(world):
    campaign = services.campaign_create(
        actor=world.bureau_org, name="乙段专项走访", org_unit=world.union.station_b,
        starts_on=START, ends_on=END, covered_units=[])
    api = Api(world.cadre_a)
    for response in (api.get(f"/{campaign.pk}"), api.get(f"/{campaign.pk}/pairings"),
                     api.post(f"/{campaign.pk}/pairings", {"cadre_id": world.cadre_a.pk,
                                                          "kind": "unit",
                                                          "target_unit_id": 1})):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert AuditEvent.objects.filter(action="access.denied", actor=world.cadre_a).exists()


def test_pairings_are_cut_to_the_callers_scope(world, example):
    p = example.pairings
    items = Api(world.cadre_a).get(f"/{example.campaign.pk}/pairings").json()["items"]
    assert {i["id"] for i in items} == {p["p1"].pk, p["p2"].pk, p["p3"].pk, p["p4"].pk}
    by_id = {i["id"]: i for i in items}
    assert by_id[p["p1"].pk]["target_unit_name"] == world.union.workshop_a.name
    assert by_id[p["p1"].pk]["member_name"] is None
    assert by_id[p["p2"].pk]["visited"] is True
    assert by_id[p["p3"].pk]["visited"] is False
    items = Api(world.cadre_b).get(f"/{example.campaign.pk}/pairings?kind=household").json()
    assert {i["id"] for i in items["items"]} == {p["p6"].pk, p["p7"].pk}


def test_an_organiser_creates_updates_and_closes_a_campaign(world):
    union, api = world.union, Api(world.bureau_org)
    response = api.post("", {"name": "接口发起的走访", "org_unit_id": union.bureau.pk,
                             "starts_on": "2026-05-01", "ends_on": "2026-05-31",
                             "covered_unit_ids": [union.station_a.pk], "target_units": 3})
    assert response.status_code == 201
    body = response.json()
    assert body["covered_unit_ids"] == [union.station_a.pk]
    campaign_id = body["id"]
    response = api.patch(f"/{campaign_id}", {"ends_on": "2026-06-15",
                                             "covered_unit_ids": [union.station_a.pk,
                                                                  union.station_b.pk]})
    assert response.status_code == 200
    assert response.json()["ends_on"] == "2026-06-15"
    assert response.json()["name"] == "接口发起的走访"
    assert len(response.json()["covered_unit_ids"]) == 2
    assert api.post(f"/{campaign_id}/close").json()["status"] == CampaignStatus.CLOSED
    response = api.patch(f"/{campaign_id}", {"name": "改名"})
    assert response.status_code == 409
    assert response.json()["code"] == "campaign_closed"


def test_create_errors_come_back_as_code_and_message(world):
    api = Api(world.bureau_org)
    response = api.post("", {"name": "倒置", "org_unit_id": world.union.bureau.pk,
                             "starts_on": "2026-05-31", "ends_on": "2026-05-01"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_campaign"
    assert "结束日期不能早于开始日期" in response.json()["message"]
    # a visitor may not organise; a unit outside the organiser's scope is not found
    response = Api(world.cadre_a).post("", {"name": "x", "org_unit_id": world.union.station_a.pk,
                                            "starts_on": "2026-05-01", "ends_on": "2026-05-02"})
    assert response.status_code == 404
    response = Api(world.station_org).post("", {
        "name": "x", "org_unit_id": world.union.station_a.pk, "starts_on": "2026-05-01",
        "ends_on": "2026-05-02", "covered_unit_ids": [world.union.station_b.pk]})
    assert response.status_code == 404
    assert not VisitCampaign.objects.exists()


def test_an_organiser_adds_and_removes_pairings(world):
    campaign = services.campaign_create(
        actor=world.bureau_org, name="走访", org_unit=world.union.bureau, starts_on=START,
        ends_on=END, covered_units=[world.union.station_b])
    api = Api(world.bureau_org)
    member = world.members["b1"]
    response = api.post(f"/{campaign.pk}/pairings", {"cadre_id": world.cadre_b.pk,
                                                     "kind": "household",
                                                     "member_id": member.pk})
    assert response.status_code == 201
    pairing_id = response.json()["id"]
    assert response.json()["org_unit_id"] == world.union.team_b.pk
    # the household is taken
    response = api.post(f"/{campaign.pk}/pairings", {"cadre_id": world.cadre_b2.pk,
                                                     "kind": "household",
                                                     "member_id": member.pk})
    assert response.status_code == 409
    assert response.json()["code"] == "already_paired"
    # a target outside the covered units
    response = api.post(f"/{campaign.pk}/pairings", {"cadre_id": world.cadre_b.pk,
                                                     "kind": "unit",
                                                     "target_unit_id": world.union.team_a.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "outside_campaign"
    # a cadre who does not exist is refused like an ineligible one
    response = api.post(f"/{campaign.pk}/pairings", {"cadre_id": 999_999, "kind": "unit",
                                                     "target_unit_id": world.union.team_b.pk})
    assert response.json()["code"] == "invalid_cadre"
    assert api.delete(f"/{campaign.pk}/pairings/{pairing_id}").status_code == 204
    assert not Pairing.objects.filter(pk=pairing_id).exists()
    assert api.delete(f"/{campaign.pk}/pairings/{pairing_id}").status_code == 404


def test_visitors_cannot_pair_or_unpair(world, example):
    api = Api(world.cadre_b)
    response = api.post(f"/{example.campaign.pk}/pairings", {
        "cadre_id": world.cadre_b.pk, "kind": "unit", "target_unit_id": world.union.team_b.pk})
    assert response.status_code == 403
    assert response.json()["code"] == "campaign_forbidden"
    pairing = example.pairings["p6"]
    assert api.delete(f"/{example.campaign.pk}/pairings/{pairing.pk}").status_code == 403
    # another station's pairing is not even found
    other = example.pairings["p1"]
    assert api.delete(f"/{example.campaign.pk}/pairings/{other.pk}").status_code == 404
    assert Pairing.objects.filter(pk__in=[pairing.pk, other.pk]).count() == 2
