"""Needs become work: in one step an assistance application draft pre-filled from the profile
(with the worker's consent recorded), or a follow-up with an owner; or closed as solved."""
# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import verified_login
from unionaid.assistance.models import Application, ApplicationStatus
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, NotFound, ServiceError
from unionaid.members.models import ConsentKind
from unionaid.members.services import consent_withdraw
from unionaid.visits.models import FollowUp, FollowUpStatus, NeedStatus
from unionaid.visits.services import followups as followup_services
from unionaid.visits.services import needs as need_services
from unionaid.visits.services import visits as visit_services

from .helpers_records import (  # noqa: F401
    catalog,
    household,
    new_uuid,
    rec,
    today,
    visit_data,
)


@pytest.fixture
def need(rec):
    visit, _ = visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(),
                                           data=visit_data(rec.member))
    return visit.needs.get()


def test_a_need_becomes_a_prefilled_application_draft_in_one_step(rec, catalog, need):
    application = need_services.need_to_application(
        actor=rec.team_visitor, need=need, item=catalog["illness"], consent_method="书面签字")
    assert application.status == ApplicationStatus.DRAFT
    assert (application.member, application.on_behalf, application.filed_by) == (
        rec.member, True, rec.team_visitor)
    assert application.facts == {"self_paid": "36000.00", "patient": "配偶"}
    assert "走访发现" in application.reason
    assert "透析" in application.reason
    need.refresh_from_db()
    assert need.status == NeedStatus.APPLICATION
    assert need.application == application
    assert need.consent_method == "书面签字"
    assert need.consent_recorded_at is not None
    event = AuditEvent.objects.get(action="need.to_application")
    assert event.changes["application"] == application.pk
    assert event.changes["prefilled"] == ["patient", "self_paid"]
    assert event.changes["consent_method"] == "书面签字"
    assert AuditEvent.objects.filter(action="application.create").count() == 1


def test_income_facts_follow_the_items_own_definition(rec, catalog, need):
    application = need_services.need_to_application(
        actor=rec.visitor_a, need=need, item=catalog["living"], consent_method="当面口头同意")
    # (4,200 + 300) × 12 ÷ 12 ÷ 3 people: the item asks for income before rigid expenses
    assert application.facts == {"per_capita_income": "1500.00", "single_parent": False}


def test_medical_figures_are_not_prefilled_without_health_consent(rec, catalog, need):
    consent_withdraw(actor=rec.visitor_a, member=rec.member, kind=ConsentKind.HEALTH)
    application = need_services.need_to_application(
        actor=rec.visitor_a, need=need, item=catalog["illness"], consent_method="书面签字")
    assert application.facts == {}


def test_converting_a_need_twice_is_a_conflict(rec, catalog, need):
    need_services.need_to_application(actor=rec.visitor_a, need=need, item=catalog["illness"],
                                      consent_method="书面签字")
    with pytest.raises(Conflict) as exc:
        need_services.need_to_application(actor=rec.visitor_a, need=need,
                                          item=catalog["living"], consent_method="书面签字")
    assert exc.value.code == "need_converted"
    assert "已转为帮扶申请" in exc.value.message
    assert Application.objects.count() == 1


def test_the_workers_consent_is_required(rec, catalog, need):
    with pytest.raises(ServiceError) as exc:
        need_services.need_to_application(actor=rec.visitor_a, need=need,
                                          item=catalog["illness"], consent_method="  ")
    assert "consent_method" in exc.value.fields
    assert not Application.objects.exists()
    need.refresh_from_db()
    assert need.status == NeedStatus.OPEN


def test_a_closed_item_leaves_the_need_open(rec, catalog, need):
    item = catalog["illness"]
    item.valid_to = today() - dt.timedelta(days=1)
    item.save()
    with pytest.raises(ServiceError) as exc:
        need_services.need_to_application(actor=rec.visitor_a, need=need, item=item,
                                          consent_method="书面签字")
    assert exc.value.code == "item_closed"
    need.refresh_from_db()
    assert (need.status, need.consent_recorded_at) == (NeedStatus.OPEN, None)


def test_a_cadre_out_of_scope_cannot_convert_a_need(rec, catalog, need):
    with pytest.raises(NotFound):
        need_services.need_to_application(actor=rec.visitor_b, need=need,
                                          item=catalog["illness"], consent_method="书面签字")
    with pytest.raises(NotFound):
        need_services.need_to_follow_up(actor=rec.visitor_b, need=need, owner=rec.visitor_b,
                                        due_on=today())
    assert not Application.objects.exists()
    assert not FollowUp.objects.exists()


def test_a_need_becomes_a_follow_up_then_closes_with_it(rec, need):
    follow_up = need_services.need_to_follow_up(
        actor=rec.visitor_a, need=need, owner=rec.team_visitor,
        due_on=today() + dt.timedelta(days=10), title="")
    assert follow_up.title == "资金帮扶：配偶透析费用负担重"
    assert (follow_up.owner, follow_up.member, follow_up.need) == (
        rec.team_visitor, rec.member, need)
    need.refresh_from_db()
    assert need.status == NeedStatus.FOLLOW_UP
    with pytest.raises(Conflict):
        need_services.need_to_follow_up(actor=rec.visitor_a, need=need, owner=rec.visitor_a,
                                        due_on=today())
    followup_services.follow_up_done(actor=rec.team_visitor, follow_up=follow_up,
                                     note="已申请大病救助")
    need.refresh_from_db()
    assert need.status == NeedStatus.CLOSED
    assert need.resolved_at is not None


def test_closing_a_need_twice_changes_nothing(rec, need):
    need_services.need_close(actor=rec.visitor_a, need=need, note="已安排就业岗位")
    need_services.need_close(actor=rec.visitor_a, need=need, note="again")
    need.refresh_from_db()
    assert need.status == NeedStatus.CLOSED
    assert need.resolution_note == "已安排就业岗位"  # the first closing's note stays
    assert AuditEvent.objects.filter(action="need.close").count() == 1
    with pytest.raises(Conflict):
        need_services.need_to_follow_up(actor=rec.visitor_a, need=need, owner=rec.visitor_a,
                                        due_on=today())


def test_the_journal_keeps_the_length_of_free_text_only(rec, catalog, need):
    need_services.need_close(actor=rec.visitor_a, need=need, note="配偶已入院，费用已报销")
    event = AuditEvent.objects.get(action="need.close")
    assert event.changes["note_length"] == len("配偶已入院，费用已报销")
    assert "配偶已入院" not in json.dumps(event.changes, ensure_ascii=False)
    visit, _ = visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(),
                                           data=visit_data(rec.member))
    need_services.need_to_application(actor=rec.visitor_a, need=visit.needs.get(),
                                      item=catalog["illness"], consent_method="由配偶李某代签")
    event = AuditEvent.objects.get(action="need.to_application")
    assert event.changes["consent_method_length"] == len("由配偶李某代签")
    assert "李某" not in json.dumps(event.changes, ensure_ascii=False)


def test_a_workplace_need_without_a_member_cannot_become_an_application(rec, catalog):
    visit, _ = visit_services.visit_submit(
        actor=rec.visitor_a, client_uuid=new_uuid(),
        data=visit_data(kind="workplace", member_id=None, profile=None, consent={},
                        visited_unit_id=rec.union.team_a.pk))
    with pytest.raises(ServiceError) as exc:
        need_services.need_to_application(actor=rec.visitor_a, need=visit.needs.get(),
                                          item=catalog["illness"], consent_method="书面签字")
    assert exc.value.code == "need_without_member"


# -- through the pages ------------------------------------------------------------------------

def test_the_page_needs_the_consent_box_then_opens_the_draft(client, rec, catalog, need):
    verified_login(client, rec.visitor_a)
    url = f"/visits/needs/{need.pk}/application/"
    page = client.get(url)
    assert page.status_code == 200
    assert "大病医疗救助" in page.content.decode()
    refused = client.post(url, {"item": catalog["illness"].pk, "consent_method": "书面签字"})
    assert refused.status_code == 400
    assert "须征得职工同意" in refused.content.decode()
    assert not Application.objects.exists()
    done = client.post(url, {"item": catalog["illness"].pk, "consent": "on",
                             "consent_method": "书面签字"})
    application = Application.objects.get()
    assert done.status_code == 302
    assert done["Location"] == f"/assistance/applications/{application.pk}/"
    assert application.facts["self_paid"] == "36000.00"


def test_the_page_turns_a_need_into_a_follow_up_and_closes_another(client, rec, need):
    verified_login(client, rec.visitor_a)
    due = (today() + dt.timedelta(days=5)).isoformat()
    response = client.post(f"/visits/needs/{need.pk}/follow-up/",
                           {"title": "协调医保报销", "owner": rec.team_visitor.pk, "due_on": due})
    assert response.status_code == 302
    follow_up = FollowUp.objects.get()
    assert (follow_up.title, follow_up.owner, follow_up.status) == (
        "协调医保报销", rec.team_visitor, FollowUpStatus.OPEN)
    visit, _ = visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(),
                                           data=visit_data(rec.member))
    other = visit.needs.get()
    client.post(f"/visits/needs/{other.pk}/close/", {"note": "已解决"})
    other.refresh_from_db()
    assert other.status == NeedStatus.CLOSED


def test_need_pages_are_404_out_of_scope(client, rec, catalog, need):
    verified_login(client, rec.visitor_b)
    assert client.get(f"/visits/needs/{need.pk}/application/").status_code == 404
    assert client.post(f"/visits/needs/{need.pk}/close/", {"note": "x"}).status_code == 404
    need.refresh_from_db()
    assert need.status == NeedStatus.OPEN
