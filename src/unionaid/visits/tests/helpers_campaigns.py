"""Set-up shared by the campaign tests: who organises, who visits, and a worked example.

    bureau (路局)                      organiser: bureau_org (visits.campaign, unit and below)
    ├── station_a ── workshop_a ── team_a   station_org (organiser of 站段 A), cadre_a (站段 A),
    │                                       cadre_a2 (车间 A)
    └── station_b ── workshop_b ── team_b   cadre_b, cadre_b2 (站段 B)

``build_example`` adds the dashboard's worked example (numbers in test_campaigns_dashboard).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from django.test import Client

from conftest import make_role, make_staff
from unionaid.accounts import services as account_services
from unionaid.accounts.models import User
from unionaid.members.models import Member
from unionaid.visits.models import (
    FollowUp,
    FollowUpStatus,
    NeedKind,
    NeedStatus,
    Pairing,
    Visit,
    VisitCampaign,
    VisitKind,
    VisitNeed,
)
from unionaid.visits.services import campaigns as services

VISITOR_PERMS = ["org.view", "members.view", "visits.view", "visits.record"]
ORGANISER_PERMS = [*VISITOR_PERMS, "visits.campaign"]
START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 10)


@dataclass
class World:
    union: object
    bureau_org: User
    station_org: User
    cadre_a: User
    cadre_a2: User
    cadre_b: User
    cadre_b2: User
    members: dict[str, Member] = field(default_factory=dict)


def build_world(union, make_member) -> World:
    organiser = make_role("v_organiser", ORGANISER_PERMS)
    visitor = make_role("v_visitor", VISITOR_PERMS)
    world = World(
        union=union,
        bureau_org=make_staff("bureau_org", union.bureau, [organiser], "走访组织"),
        station_org=make_staff("station_org", union.station_a, [organiser], "走访组织"),
        cadre_a=make_staff("cadre_a", union.station_a, [visitor], "帮扶干事"),
        cadre_a2=make_staff("cadre_a2", union.workshop_a, [visitor], "车间干事"),
        cadre_b=make_staff("cadre_b", union.station_b, [visitor], "帮扶干事"),
        cadre_b2=make_staff("cadre_b2", union.workshop_b, [visitor], "车间干事"),
    )
    world.members = {
        "a1": make_member(union.team_a), "a2": make_member(union.workshop_a),
        "a3": make_member(union.team_a), "b1": make_member(union.team_b),
        "b2": make_member(union.workshop_b),
    }
    return world


def bureau_campaign(world: World, **overrides) -> VisitCampaign:
    union = world.union
    fields = {"name": "2026年春季大走访", "org_unit": union.bureau, "starts_on": START,
              "ends_on": END, "covered_units": [union.station_a, union.station_b],
              "target_units": 2, "target_workers": 4}
    fields.update(overrides)
    return services.campaign_create(actor=world.bureau_org, **fields)


def visit(*, campaign, cadre, pairing=None, member=None, unit=None, on=START,
          hardship=False, satisfaction=None) -> Visit:
    """A visit row as the visit-recording service would leave it (org_unit = the member's unit
    for a home visit, the visited unit for a workplace visit)."""
    kind = VisitKind.HOME if member is not None else VisitKind.WORKPLACE
    return Visit.objects.create(
        kind=kind, campaign=campaign, pairing=pairing, member=member, visited_unit=unit,
        org_unit_id=member.org_unit_id if member is not None else unit.pk, visited_on=on,
        visitors=cadre.username, recorded_by=cadre, hardship_found=hardship,
        satisfaction=satisfaction)


@dataclass
class Example:
    campaign: VisitCampaign
    pairings: dict[str, Pairing]
    visits: dict[str, Visit]


def build_example(world: World, start: dt.date = START) -> Example:
    """The worked example (period 1–10 March 2026, 10 days; or ten days from ``start``):

    pairings  cadre_a: workshop_a (p1), household a1 (p2), household a2 (p3)
              cadre_a2: household a3 (p4)
              cadre_b: workshop_b (p5), household b1 (p6);  cadre_b2: household b2 (p7)
    visits    v1 cadre_a  workplace workshop_a  p1  satisfaction 5
              v2 cadre_a  home a1  p2  hardship  satisfaction 4
              v3 cadre_a  home a1  p2  hardship  (second visit, no rating)
              v4 cadre_b  home b1  p6  hardship  satisfaction 3
              v5 cadre_a2 home a3  p4  satisfaction 2
    needs     v2: money → application (solved), job open;  v4: legal closed (solved)
    follow-ups v2: done, no need (solved);  v4: done for the closed legal need (not again);
              v1: open
    """
    union, m = world.union, world.members
    end = start + dt.timedelta(days=9)
    campaign = bureau_campaign(world, starts_on=start, ends_on=end)
    add = services.pairing_add
    org = world.bureau_org
    p = {
        "p1": add(actor=org, campaign=campaign, cadre=world.cadre_a, kind="unit",
                  target_unit=union.workshop_a),
        "p2": add(actor=org, campaign=campaign, cadre=world.cadre_a, kind="household",
                  member=m["a1"]),
        "p3": add(actor=org, campaign=campaign, cadre=world.cadre_a, kind="household",
                  member=m["a2"]),
        "p4": add(actor=org, campaign=campaign, cadre=world.cadre_a2, kind="household",
                  member=m["a3"]),
        "p5": add(actor=org, campaign=campaign, cadre=world.cadre_b, kind="unit",
                  target_unit=union.workshop_b),
        "p6": add(actor=org, campaign=campaign, cadre=world.cadre_b, kind="household",
                  member=m["b1"]),
        "p7": add(actor=org, campaign=campaign, cadre=world.cadre_b2, kind="household",
                  member=m["b2"]),
    }
    v = {
        "v1": visit(campaign=campaign, cadre=world.cadre_a, pairing=p["p1"],
                    unit=union.workshop_a, on=start, satisfaction=5),
        "v2": visit(campaign=campaign, cadre=world.cadre_a, pairing=p["p2"], member=m["a1"],
                    hardship=True, on=start, satisfaction=4),
        "v3": visit(campaign=campaign, cadre=world.cadre_a, pairing=p["p2"], member=m["a1"],
                    hardship=True, on=start + dt.timedelta(days=3)),
        "v4": visit(campaign=campaign, cadre=world.cadre_b, pairing=p["p6"], member=m["b1"],
                    hardship=True, on=start, satisfaction=3),
        "v5": visit(campaign=campaign, cadre=world.cadre_a2, pairing=p["p4"], member=m["a3"],
                    on=start, satisfaction=2),
    }
    VisitNeed.objects.create(visit=v["v2"], kind=NeedKind.MONEY, status=NeedStatus.APPLICATION)
    VisitNeed.objects.create(visit=v["v2"], kind=NeedKind.JOB, status=NeedStatus.OPEN)
    legal = VisitNeed.objects.create(visit=v["v4"], kind=NeedKind.LEGAL,
                                     status=NeedStatus.CLOSED)
    follow = {"due_on": end, "created_by": org}
    FollowUp.objects.create(member=m["a1"], org_unit=union.team_a, visit=v["v2"], title="回访",
                            owner=world.cadre_a, status=FollowUpStatus.DONE, **follow)
    FollowUp.objects.create(member=m["b1"], org_unit=union.team_b, visit=v["v4"], need=legal,
                            title="法律咨询", owner=world.cadre_b, status=FollowUpStatus.DONE,
                            **follow)
    FollowUp.objects.create(member=m["a1"], org_unit=union.workshop_a, visit=v["v1"],
                            title="企业困难摸底", owner=world.cadre_a, **follow)
    return Example(campaign=campaign, pairings=p, visits=v)


class Api:
    """JSON calls to /api/v1/visits/campaigns with a bearer token (no session, no CSRF)."""

    def __init__(self, user: User):
        _token, raw = account_services.api_token_create(actor=user, name="test")
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw}"}

    def _call(self, method: str, path: str, body=None):
        kwargs = {"headers": self.headers}
        if body is not None:
            kwargs.update(data=json.dumps(body, default=str), content_type="application/json")
        return getattr(self.client, method)(f"/api/v1/visits/campaigns{path}", **kwargs)

    def get(self, path=""):
        return self._call("get", path)

    def post(self, path="", body=None):
        return self._call("post", path, body if body is not None else {})

    def patch(self, path="", body=None):
        return self._call("patch", path, body if body is not None else {})

    def delete(self, path=""):
        return self._call("delete", path)
