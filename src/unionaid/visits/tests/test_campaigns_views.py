"""The campaign pages through the HTTP client: list, create/edit/close, the dashboard with its
scope (a 站段 cadre sees only their 站段's pairings and figures), and pairing add/remove."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import verified_login
from unionaid.audit.models import AuditEvent
from unionaid.visits.models import CampaignStatus, Pairing, VisitCampaign
from unionaid.visits.services import campaigns as services
from unionaid.visits.tests.helpers_campaigns import (
    END,
    START,
    build_example,
    build_world,
    bureau_campaign,
)

LIST = reverse("visits:campaign-list")
CREATE = reverse("visits:campaign-create")


def detail(campaign):
    return reverse("visits:campaign-detail", args=[campaign.pk])


def add_url(campaign):
    return reverse("visits:pairing-add", args=[campaign.pk])


@pytest.fixture
def world(union, make_member):
    return build_world(union, make_member)


@pytest.fixture
def example(world):
    # today is the sixth of ten days: 50 % of the period elapsed
    return build_example(world, start=timezone.localdate() - dt.timedelta(days=5))


def text(response) -> str:
    return response.content.decode()


def pairing_ids(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-pairing="(\d+)"', text(response))}


def cadre_options(response) -> set[int]:
    select = re.search(r'<select name="cadre".*?</select>', text(response), re.S).group(0)
    return {int(pk) for pk in re.findall(r'value="(\d+)"', select)}


def cadre_rows(response) -> list[str]:
    return re.findall(r'data-cadre="([^"]+)"', text(response))


# -- list -------------------------------------------------------------------------------------

def test_the_list_shows_campaigns_meeting_the_cadres_scope(client, world, example):
    station_b_only = services.campaign_create(
        actor=world.bureau_org, name="乙段专项走访", org_unit=world.union.station_b,
        starts_on=START, ends_on=END, covered_units=[])
    verified_login(client, world.cadre_a)
    page = text(client.get(LIST))
    assert example.campaign.name in page  # the 路局 campaign covers 站段 A
    assert station_b_only.name not in page
    assert 'id="campaign-create"' not in page
    assert client.get(detail(station_b_only)).status_code == 404


def test_organisers_get_the_create_button(client, world):
    verified_login(client, world.station_org)
    assert 'id="campaign-create"' in text(client.get(LIST))


def test_the_list_is_not_found_without_visit_rights(client, world, personas):
    verified_login(client, personas.bureau_admin)
    assert client.get(LIST).status_code == 404


# -- create, edit, close ----------------------------------------------------------------------

def test_an_organiser_creates_a_campaign(client, world):
    union = world.union
    verified_login(client, world.bureau_org)
    response = client.post(CREATE, {
        "name": "春节送温暖大走访", "org_unit": union.bureau.pk, "starts_on": "2026-01-10",
        "ends_on": "2026-02-10", "covered_units": [union.station_a.pk, union.station_b.pk],
        "target_units": 20, "target_workers": 300, "description": "一人一企"})
    campaign = VisitCampaign.objects.get(name="春节送温暖大走访")
    assert response.status_code == 302
    assert response["Location"] == detail(campaign)
    assert set(campaign.covered_units.all()) == {union.station_a, union.station_b}
    assert campaign.target_workers == 300
    assert AuditEvent.objects.filter(action="campaign.create", actor=world.bureau_org).exists()


def test_the_form_shows_the_services_message(client, world):
    verified_login(client, world.bureau_org)
    response = client.post(CREATE, {
        "name": "倒置的行动", "org_unit": world.union.bureau.pk, "starts_on": "2026-03-10",
        "ends_on": "2026-03-01", "target_units": 0, "target_workers": 0})
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in text(response)
    assert not VisitCampaign.objects.exists()


def test_visitors_cannot_open_the_create_form(client, world):
    verified_login(client, world.cadre_a)
    assert client.get(CREATE).status_code == 404
    assert client.post(CREATE, {"name": "x"}).status_code == 404


def test_an_organiser_edits_and_closes_a_campaign(client, world, example):
    campaign = example.campaign
    verified_login(client, world.bureau_org)
    edit = reverse("visits:campaign-edit", args=[campaign.pk])
    assert client.get(edit).status_code == 200
    response = client.post(edit, {
        "name": "春季大走访（延期）", "starts_on": "2026-03-01", "ends_on": "2026-03-31",
        "covered_units": [world.union.station_a.pk, world.union.station_b.pk],
        "target_units": 5, "target_workers": 10})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.ends_on) == ("春季大走访（延期）", dt.date(2026, 3, 31))
    close = reverse("visits:campaign-close", args=[campaign.pk])
    assert client.post(close).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    page = text(client.get(detail(campaign)))
    assert 'id="pairing-add"' not in page
    assert client.get(add_url(campaign)).status_code == 302  # back to the dashboard


def test_visitors_cannot_edit_or_close(client, world, example):
    campaign = example.campaign
    verified_login(client, world.cadre_a)
    assert client.get(reverse("visits:campaign-edit", args=[campaign.pk])).status_code == 404
    assert client.post(reverse("visits:campaign-close", args=[campaign.pk])).status_code == 404
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


# -- dashboard and scope ----------------------------------------------------------------------

def test_the_organiser_sees_every_pairing_and_who_is_behind(client, world, example):
    verified_login(client, world.bureau_org)
    response = client.get(detail(example.campaign))
    assert response.status_code == 200
    assert pairing_ids(response) == {p.pk for p in example.pairings.values()}
    assert cadre_rows(response) == ["cadre_b2", "cadre_b", "cadre_a", "cadre_a2"]
    page = text(response)
    assert page.count("behind-badge") == 1
    assert re.search(r'data-cadre="cadre_b2">\s*<td>cadre_b2 <span class="badge[^"]*behind',
                     page)
    assert 'id="partial-note"' not in page
    assert 'id="pairing-add"' in page


def test_a_station_cadre_sees_only_their_stations_pairings_and_figures(client, world, example):
    p = example.pairings
    verified_login(client, world.cadre_b)
    response = client.get(detail(example.campaign))
    assert response.status_code == 200
    assert pairing_ids(response) == {p["p5"].pk, p["p6"].pk, p["p7"].pk}
    assert cadre_rows(response) == ["cadre_b2", "cadre_b"]
    page = text(response)
    assert 'data-unit="SB"' in page
    assert 'data-unit="SA"' not in page
    assert world.members["a1"].name not in page  # 站段 A's households stay out
    assert 'id="partial-note"' in page
    assert 'id="pairing-add"' not in page  # a visitor does not organise
    # their own pairings, with the link to record a visit
    assert 'id="my-pairings"' in page
    assert f"/visits/new/?pairing={p['p6'].pk}" in page
    assert f"/visits/new/?pairing={p['p1'].pk}" not in page


def test_a_team_cadre_sees_their_own_pairing_outside_their_scope(client, world, example):
    # cadre_a2 (车间 A) is paired with a unit above their scope: they still see that pairing
    campaign = example.campaign
    p = services.pairing_add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a2,
                             kind="unit", target_unit=world.union.station_a)
    verified_login(client, world.cadre_a2)
    response = client.get(detail(campaign))
    ids = pairing_ids(response)
    assert p.pk in ids
    assert example.pairings["p5"].pk not in ids


# -- pairing add / remove ---------------------------------------------------------------------

def test_an_organiser_pairs_a_cadre_with_a_unit(client, world):
    campaign = bureau_campaign(world)
    verified_login(client, world.bureau_org)
    assert client.get(add_url(campaign)).status_code == 200
    response = client.post(add_url(campaign), {
        "cadre": world.cadre_a.pk, "kind": "unit", "target_unit": world.union.workshop_a.pk,
        "note": "联系车间"})
    assert response.status_code == 302
    pairing = Pairing.objects.get(campaign=campaign)
    assert (pairing.cadre, pairing.target_unit, pairing.note) == (
        world.cadre_a, world.union.workshop_a, "联系车间")


def test_an_organiser_finds_a_member_and_pairs_their_household(client, world):
    campaign = bureau_campaign(world, covered_units=[world.union.station_b])
    member = world.members["b1"]
    verified_login(client, world.bureau_org)
    # the search is a POST: an ID number typed there never lands in a URL
    found = client.post(add_url(campaign), {"action": "member-search", "mq": member.name})
    assert f"?member={member.pk}" in text(found)
    assert not Pairing.objects.exists()
    outside = client.post(add_url(campaign), {"action": "member-search",
                                              "mq": world.members["a1"].name})
    assert f"?member={world.members['a1'].pk}" not in text(outside)  # 站段 A isn't covered
    picked = client.get(add_url(campaign), {"member": member.pk})
    assert member.name in text(picked)
    response = client.post(f"{add_url(campaign)}?member={member.pk}", {
        "cadre": world.cadre_b.pk, "kind": "household", "member": member.pk})
    assert response.status_code == 302
    pairing = Pairing.objects.get(campaign=campaign)
    assert (pairing.member, pairing.org_unit) == (member, world.union.team_b)


def test_the_pairing_form_explains_a_taken_household(client, world, example):
    member = world.members["a1"]  # already paired with cadre_a
    verified_login(client, world.bureau_org)
    response = client.post(f"{add_url(example.campaign)}?member={member.pk}", {
        "cadre": world.cadre_a2.pk, "kind": "household", "member": member.pk})
    assert response.status_code == 400
    assert "一户只能有一名结对干部" in text(response)
    assert Pairing.objects.filter(member=member).count() == 1


def test_the_cadre_select_lists_only_cadres_in_scope(client, world):
    campaign = services.campaign_create(
        actor=world.station_org, name="车务段走访", org_unit=world.union.station_a,
        starts_on=START, ends_on=END, covered_units=[])
    verified_login(client, world.station_org)
    assert cadre_options(client.get(add_url(campaign))) == {
        world.station_org.pk, world.cadre_a.pk, world.cadre_a2.pk}
    assert cadre_options(client.get(add_url(campaign), {"cq": "cadre_a2"})) == {
        world.cadre_a2.pk}
    # posting an out-of-scope cadre anyway is refused
    response = client.post(add_url(campaign), {
        "cadre": world.cadre_b.pk, "kind": "unit", "target_unit": world.union.workshop_a.pk})
    assert response.status_code == 400
    assert not Pairing.objects.exists()


def test_an_organiser_removes_a_pairing(client, world, example):
    pairing = example.pairings["p7"]
    verified_login(client, world.bureau_org)
    url = reverse("visits:pairing-remove", args=[example.campaign.pk, pairing.pk])
    assert client.post(url).status_code == 302
    assert not Pairing.objects.filter(pk=pairing.pk).exists()
    assert AuditEvent.objects.filter(action="pairing.remove", target_id=str(pairing.pk)).exists()


def test_visitors_cannot_add_or_remove_pairings(client, world, example):
    pairing = example.pairings["p6"]
    verified_login(client, world.cadre_b)
    assert client.get(add_url(example.campaign)).status_code == 404
    url = reverse("visits:pairing-remove", args=[example.campaign.pk, pairing.pk])
    assert client.post(url).status_code == 404
    assert Pairing.objects.filter(pk=pairing.pk).exists()
