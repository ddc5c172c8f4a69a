"""/api/v1/members: scope, masking, paging, writes and the reveal journal."""

from __future__ import annotations

import json

import pytest

from unionaid.audit.models import AuditEvent
from unionaid.core import masking
from unionaid.members.models import Consent, HouseholdMember, Member


@pytest.fixture
def spread(union, make_member):
    return {
        "team_a": make_member(union.team_a, bank_account="6222021234567890123"),
        "workshop_a": make_member(union.workshop_a),
        "team_b": make_member(union.team_b),
    }


def _ids(response):
    return {item["id"] for item in response.json()["items"]}


def test_list_returns_only_members_in_scope(personas, spread, as_session, as_token):
    for api in (as_session(personas.team_cadre), as_token(personas.team_cadre)):
        response = api.get("/members")
        assert response.status_code == 200
        assert _ids(response) == {spread["team_a"].pk}
    station = as_session(personas.station_cadre).get("/members")
    assert _ids(station) == {spread["team_a"].pk, spread["workshop_a"].pk}


def test_a_worker_lists_only_themself(worker, spread, as_session):
    response = as_session(worker).get("/members")
    assert _ids(response) == {worker.member_id}


def test_list_and_detail_show_masked_values_only(personas, spread, as_session):
    member = spread["team_a"]
    api = as_session(personas.team_cadre)
    listing = api.get("/members")
    detail = api.get(f"/members/{member.pk}")
    assert detail.status_code == 200
    for response in (listing, detail):
        text = response.content.decode()
        assert member.id_number not in text
        assert member.phone not in text
        assert "6222021234567890123" not in text
        assert response["Cache-Control"] == "no-store"
    item = listing.json()["items"][0]
    assert item["id_number_masked"] == masking.mask_id_number(member.id_number)
    assert item["phone_masked"] == masking.mask_phone(member.phone)
    assert item["org_unit_name"] == "甲一班组"
    body = detail.json()
    assert body["bank_account_masked"] == "6222***********0123"
    assert "id_number" not in body
    assert "phone" not in body


def test_team_cadre_gets_404_for_a_member_of_another_station(personas, spread, as_session):
    other = spread["team_b"]
    api = as_session(personas.team_cadre)
    for response in (
        api.get(f"/members/{other.pk}"),
        api.patch(f"/members/{other.pk}", {"name": "改名"}),
        api.post(f"/members/{other.pk}/reveal", {"field": "id_number"}),
        api.get(f"/members/{other.pk}/household"),
    ):
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "记录不存在或无权查看。"}
    # Looks exactly like an id that doesn't exist.
    missing = api.get("/members/999999")
    assert missing.status_code == 404
    assert missing.json() == response.json()
    other.refresh_from_db()
    assert other.name != "改名"
    denied = AuditEvent.objects.filter(action="access.denied", actor=personas.team_cadre,
                                       target_id=str(other.pk))
    assert denied.count() == 4


def test_list_pages_with_a_cursor_and_next_link(personas, union, make_member, as_session):
    made = {make_member(union.team_a).pk for _ in range(5)}
    api = as_session(personas.team_cadre)
    first = api.get("/members?limit=2")
    body = first.json()
    assert len(body["items"]) == 2
    assert body["next"] == f"/api/v1/members?limit=2&cursor={body['next_cursor']}"
    seen, pages = _ids(first), 1
    response = first
    while response.json()["next"]:
        response = api.client.get(response.json()["next"])
        assert not (_ids(response) & seen)  # no row twice
        seen |= _ids(response)
        pages += 1
    assert seen == made
    assert pages == 3


def test_list_filters_by_unit_and_404s_for_a_unit_out_of_scope(personas, spread, union,
                                                                  as_session):
    api = as_session(personas.station_cadre)
    response = api.get(f"/members?unit_id={union.workshop_a.pk}")
    assert _ids(response) == {spread["team_a"].pk, spread["workshop_a"].pk}
    assert _ids(api.get(f"/members?unit_id={union.team_a.pk}")) == {spread["team_a"].pk}
    assert api.get(f"/members?unit_id={union.station_b.pk}").status_code == 404


def test_search_by_id_number_in_the_body_stays_in_scope(personas, spread, as_session):
    api = as_session(personas.station_cadre)
    mine = api.post("/members/search", {"q": spread["team_a"].id_number})
    assert mine.status_code == 200
    assert _ids(mine) == {spread["team_a"].pk}
    theirs = api.post("/members/search", {"q": spread["team_b"].id_number})
    assert _ids(theirs) == set()


def test_an_id_number_in_the_list_url_is_refused(personas, spread, as_session):
    api = as_session(personas.station_cadre)
    response = api.get(f"/members?q={spread['team_a'].id_number}")
    assert response.status_code == 400
    assert response.json()["code"] == "use_post_search"
    assert "POST" in response.json()["message"]


def test_list_rejects_a_bad_cursor(personas, spread, as_session):
    api = as_session(personas.team_cadre)
    out_of_scope = api.get(f"/members?cursor={spread['team_b'].pk}")
    assert out_of_scope.status_code == 400
    assert out_of_scope.json()["code"] == "invalid_cursor"
    assert api.get("/members?cursor=abc").json()["code"] == "invalid_cursor"


def test_it_creates_a_member_and_journals_it_masked(personas, union, people, as_session):
    person = people.person()
    api = as_session(personas.team_cadre)
    response = api.post("/members", {
        "name": person["name"], "id_number": person["id_number"], "phone": person["phone"],
        "org_unit_id": union.team_a.pk, "employment_form": "new_employment_form",
    })
    assert response.status_code == 201
    body = response.json()
    assert person["id_number"] not in response.content.decode()
    member = Member.objects.get(pk=body["id"])
    assert member.id_number == person["id_number"]
    assert member.employment_form == "new_employment_form"
    assert member.created_by == personas.team_cadre
    event = AuditEvent.objects.get(action="member.create", target_id=str(member.pk))
    assert person["id_number"] not in json.dumps(event.changes, ensure_ascii=False)


def test_create_in_a_unit_out_of_scope_is_not_found(personas, union, people, as_session):
    person = people.person()
    response = as_session(personas.team_cadre).post("/members", {
        "name": person["name"], "id_number": person["id_number"],
        "org_unit_id": union.team_b.pk,
    })
    assert response.status_code == 404
    assert not Member.objects.exists()


def test_invalid_input_is_422_with_code_and_chinese_message(personas, union, as_session):
    api = as_session(personas.team_cadre)
    bad_id = api.post("/members", {"name": "张三", "id_number": "110105199001011230",
                                   "org_unit_id": union.team_a.pk})
    assert bad_id.status_code == 422
    body = bad_id.json()
    assert body["code"] == "validation_error"
    assert "身份证" in body["fields"]["id_number"]
    missing = api.post("/members", {"name": "张三"})
    assert missing.status_code == 422
    assert missing.json()["code"] == "validation_error"
    assert missing.json()["message"] == "提交的数据格式不正确。"
    assert not Member.objects.exists()


def test_it_updates_only_the_fields_sent(personas, spread, union, as_session):
    member = spread["team_a"]
    old_id = member.id_number
    response = as_session(personas.station_cadre).patch(
        f"/members/{member.pk}",
        {"membership_status": "retired", "org_unit_id": union.workshop_a.pk},
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.membership_status == "retired"
    assert member.org_unit == union.workshop_a
    assert member.id_number == old_id
    event = AuditEvent.objects.get(action="member.update", target_id=str(member.pk))
    assert event.changes["membership_status"] == {"before": "active", "after": "retired"}


def test_update_cannot_move_a_member_out_of_scope(personas, spread, union, as_session):
    member = spread["team_a"]
    response = as_session(personas.team_cadre).patch(
        f"/members/{member.pk}", {"org_unit_id": union.team_b.pk}
    )
    assert response.status_code == 404
    member.refresh_from_db()
    assert member.org_unit == union.team_a


def test_reveal_returns_the_clear_value_and_writes_an_audit_event(personas, spread, as_session):
    member = spread["team_a"]
    response = as_session(personas.station_cadre).post(
        f"/members/{member.pk}/reveal", {"field": "id_number"}
    )
    assert response.status_code == 200
    assert response.json() == {"field": "id_number", "value": member.id_number}
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action="member.reveal", target_id=str(member.pk))
    assert event.actor == personas.station_cadre
    assert event.outcome == "ok"
    assert event.changes == {"field": "id_number"}


def test_reveal_without_the_permission_is_refused_and_journaled(personas, spread, as_session):
    member = spread["team_a"]
    response = as_session(personas.team_cadre).post(
        f"/members/{member.pk}/reveal", {"field": "phone"}
    )
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "message": "您无权查看完整信息。"}
    assert member.phone not in response.content.decode()
    assert AuditEvent.objects.filter(action="member.reveal", outcome="denied",
                                     actor=personas.team_cadre).count() == 1


def test_household_add_and_list_masked(personas, spread, people, as_session):
    member = spread["team_a"]
    spouse_id = people.person()["id_number"]
    api = as_session(personas.team_cadre)
    added = api.post(f"/members/{member.pk}/household",
                     {"name": "王芳", "relation": "spouse", "id_number": spouse_id})
    assert added.status_code == 201
    assert spouse_id not in added.content.decode()
    listed = api.get(f"/members/{member.pk}/household")
    assert listed.status_code == 200
    assert [(p["name"], p["relation_label"], p["id_number_masked"]) for p in listed.json()] == [
        ("王芳", "配偶", masking.mask_id_number(spouse_id))
    ]
    assert HouseholdMember.objects.filter(member=member, relation="spouse").count() == 1


def test_household_health_note_needs_consent(personas, spread, as_session):
    member = spread["team_a"]
    api = as_session(personas.team_cadre)
    refused = api.post(f"/members/{member.pk}/household",
                       {"name": "王强", "relation": "parent", "health_note": "慢性病"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "consent_required"
    assert not HouseholdMember.objects.exists()
    assert api.post(f"/members/{member.pk}/consents", {"kind": "health"}).status_code == 201
    added = api.post(f"/members/{member.pk}/household",
                     {"name": "王强", "relation": "parent", "health_note": "慢性病"})
    assert added.status_code == 201
    listed = api.get(f"/members/{member.pk}/household").json()
    assert listed[0]["has_health_note"] is True
    assert "慢性病" not in json.dumps(listed, ensure_ascii=False)


def test_consent_grant_and_withdraw(personas, spread, as_session):
    member = spread["team_a"]
    api = as_session(personas.team_cadre)
    granted = api.post(f"/members/{member.pk}/consents", {"kind": "children", "method": "电子签名"})
    assert granted.status_code == 201
    assert granted.json()["kind"] == "children"
    consent = Consent.objects.get(member=member, kind="children")
    assert consent.withdrawn_at is None
    withdrawn = api.delete(f"/members/{member.pk}/consents/children")
    assert withdrawn.status_code == 204
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert AuditEvent.objects.filter(action="consent.withdraw", target_id=str(member.pk)).exists()
    again = api.delete(f"/members/{member.pk}/consents/children")
    assert again.status_code == 404
    assert again.json()["code"] == "not_found"
    assert api.delete(f"/members/{member.pk}/consents/bogus").status_code == 422


def test_a_duplicate_id_number_out_of_scope_is_answered_without_whose_or_where(
    personas, union, make_member, as_session, as_token
):
    existing = make_member(union.team_b)
    for api in (as_session(personas.team_cadre), as_token(personas.team_cadre)):
        response = api.post("/members", {"name": "张三", "id_number": existing.id_number,
                                         "org_unit_id": union.team_a.pk})
        assert response.status_code == 409
        assert response.json() == {
            "code": "duplicate_id_number", "message": "该身份证号已登记，请联系上级工会核实。",
            "fields": {"id_number": "该身份证号已登记，请联系上级工会核实。"},
        }
    events = AuditEvent.objects.filter(action="member.duplicate_id_number", outcome="denied",
                                       target_id=str(existing.pk))
    assert events.count() == 2
    assert Member.objects.count() == 1


def test_a_duplicate_id_number_in_scope_keeps_the_plain_answer(
    personas, union, make_member, as_session
):
    existing = make_member(union.team_a)
    response = as_session(personas.team_cadre).post("/members", {
        "name": "张三", "id_number": existing.id_number, "org_unit_id": union.team_a.pk})
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_id_number"
    assert response.json()["message"] == "该身份证号已登记为职工。"
    assert not AuditEvent.objects.filter(action="member.duplicate_id_number").exists()


def test_a_list_page_decrypts_no_bank_account(personas, spread, as_session, monkeypatch):
    from unionaid.core import crypto

    accounts = {m.bank_account for m in Member.objects.all()} - {""}
    assert accounts  # the spread has a bank account to leave alone
    seen = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda token: seen.append(real(token)) or seen[-1])
    items = as_session(personas.team_cadre).get("/members").json()["items"]
    assert [item["id"] for item in items] == [spread["team_a"].pk]
    assert seen  # the ID number and phone were decrypted to be masked
    assert not accounts & set(seen)
