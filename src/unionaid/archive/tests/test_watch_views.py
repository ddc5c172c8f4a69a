"""Watch-list pages and API, through the HTTP client."""

from __future__ import annotations

from django.test import Client

from conftest import verified_login
from unionaid.archive.models import DifficultUnit, WatchEntry, WatchKind, WatchSource
from unionaid.archive.services.watch import watch_add, watchlists_refresh
from unionaid.archive.tests.helpers_lists import TODAY, add_profile, lists_fixture  # noqa: F401
from unionaid.audit.models import AuditEvent
from unionaid.members.models import EmploymentForm


def login(user) -> Client:
    return verified_login(Client(), user)


def test_the_page_shows_a_list_with_counts_per_tab(lists, make_member):
    rider = make_member(lists.union.team_a, employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
    make_member(lists.union.team_b, employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
    edge = make_member(lists.union.team_a)
    add_profile(edge, "1000")
    watchlists_refresh(today=TODAY)
    response = login(lists.viewer_a).get("/archive/watch/?kind=gig")
    assert response.status_code == 200
    body = response.content.decode()
    assert rider.name in body
    assert rider.id_number_masked in body
    assert rider.id_number not in body
    assert 'data-kind="gig">1<' in body
    assert 'data-kind="edge">1<' in body
    assert edge.name not in body  # another tab
    assert "按规则刷新" not in body  # a viewer cannot manage


def test_the_unit_filter_narrows_the_list(lists, make_member):
    in_team = make_member(lists.union.team_a, employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
    at_station = make_member(lists.union.station_a,
                             employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
    watchlists_refresh(today=TODAY)
    client = login(lists.cadre_a)
    body = client.get(f"/archive/watch/?kind=gig&unit={lists.union.team_a.pk}").content.decode()
    assert in_team.name in body
    assert at_station.name not in body
    response = client.get(f"/archive/watch/?kind=gig&unit={lists.union.team_b.pk}")
    assert response.status_code == 200
    assert "乙一班组" not in response.content.decode()  # another station's unit is not offered


def test_the_page_needs_archive_view(lists):
    assert login(lists.registrar).get("/archive/watch/").status_code == 404


def test_a_cadre_adds_a_member_by_hand(lists, make_member):
    member = make_member(lists.union.team_a, name="王建国")
    client = login(lists.cadre_a)
    found = client.post("/archive/watch/add/?kind=model_worker", {"q": "王建"})
    assert found.status_code == 200
    assert member.name in found.content.decode()
    assert f"?member={member.pk}&amp;kind=model_worker" in found.content.decode()
    response = client.post(f"/archive/watch/add/?member={member.pk}",
                           {"kind": "model_worker", "reason": "省劳模，因病致困"})
    assert response.status_code == 302
    entry = WatchEntry.objects.get(member=member)
    assert entry.kind == WatchKind.MODEL_WORKER
    assert entry.source == WatchSource.MANUAL
    assert entry.added_by == lists.cadre_a
    again = client.post(f"/archive/watch/add/?member={member.pk}",
                        {"kind": "model_worker", "reason": "重复"})
    assert again.status_code == 400
    assert "已在" in again.content.decode()


def test_the_member_search_is_a_post_and_ignores_a_query_in_the_url(lists, make_member):
    """An ID number or phone must never travel in a URL (access logs, history, Referer)."""
    member = make_member(lists.union.team_a, name="王建国")
    client = login(lists.cadre_a)
    for query in (member.id_number, member.phone, "王建"):
        response = client.get("/archive/watch/add/", {"q": query})
        assert response.status_code == 200
        body = response.content.decode()
        assert member.name not in body
        assert 'id="member-q" value=""' in body  # not taken up into the search form
    page = client.get("/archive/watch/add/").content.decode()
    assert '<form method="post" action="/archive/watch/add/"' in page
    found = client.post("/archive/watch/add/", {"q": member.id_number}).content.decode()
    assert member.name in found
    assert member.id_number_masked in found


def test_adding_an_out_of_scope_member_is_not_found(lists, make_member):
    member = make_member(lists.union.team_b)
    response = login(lists.cadre_a).post(f"/archive/watch/add/?member={member.pk}",
                                         {"kind": "other", "reason": "x"})
    assert response.status_code == 404
    assert not WatchEntry.objects.exists()


def test_a_cadre_removes_an_entry_with_a_reason(lists, make_member):
    member = make_member(lists.union.team_a)
    entry = watch_add(actor=lists.cadre_a, member=member, kind=WatchKind.OTHER, reason="独居")
    assert login(lists.cadre_b).post(f"/archive/watch/{entry.pk}/remove/",
                                     {"reason": "x"}).status_code == 404
    client = login(lists.workshop_cadre)
    client.post(f"/archive/watch/{entry.pk}/remove/", {"reason": ""})
    entry.refresh_from_db()
    assert entry.removed_at is None
    response = client.post(f"/archive/watch/{entry.pk}/remove/", {"reason": "已改善"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.removed_at is not None


def test_refresh_button_and_difficult_units_page(lists, make_member):
    member = make_member(lists.union.team_a)
    client = login(lists.cadre_a)
    response = client.post("/archive/difficult-units/", {
        "unit": lists.union.workshop_a.pk, "since": "2026-01-05", "note": "停产"})
    assert response.status_code == 302
    marked = DifficultUnit.objects.get()
    assert WatchEntry.objects.filter(member=member, kind=WatchKind.FIRM_DIFFICULTY).exists()
    page = client.get("/archive/difficult-units/").content.decode()
    assert "甲车间" in page
    assert login(lists.cadre_b).post(
        f"/archive/difficult-units/{marked.pk}/remove/").status_code == 404
    assert client.post("/archive/watch/refresh/").status_code == 404  # a station's manager
    assert login(lists.viewer_a).post("/archive/watch/refresh/").status_code == 404
    assert not AuditEvent.objects.filter(action="watch.refresh").exists()


def test_only_a_manager_of_every_unit_sees_and_uses_the_refresh_button(lists):
    station = login(lists.cadre_a).get("/archive/watch/").content.decode()
    assert "手工列入" in station
    assert "按规则刷新" not in station
    bureau = login(lists.bureau_officer)
    assert "按规则刷新" in bureau.get("/archive/watch/").content.decode()
    assert bureau.post("/archive/watch/refresh/").status_code == 302
    assert AuditEvent.objects.filter(action="watch.refresh",
                                     actor_id=lists.bureau_officer.pk).exists()


# -- API -----------------------------------------------------------------------------------------

def test_api_lists_counts_adds_and_removes(lists, make_member):
    mine = make_member(lists.union.team_a, employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
    make_member(lists.union.team_b, employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
    watchlists_refresh(today=TODAY)
    client = login(lists.cadre_a)
    listed = client.get("/api/v1/archive/watch?kind=gig").json()
    assert [item["member_id"] for item in listed["items"]] == [mine.pk]
    assert listed["items"][0]["id_number_masked"] == mine.id_number_masked
    counts = client.get("/api/v1/archive/watch/counts").json()["counts"]
    assert counts["gig"] == 1
    other = make_member(lists.union.team_a)
    created = client.post("/api/v1/archive/watch", {"member_id": other.pk, "kind": "other",
                                                     "reason": "独居老人"},
                          content_type="application/json")
    assert created.status_code == 201
    entry_id = created.json()["id"]
    duplicate = client.post("/api/v1/archive/watch", {"member_id": other.pk, "kind": "other",
                                                       "reason": "x"},
                            content_type="application/json")
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "already_watched"
    removed = client.post(f"/api/v1/archive/watch/{entry_id}/remove", {"reason": "已好转"},
                          content_type="application/json")
    assert removed.status_code == 200
    assert removed.json()["removed_at"] is not None


def test_api_out_of_scope_is_not_found(lists, make_member):
    member_b = make_member(lists.union.team_b)
    entry = watch_add(actor=lists.cadre_b, member=member_b, kind=WatchKind.OTHER, reason="x")
    client = login(lists.cadre_a)
    assert client.post("/api/v1/archive/watch", {"member_id": member_b.pk, "kind": "other",
                                                  "reason": "x"},
                       content_type="application/json").status_code == 404
    assert client.post(f"/api/v1/archive/watch/{entry.pk}/remove", {"reason": "x"},
                       content_type="application/json").status_code == 404
    assert client.get(f"/api/v1/archive/watch?unit_id={lists.union.team_b.pk}").status_code == 404


def test_api_refresh_and_difficult_units(lists, make_member):
    member = make_member(lists.union.team_a)
    client = login(lists.cadre_a)
    created = client.post("/api/v1/archive/difficult-units", {
        "unit_id": lists.union.team_a.pk, "since": "2026-02-01"}, content_type="application/json")
    assert created.status_code == 201
    assert [row["org_unit_id"] for row in client.get("/api/v1/archive/difficult-units").json()] \
        == [lists.union.team_a.pk]
    refused = client.post("/api/v1/archive/watch/refresh")
    assert refused.status_code == 403
    assert refused.json()["code"] == "refresh_not_allowed"
    refreshed = login(lists.bureau_officer).post("/api/v1/archive/watch/refresh")
    assert refreshed.status_code == 200
    assert refreshed.json()["firm_difficulty"]["matched"] == 1
    assert client.post(f"/api/v1/archive/difficult-units/{created.json()['id']}/remove",
                       {}, content_type="application/json").status_code == 204
    assert not WatchEntry.objects.filter(member=member, removed_at__isnull=True).exists()
