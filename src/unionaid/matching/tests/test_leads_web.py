"""The lead pages (the cadre's list with figures and evidence, accept / dismiss with a reason,
the rules page) and /api/v1/matching/leads, scope included."""

# ruff: noqa: F811

from __future__ import annotations

import pytest
from django.test import Client

from unionaid.assistance.models import Application
from unionaid.matching.leads import services as leads
from unionaid.matching.models import Lead, LeadRule, LeadStatus
from unionaid.matching.tests.helpers_leads import (  # noqa: F401 (fixtures)
    archive,
    clock,
    matched,
    people,
    world,
)


@pytest.fixture
def lead(world, matched, make_member) -> Lead:
    member = make_member(world["union"].team_a)
    leads.leads_raise(matched("medical", member, {"amount": "12000", "就诊医院": "市中心医院"},
                              title="2026年10月医保大额自付").run)
    return Lead.objects.get(member=member)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- pages -----------------------------------------------------------------------------------------

def test_the_lead_list_shows_the_cadres_leads_with_evidence_and_figures(world, lead):
    page = _client(world["lead_a"]).get("/matching/leads/")
    body = page.content.decode()
    assert page.status_code == 200
    assert lead.member.name in body
    assert "2026年10月医保大额自付" in body
    assert 'id="lead-figures"' in body
    other = _client(world["lead_b"]).get("/matching/leads/").content.decode()
    assert lead.member.name not in other


def test_the_lead_page_shows_the_evidence_and_is_not_found_for_another_unit(world, lead):
    body = _client(world["lead_a"]).get(f"/matching/leads/{lead.pk}/").content.decode()
    assert "市中心医院" in body
    assert "医保结算单" in body  # the material the record stands for
    assert _client(world["lead_b"]).get(f"/matching/leads/{lead.pk}/").status_code == 404


def test_accepting_on_the_page_opens_the_prefilled_application(world, lead):
    response = _client(world["lead_a"]).post(f"/matching/leads/{lead.pk}/accept/")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ACCEPTED
    assert response.status_code == 302
    assert response["Location"] == f"/assistance/applications/{lead.target_id}/"
    assert Application.objects.get(pk=lead.target_id).facts["self_paid"] == "12000.00"


def test_dismissing_on_the_page_without_a_reason_is_refused(world, lead):
    client = _client(world["lead_a"])
    response = client.post(f"/matching/leads/{lead.pk}/dismiss/", {"reason": ""})
    assert response.status_code == 400
    assert "请填写排除原因" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.RAISED
    response = client.post(f"/matching/leads/{lead.pk}/dismiss/", {"reason": "已获商业保险赔付"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISMISSED


def test_another_units_cadre_cannot_accept_on_the_page(world, lead):
    assert _client(world["lead_b"]).post(f"/matching/leads/{lead.pk}/accept/").status_code == 404
    lead.refresh_from_db()
    assert lead.status == LeadStatus.RAISED


def test_the_rules_page_lists_the_defaults_and_a_bad_condition_shows_its_error(world):
    admin = _client(world["cadres"].bureau)
    assert "金秋助学" in admin.get("/matching/lead-rules/").content.decode()
    response = admin.post("/matching/lead-rules/new/", {
        "code": "bad-rule", "name": "坏规则", "condition": "amount >>> 1", "action": "visit",
        "due_days": 7, "order": 0})
    assert response.status_code == 400
    assert "规则无法计算" in response.content.decode()
    assert not LeadRule.objects.filter(code="bad-rule").exists()
    response = admin.post("/matching/lead-rules/new/", {
        "code": "gig-dibao", "name": "低保名单上的新就业形态劳动者 → 走访",
        "condition": "new_employment_form", "action": "visit", "source_kinds": ["dibao"],
        "due_days": 7, "order": 5, "is_active": "on"})
    assert response.status_code == 302
    assert LeadRule.objects.get(code="gig-dibao").source_kinds == ["dibao"]
    assert _client(world["lead_a"]).get("/matching/lead-rules/new/").status_code == 404


# -- API -------------------------------------------------------------------------------------------

def test_the_api_lists_shows_and_counts_leads_in_scope(world, lead, as_token):
    api = as_token(world["lead_a"])
    listed = api.get("/matching/leads").json()
    assert [item["id"] for item in listed["items"]] == [lead.pk]
    detail = api.get(f"/matching/leads/{lead.pk}").json()
    assert detail["evidence"]["dataset"] == "2026年10月医保大额自付"
    assert "医保结算单" in detail["evidence_note"]
    assert api.get("/matching/leads/figures").json()["raised"] == 1
    other = as_token(world["lead_b"])
    assert other.get("/matching/leads").json()["items"] == []
    assert other.get(f"/matching/leads/{lead.pk}").status_code == 404
    assert other.post(f"/matching/leads/{lead.pk}/accept", {}).status_code == 404


def test_the_api_accepts_once_and_dismiss_needs_a_reason(world, lead, as_token):
    api = as_token(world["lead_a"])
    refused = api.post(f"/matching/leads/{lead.pk}/dismiss", {"reason": " "})
    assert refused.status_code == 422
    assert "reason" in refused.json()["fields"]
    first = api.post(f"/matching/leads/{lead.pk}/accept", {})
    assert first.status_code == 200
    assert first.json()["target_kind"] == "assistance.application"
    again = api.post(f"/matching/leads/{lead.pk}/accept", {})
    assert again.json()["target_id"] == first.json()["target_id"]
    assert api.post(f"/matching/leads/{lead.pk}/dismiss",
                    {"reason": "重复"}).status_code == 409


def test_the_api_refuses_a_rule_with_a_bad_expression(world, as_token):
    api = as_token(world["cadres"].bureau)
    response = api.post("/matching/leads/rules", {"code": "x", "name": "x", "action": "visit",
                                                  "condition": "open('/etc/passwd')"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_rule"
    codes = [rule["code"] for rule in api.get("/matching/leads/rules").json()]
    assert "medical-dbjz" in codes
    assert "x" not in codes


def test_the_member_page_shows_the_open_leads_to_a_cadre_in_scope(world, lead):
    body = _client(world["lead_a"]).get(f"/members/{lead.member_id}/").content.decode()
    assert 'id="summary-leads"' in body
    assert f"/matching/leads/{lead.pk}/" in body
    leads.lead_dismiss(actor=world["lead_a"], lead=lead, reason="已处理")
    body = _client(world["lead_a"]).get(f"/members/{lead.member_id}/").content.decode()
    assert 'id="summary-leads"' not in body


def test_a_visit_lead_is_accepted_on_the_page_with_its_due_date(world, matched, make_member):
    from unionaid.visits.models import FollowUp

    member = make_member(world["union"].team_a)
    leads.leads_raise(matched("dibao", member, {}).run)
    lead = Lead.objects.get(member=member, rule__code="dibao-visit")
    client = _client(world["lead_a"])
    assert 'name="due_on"' in client.get(f"/matching/leads/{lead.pk}/").content.decode()
    response = client.post(f"/matching/leads/{lead.pk}/accept/", {"due_on": "2026-10-09"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert FollowUp.objects.get(pk=lead.target_id).due_on.isoformat() == "2026-10-09"
    body = client.get(f"/matching/leads/{lead.pk}/").content.decode()
    assert "/visits/follow-ups/" in body
    assert 'id="lead-accept"' not in body  # handled: no more buttons
