"""/api/v1/visits: idempotent submit (201 then 200 with the same body), scoped reads, photos,
profile history with consent rules, needs and follow-ups."""
# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

import datetime as dt

from django.test import Client

from unionaid.assistance.tests.helpers import PDF_BYTES, jpeg_bytes, upload
from unionaid.audit.models import AuditEvent
from unionaid.core.testing.api import ApiClient
from unionaid.members.models import ConsentKind
from unionaid.members.services import consent_withdraw
from unionaid.visits.models import FollowUp, NeedStatus, Visit, VisitNeed

from .helpers_records import (  # noqa: F401
    catalog,
    new_uuid,
    private_media,
    rec,
    today,
    visit_data,
)


def api(user) -> ApiClient:
    client = Client()
    client.force_login(user)
    return ApiClient(client)


def payload(member, key=None, **overrides):
    data = visit_data(member, **overrides)
    data["client_uuid"] = key or new_uuid()
    return data


def test_submitting_the_same_draft_twice_answers_201_then_200_with_one_visit(rec):
    body = payload(rec.member)
    first = api(rec.visitor_a).post("/visits/", body)
    second = api(rec.visitor_a).post("/visits/", body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert Visit.objects.count() == 1
    detail = first.json()
    assert detail["client_uuid"] == body["client_uuid"]
    assert detail["profile"]["per_capita_monthly"] == "166.67"
    assert detail["profile"]["has_major_illness"] is True
    assert [n["kind"] for n in detail["needs"]] == ["money"]


def test_invalid_input_is_422_with_the_field_and_nothing_written(rec):
    response = api(rec.visitor_a).post("/visits/", payload(rec.member, consent={}))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert "consent.health" in body["fields"]
    bad_date = api(rec.visitor_a).post("/visits/", payload(rec.member, visited_on="soon"))
    assert bad_date.status_code == 422
    assert not Visit.objects.exists()


def test_the_same_draft_from_another_cadre_is_409(rec):
    body = payload(rec.member)
    api(rec.visitor_a).post("/visits/", body)
    response = api(rec.team_visitor).post("/visits/", body)
    assert response.status_code == 409
    assert response.json()["code"] == "client_uuid_conflict"


def test_reads_are_scoped(rec):
    visit_id = api(rec.visitor_a).post("/visits/", payload(rec.member)).json()["id"]
    mine = api(rec.viewer_a).get("/visits/")
    assert [v["id"] for v in mine.json()["items"]] == [visit_id]
    assert api(rec.viewer_a).get(f"/visits/{visit_id}").status_code == 200
    other = api(rec.visitor_b)
    assert other.get("/visits/").json()["items"] == []
    response = other.get(f"/visits/{visit_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert other.post("/visits/", payload(rec.member)).status_code == 404
    assert api(rec.viewer_a).get("/visits/?hardship_found=false").json()["items"] == []


def denials(target_type: str, target_id) -> int:
    return AuditEvent.objects.filter(action="access.denied", target_type=target_type,
                                     target_id=str(target_id)).count()


def test_an_out_of_scope_submit_is_404_and_the_attempt_is_journaled(rec):
    response = api(rec.visitor_b).post("/visits/", payload(rec.member))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert denials("members.member", rec.member.pk) == 1
    workplace = payload(None, kind="workplace", profile=None, consent={}, needs=[],
                        visited_unit_id=rec.union.workshop_a.pk)
    assert api(rec.visitor_b).post("/visits/", workplace).status_code == 404
    assert denials("org.orgunit", rec.union.workshop_a.pk) == 1
    assert not Visit.objects.exists()


def test_a_campaign_filter_out_of_scope_is_404_and_journaled(rec):
    from unionaid.visits.models import VisitCampaign

    campaign = VisitCampaign.objects.create(name="春季大走访", org_unit=rec.union.station_a,
                                            starts_on=dt.date(2026, 3, 1),
                                            ends_on=dt.date(2026, 3, 31))
    assert api(rec.visitor_a).get(f"/visits/?campaign_id={campaign.pk}").status_code == 200
    assert denials("visits.visitcampaign", campaign.pk) == 0
    response = api(rec.visitor_b).get(f"/visits/?campaign_id={campaign.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert denials("visits.visitcampaign", campaign.pk) == 1


def test_out_of_scope_writes_on_needs_and_follow_ups_are_404_and_journaled(rec):
    visit = api(rec.visitor_a).post("/visits/", payload(rec.member)).json()
    need_id = visit["needs"][0]["id"]
    other = api(rec.visitor_b)
    assert other.post(f"/visits/needs/{need_id}/close", {"note": "x"}).status_code == 404
    assert denials("visits.visitneed", need_id) == 1
    due = today().isoformat()
    assert other.post("/visits/follow-ups", {"member_id": rec.member.pk, "title": "回访",
                                             "due_on": due}).status_code == 404
    assert denials("members.member", rec.member.pk) == 1
    assert other.client.post(f"/api/v1/visits/{visit['id']}/photos",
                             {"file": upload("a.jpg", jpeg_bytes())}).status_code == 404
    assert denials("visits.visit", visit["id"]) == 1


def test_photos_are_type_checked(rec, private_media):
    visit_id = api(rec.visitor_a).post("/visits/", payload(rec.member)).json()["id"]
    client = api(rec.visitor_a).client
    refused = client.post(f"/api/v1/visits/{visit_id}/photos",
                          {"file": upload("a.pdf", PDF_BYTES)})
    assert refused.status_code == 400
    assert refused.json()["code"] == "file_type"
    created = client.post(f"/api/v1/visits/{visit_id}/photos",
                          {"file": upload("a.jpg", jpeg_bytes())})
    assert created.status_code == 201
    photo = created.json()
    assert client.get(photo["url"]).status_code == 200
    assert api(rec.visitor_b).client.get(photo["url"]).status_code == 404


def test_profile_history_follows_the_consent_rules(rec):
    api(rec.visitor_a).post("/visits/", payload(rec.member))
    rows = api(rec.viewer_a).get(f"/visits/members/{rec.member.pk}/profiles").json()
    assert len(rows) == 1
    assert rows[0]["data"]["health"] == {"major_illness": True, "chronic": False,
                                         "disability": False, "has_note": True}
    assert "每周透析" not in str(rows[0])
    consent_withdraw(actor=rec.visitor_a, member=rec.member, kind=ConsentKind.HEALTH)
    rows = api(rec.viewer_a).get(f"/visits/members/{rec.member.pk}/profiles").json()
    assert rows[0]["data"]["health"] is None
    assert rows[0]["has_major_illness"] is None
    assert "medical_annual" not in rows[0]["data"]["expenses"]
    assert all("health" not in p for p in rows[0]["data"]["household"])
    assert api(rec.visitor_b).get(
        f"/visits/members/{rec.member.pk}/profiles").status_code == 404


def test_needs_become_work_through_the_api(rec, catalog):
    api(rec.visitor_a).post("/visits/", payload(rec.member))
    open_needs = api(rec.visitor_a).get("/visits/needs").json()
    assert len(open_needs) == 1
    need_id = open_needs[0]["id"]
    response = api(rec.visitor_a).post(f"/visits/needs/{need_id}/application",
                                       {"item_code": "yl-dbjz", "consent_method": "书面签字"})
    assert response.status_code == 201
    body = response.json()
    assert body["facts"]["self_paid"] == "36000.00"
    assert body["need"]["status"] == NeedStatus.APPLICATION
    again = api(rec.visitor_a).post(f"/visits/needs/{need_id}/application",
                                    {"item_code": "kn-dqnz", "consent_method": "书面签字"})
    assert again.status_code == 409
    assert api(rec.visitor_a).get("/visits/needs").json() == []


def test_follow_ups_through_the_api(rec):
    visit = api(rec.visitor_a).post("/visits/", payload(rec.member)).json()
    need_id = visit["needs"][0]["id"]
    due = (today() + dt.timedelta(days=3)).isoformat()
    made = api(rec.visitor_a).post(f"/visits/needs/{need_id}/follow-up",
                                   {"owner_id": rec.team_visitor.pk, "due_on": due})
    assert made.status_code == 201
    assert made.json()["owner_id"] == rec.team_visitor.pk
    listed = api(rec.team_visitor).get("/visits/follow-ups").json()["items"]
    assert [f["id"] for f in listed] == [made.json()["id"]]
    created = api(rec.visitor_a).post("/visits/follow-ups", {
        "member_id": rec.member.pk, "title": "年底回访", "due_on": due, "visit_id": visit["id"]})
    assert created.status_code == 201
    done = api(rec.team_visitor).post(f"/visits/follow-ups/{made.json()['id']}/done",
                                      {"note": "已协调"})
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    assert VisitNeed.objects.get(pk=need_id).status == NeedStatus.CLOSED
    assert api(rec.visitor_b).post(f"/visits/follow-ups/{created.json()['id']}/done",
                                   {"note": "x"}).status_code == 404
    assert FollowUp.objects.count() == 2
