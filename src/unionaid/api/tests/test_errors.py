"""The API's answers to bad requests (issue 10, item 6): every /api/ 404 is the JSON error
body, a null where a list is expected is refused with a code (not a 500), an error's
``fields`` keeps its declared shape, and request bodies are strict about JSON types."""

from __future__ import annotations

import pytest
from django.test import Client

from unionaid.assistance.tests.api_chain import (  # noqa: F401 (fixtures)
    _private_media,
    budget,
    categories,
    flow,
    illness,
    make_item,
    source,
    staff,
)
from unionaid.visits.models import VisitCampaign
from unionaid.visits.tests.helpers_campaigns import Api, build_world, bureau_campaign

NOT_FOUND_KEYS = {"code", "message"}


@pytest.mark.parametrize("path", [
    "/api/v1/assistance/attachments/abc/file",   # the id fails the URL converter
    "/api/v1/no-such-thing",                     # no such operation
    "/api/",
])
def test_every_api_404_is_the_json_error_body(path, personas, as_token):
    api = as_token(personas.team_cadre)
    response = api.client.get(path, headers=api.headers)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == NOT_FOUND_KEYS
    assert body["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/v1/members/abc", "/api/v1/visits/campaigns/1.5/pairings"])
def test_a_malformed_id_in_an_operations_path_is_a_validation_error(path, personas, as_token):
    api = as_token(personas.team_cadre)
    response = api.client.get(path, headers=api.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_a_404_outside_the_api_stays_a_page(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.fixture
def world(union, make_member):
    return build_world(union, make_member)


def test_a_null_covered_unit_list_is_refused_with_a_code(world):
    campaign = bureau_campaign(world)
    api = Api(world.bureau_org)
    response = api.patch(f"/{campaign.pk}", {"covered_unit_ids": None})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "covered_unit_ids" in response.json()["fields"]
    campaign.refresh_from_db()
    assert campaign.covered_units.count() == 2
    # left out, the covered units stay as they were
    response = api.patch(f"/{campaign.pk}", {"name": "改名"})
    assert response.status_code == 200
    assert len(response.json()["covered_unit_ids"]) == 2


def test_a_refused_submit_gives_one_message_per_field(worker, illness, flow, budget,  # noqa: F811
                                                       as_token):
    api = as_token(worker)
    created = api.post("/assistance/applications",
                       {"item_code": "yl-dbjz", "facts": {"self_paid": "6000"}})
    assert created.status_code == 201, created.content
    # no 诊断证明 uploaded: the service lists the problems
    response = api.post(f"/assistance/applications/{created.json()['id']}/submit", {})
    assert response.status_code == 400
    body = response.json()
    assert body["fields"], body
    assert all(isinstance(v, str) for v in body["fields"].values()), body
    assert "诊断证明" in body["fields"]["__all__"]


@pytest.mark.parametrize(("body", "field"), [
    (False, ""),                                                   # not an object
    ([], ""),
    ({"name": "x", "org_unit_id": 1, "starts_on": 0, "ends_on": "2026-05-02"}, "starts_on"),
    ({"name": "x", "org_unit_id": "1", "starts_on": "2026-05-01", "ends_on": "2026-05-02"},
     "org_unit_id"),
    ({"name": 5, "org_unit_id": 1, "starts_on": "2026-05-01", "ends_on": "2026-05-02"}, "name"),
    ({"name": "x", "org_unit_id": 1, "starts_on": "2026-05-01", "ends_on": "2026-05-02",
      "covered_unit_ids": ["1"]}, "covered_unit_ids"),
    ({"name": "x", "org_unit_id": 1, "starts_on": "2026-05-01", "ends_on": "2026-05-02",
      "target_units": True}, "target_units"),
])
def test_request_bodies_are_strict_about_json_types(world, body, field):
    response = Api(world.bureau_org).post("", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert not VisitCampaign.objects.exists()
    if field:
        assert field in response.json()["fields"], response.json()


def test_a_query_date_must_be_an_iso_date(world):
    campaign = bureau_campaign(world)
    api = Api(world.bureau_org)
    assert api.get(f"/{campaign.pk}?as_of=0").status_code == 422
    assert api.get(f"/{campaign.pk}?as_of=2026-03-05").status_code == 200


def test_text_with_a_nul_character_is_refused_not_a_server_error(world):
    """PostgreSQL stores no NUL character: one in a body or query string is a 422 on every
    database, not a 500 on PostgreSQL (found by the fuzz test)."""
    api = Api(world.bureau_org)
    response = api.post("", {"name": "走访\u0000", "org_unit_id": world.union.bureau.pk,
                             "starts_on": "2026-05-01", "ends_on": "2026-05-02"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert api.get("?q=%00").status_code == 422
    assert not VisitCampaign.objects.exists()


def test_an_item_code_with_a_nul_character_is_not_found(worker, illness, as_token):  # noqa: F811
    response = as_token(worker).get("/assistance/items/yl-dbjz%00")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
