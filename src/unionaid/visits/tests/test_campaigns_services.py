"""Campaign and pairing rules, through the services."""

from __future__ import annotations

import datetime as dt

import pytest

from unionaid.accounts import services as account_services
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.org.models import OrgUnit
from unionaid.visits.models import CampaignStatus, Pairing, Visit
from unionaid.visits.services import campaigns as services
from unionaid.visits.tests.helpers_campaigns import (
    END,
    START,
    build_world,
    bureau_campaign,
    visit,
)


@pytest.fixture
def world(union, make_member):
    return build_world(union, make_member)


@pytest.fixture
def campaign(world):
    return bureau_campaign(world)


def events(action: str):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# -- campaigns --------------------------------------------------------------------------------

def test_it_creates_a_campaign_and_journals_it(world, campaign):
    union = world.union
    assert campaign.status == CampaignStatus.ACTIVE
    assert campaign.created_by == world.bureau_org
    assert set(campaign.covered_units.all()) == {union.station_a, union.station_b}
    [event] = events("campaign.create")
    assert event.actor == world.bureau_org
    assert event.target_id == str(campaign.pk)
    assert event.changes["covered_units"] == sorted([union.station_a.pk, union.station_b.pk])
    assert event.changes["target_workers"] == 4


def test_it_covers_its_own_unit_when_none_is_given(world):
    campaign = services.campaign_create(
        actor=world.station_org, name="车务段走访", org_unit=world.union.station_a,
        starts_on=START, ends_on=END, covered_units=[])
    assert list(campaign.covered_units.all()) == [world.union.station_a]


def test_it_drops_covered_units_already_under_another(world):
    union = world.union
    campaign = bureau_campaign(world, covered_units=[union.workshop_a, union.station_a,
                                                     union.team_b])
    assert set(campaign.covered_units.all()) == {union.station_a, union.team_b}


def test_it_rejects_a_period_ending_before_it_starts(world):
    with pytest.raises(ServiceError) as exc:
        bureau_campaign(world, starts_on=END, ends_on=START)
    assert exc.value.code == "invalid_campaign"
    assert "ends_on" in exc.value.fields
    # a one-day campaign is fine
    assert bureau_campaign(world, starts_on=START, ends_on=START).pk


def test_it_rejects_covered_units_outside_the_campaign_unit(world):
    with pytest.raises(ServiceError) as exc:
        services.campaign_create(
            actor=world.bureau_org, name="车务段走访", org_unit=world.union.station_a,
            starts_on=START, ends_on=END, covered_units=[world.union.workshop_b])
    assert "covered_units" in exc.value.fields
    assert "不在发起单位" in exc.value.message


def test_it_rejects_a_closed_covered_unit(world):
    OrgUnit.objects.filter(pk=world.union.team_b.pk).update(is_closed=True)
    with pytest.raises(ServiceError) as exc:
        bureau_campaign(world, covered_units=[world.union.team_b])
    assert "已撤销" in exc.value.message


def test_it_refuses_organisers_outside_the_campaign_unit(world):
    # a 站段 A organiser can't run a 路局 campaign, a visitor can't run any
    with pytest.raises(PermissionDenied):
        services.campaign_create(
            actor=world.station_org, name="全局走访", org_unit=world.union.bureau,
            starts_on=START, ends_on=END, covered_units=[world.union.station_a])
    with pytest.raises(PermissionDenied):
        services.campaign_create(
            actor=world.cadre_a, name="车务段走访", org_unit=world.union.station_a,
            starts_on=START, ends_on=END, covered_units=[])
    assert not events("campaign.create")


def test_it_updates_a_campaign_and_journals_the_changes(world, campaign):
    union = world.union
    updated = services.campaign_update(
        actor=world.bureau_org, campaign=campaign, name="春季大走访（延长）", starts_on=START,
        ends_on=dt.date(2026, 3, 20), covered_units=[union.station_a], target_units=3,
        target_workers=4, description="延长十天")
    assert (updated.name, updated.ends_on, updated.target_units) == (
        "春季大走访（延长）", dt.date(2026, 3, 20), 3)
    assert list(updated.covered_units.all()) == [union.station_a]
    [event] = events("campaign.update")
    assert event.changes["ends_on"] == {"before": "2026-03-10", "after": "2026-03-20"}
    assert event.changes["covered_units"]["after"] == [union.station_a.pk]
    assert "target_workers" not in event.changes


def test_it_keeps_covered_units_that_hold_pairings(world, campaign):
    union = world.union
    services.pairing_add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_b,
                         kind="unit", target_unit=union.workshop_b)
    with pytest.raises(ServiceError) as exc:
        services.campaign_update(
            actor=world.bureau_org, campaign=campaign, name=campaign.name, starts_on=START,
            ends_on=END, covered_units=[union.station_a])
    assert exc.value.code == "covered_unit_in_use"
    assert set(campaign.covered_units.all()) == {union.station_a, union.station_b}


def test_it_closes_a_campaign_once(world, campaign):
    closed = services.campaign_close(actor=world.bureau_org, campaign=campaign)
    assert closed.status == CampaignStatus.CLOSED
    again = services.campaign_close(actor=world.bureau_org, campaign=campaign)
    assert again.status == CampaignStatus.CLOSED
    assert len(events("campaign.close")) == 1
    with pytest.raises(Conflict) as exc:
        services.campaign_update(
            actor=world.bureau_org, campaign=campaign, name="x", starts_on=START, ends_on=END,
            covered_units=[])
    assert exc.value.code == "campaign_closed"


def test_only_organisers_close(world, campaign):
    with pytest.raises(PermissionDenied):
        services.campaign_close(actor=world.station_org, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


# -- pairings ---------------------------------------------------------------------------------

def test_it_pairs_a_cadre_with_a_unit_and_a_household(world, campaign):
    union, member = world.union, world.members["a1"]
    by_unit = services.pairing_add(actor=world.bureau_org, campaign=campaign,
                                   cadre=world.cadre_a, kind="unit",
                                   target_unit=union.workshop_a, note="一人一企")
    by_home = services.pairing_add(actor=world.bureau_org, campaign=campaign,
                                   cadre=world.cadre_a, kind="household", member=member)
    assert by_unit.org_unit == union.workshop_a
    assert by_home.org_unit == union.team_a  # the member's unit, for data scope
    added = events("pairing.add")
    assert [e.target_id for e in added] == [str(by_unit.pk), str(by_home.pk)]
    assert added[1].changes == {"campaign": campaign.pk, "cadre": world.cadre_a.pk,
                                "kind": "household", "target_unit": None, "member": member.pk}
    assert added[1].org_unit_path == union.team_a.path


def test_a_unit_has_one_cadre_per_campaign(world, campaign):
    add = services.pairing_add
    first = add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a, kind="unit",
                target_unit=world.union.workshop_a)
    # the same pairing again (a retried submit) is the same pairing, journaled once
    assert add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a, kind="unit",
               target_unit=world.union.workshop_a) == first
    with pytest.raises(Conflict) as exc:
        add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a2, kind="unit",
            target_unit=world.union.workshop_a)
    assert exc.value.code == "already_paired"
    assert "cadre_a" in exc.value.message
    assert Pairing.objects.filter(campaign=campaign).count() == 1
    assert len(events("pairing.add")) == 1
    # another campaign may pair the same unit again
    other = bureau_campaign(world, name="夏季走访")
    assert add(actor=world.bureau_org, campaign=other, cadre=world.cadre_a2, kind="unit",
               target_unit=world.union.workshop_a).pk


def test_a_household_has_one_cadre_per_campaign(world, campaign):
    member = world.members["a1"]
    services.pairing_add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a,
                         kind="household", member=member)
    with pytest.raises(Conflict) as exc:
        services.pairing_add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a2,
                             kind="household", member=member)
    assert "一户只能有一名结对干部" in exc.value.message


def test_a_race_past_the_check_still_ends_in_a_conflict(world, campaign, monkeypatch):
    services.pairing_add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a,
                         kind="unit", target_unit=world.union.workshop_a)
    real = services._existing
    calls = []

    def blind_once(*args):
        calls.append(1)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(services, "_existing", blind_once)
    with pytest.raises(Conflict) as exc:
        services.pairing_add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a2,
                             kind="unit", target_unit=world.union.workshop_a)
    assert exc.value.code == "already_paired"
    assert Pairing.objects.filter(campaign=campaign).count() == 1


def test_the_target_must_be_inside_the_covered_units(world, make_member):
    union = world.union
    campaign = bureau_campaign(world, covered_units=[union.station_a])
    with pytest.raises(ServiceError) as exc:
        services.pairing_add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a,
                             kind="unit", target_unit=union.workshop_b)
    assert exc.value.code == "outside_campaign"
    with pytest.raises(ServiceError) as exc:
        services.pairing_add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a,
                             kind="household", member=world.members["b1"])
    assert exc.value.code == "outside_campaign"
    # the campaign unit itself is not covered here either
    with pytest.raises(ServiceError):
        services.pairing_add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a,
                             kind="unit", target_unit=union.bureau)
    assert not Pairing.objects.exists()


def test_kind_and_target_must_match(world, campaign):
    add = services.pairing_add
    with pytest.raises(ServiceError) as exc:
        add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a, kind="unit")
    assert "target_unit" in exc.value.fields
    with pytest.raises(ServiceError) as exc:
        add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a, kind="household",
            target_unit=world.union.team_a)
    assert "member" in exc.value.fields
    with pytest.raises(ServiceError) as exc:
        add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a, kind="friend",
            target_unit=world.union.team_a)
    assert "kind" in exc.value.fields


def test_the_cadre_must_hold_a_current_post(world, campaign, worker):
    add = services.pairing_add
    target = {"kind": "unit", "target_unit": world.union.workshop_a}
    # a worker's own login holds no post
    with pytest.raises(ServiceError) as exc:
        add(actor=world.bureau_org, campaign=campaign, cadre=worker, **target)
    assert exc.value.code == "invalid_cadre"
    # a cadre whose post ended
    assignment = world.cadre_a2.assignments.get()
    account_services.assignment_end(actor=None, assignment=assignment)
    with pytest.raises(ServiceError) as exc:
        add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a2, **target)
    assert exc.value.code == "invalid_cadre"
    # a disabled login
    world.cadre_a.is_active = False
    world.cadre_a.save(update_fields=["is_active"])
    with pytest.raises(ServiceError):
        add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a, **target)
    assert not Pairing.objects.exists()


def test_the_cadre_must_be_within_the_campaign_and_the_organisers_scope(world):
    # a 站段 A campaign by the 站段 A organiser: 站段 B's cadre can't be paired
    campaign = services.campaign_create(
        actor=world.station_org, name="车务段走访", org_unit=world.union.station_a,
        starts_on=START, ends_on=END, covered_units=[])
    with pytest.raises(ServiceError) as exc:
        services.pairing_add(actor=world.station_org, campaign=campaign, cadre=world.cadre_b,
                             kind="unit", target_unit=world.union.workshop_a)
    assert exc.value.code == "invalid_cadre"
    pairing = services.pairing_add(actor=world.station_org, campaign=campaign,
                                   cadre=world.cadre_a2, kind="unit",
                                   target_unit=world.union.workshop_a)
    assert pairing.cadre == world.cadre_a2


def test_only_organisers_of_the_campaign_unit_pair(world, campaign):
    with pytest.raises(PermissionDenied):
        services.pairing_add(actor=world.station_org, campaign=campaign, cadre=world.cadre_a,
                             kind="unit", target_unit=world.union.workshop_a)
    with pytest.raises(PermissionDenied):
        services.pairing_add(actor=world.cadre_a, campaign=campaign, cadre=world.cadre_a,
                             kind="unit", target_unit=world.union.workshop_a)
    assert not Pairing.objects.exists()


def test_a_closed_campaign_takes_no_pairings(world, campaign):
    pairing = services.pairing_add(actor=world.bureau_org, campaign=campaign,
                                   cadre=world.cadre_a, kind="unit",
                                   target_unit=world.union.workshop_a)
    services.campaign_close(actor=world.bureau_org, campaign=campaign)
    with pytest.raises(Conflict) as exc:
        services.pairing_add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_b,
                             kind="unit", target_unit=world.union.workshop_b)
    assert exc.value.code == "campaign_closed"
    with pytest.raises(Conflict):
        services.pairing_remove(actor=world.bureau_org, campaign=campaign, pairing=pairing)
    assert Pairing.objects.filter(campaign=campaign).count() == 1


def test_removing_a_pairing_keeps_its_visits(world, campaign):
    pairing = services.pairing_add(actor=world.bureau_org, campaign=campaign,
                                   cadre=world.cadre_a, kind="household",
                                   member=world.members["a1"])
    recorded = visit(campaign=campaign, cadre=world.cadre_a, pairing=pairing,
                     member=world.members["a1"])
    services.pairing_remove(actor=world.bureau_org, campaign=campaign, pairing=pairing)
    assert not Pairing.objects.filter(pk=pairing.pk).exists()
    recorded = Visit.objects.get(pk=recorded.pk)
    assert (recorded.campaign, recorded.pairing) == (campaign, None)
    [event] = events("pairing.remove")
    assert event.target_id == str(pairing.pk)
    assert event.changes["visits"] == 1
    assert event.changes["member"] == world.members["a1"].pk


def test_a_pairing_is_removed_only_from_its_campaign(world, campaign):
    pairing = services.pairing_add(actor=world.bureau_org, campaign=campaign,
                                   cadre=world.cadre_a, kind="unit",
                                   target_unit=world.union.workshop_a)
    other = bureau_campaign(world, name="夏季走访")
    with pytest.raises(NotFound):
        services.pairing_remove(actor=world.bureau_org, campaign=other, pairing=pairing)
    assert Pairing.objects.filter(pk=pairing.pk).exists()


def test_the_system_may_set_up_a_campaign_without_an_actor(world):
    # the demo builder runs without a logged-in user
    campaign = services.campaign_create(
        actor=None, name="演示走访", org_unit=world.union.bureau, starts_on=START,
        ends_on=END, covered_units=[world.union.station_a])
    pairing = services.pairing_add(actor=None, campaign=campaign, cadre=world.cadre_a,
                                   kind="unit", target_unit=world.union.team_a)
    assert pairing.org_unit == world.union.team_a
