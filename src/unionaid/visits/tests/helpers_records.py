"""Set-up shared by the visit-record tests (visits, profiles, needs, follow-ups).

    bureau ── station_a ── workshop_a ── team_a     visitor_a (站段 A 帮扶干事: visits, consent,
    │                                               代办 assistance, reveal), team_visitor (班组)
    └──────── station_b ── workshop_b ── team_b     visitor_b (站段 B, the same rights there)

``household`` is a worked six-clear profile: 3 people, wage 4,200 + allowance 300 a month, a
spouse with a major illness (health consent needed), medical 36,000 and schooling 12,000 a year
→ per-capita monthly (54,000 − 48,000) ÷ 12 ÷ 3 = 166.67. Import the fixtures you use:
``from .helpers_records import rec, private_media  # noqa: F401``.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from django.utils import timezone

from conftest import make_role, make_staff
from unionaid.accounts.models import User
from unionaid.assistance import services as assistance_services
from unionaid.assistance.models import AssistanceItem
from unionaid.funds.models import FundingSource
from unionaid.members.models import Member

VISITOR_PERMS = ["org.view", "members.view", "members.consent", "members.reveal",
                 "visits.view", "visits.record", "assistance.view", "assistance.apply"]
VIEWER_PERMS = ["org.view", "members.view", "visits.view"]

HOUSEHOLD = {
    "household": [
        {"name": "王建国", "relation": "self", "age": 45, "health": "healthy",
         "schooling": "", "occupation": "调车员"},
        {"name": "李秀英", "relation": "spouse", "age": 43, "health": "major_illness",
         "schooling": "", "occupation": "无业"},
        {"name": "王小明", "relation": "child", "age": 19, "health": "healthy",
         "schooling": "college", "occupation": ""},
    ],
    "incomes": [{"source": "wage", "monthly": "4200", "note": ""},
                {"source": "allowance", "monthly": "300", "note": "残疾补贴"}],
    "housing": {"kind": "rent", "homes": 0, "area": 45, "note": ""},
    "causes": ["illness", "schooling"],
    "health": {"major_illness": True, "chronic": False, "disability": False,
               "note": "配偶尿毒症，每周透析"},
    "schooling": [{"name": "王小明", "stage": "college", "annual_cost": "12000",
                   "private": False}],
    "expenses": {"medical_annual": "36000", "schooling_annual": "12000",
                 "other_rigid_annual": "0"},
}

HEALTHY = {
    "household": [{"name": "赵六", "relation": "self", "age": 50, "health": "healthy"}],
    "incomes": [{"source": "wage", "monthly": "3000"}],
    "housing": {"kind": "own", "homes": 1},
}


def household(**changes) -> dict:
    data = copy.deepcopy(HOUSEHOLD)
    data.update(changes)
    return data


def healthy(**changes) -> dict:
    data = copy.deepcopy(HEALTHY)
    data.update(changes)
    return data


@dataclass
class Rec:
    union: object
    visitor_a: User
    team_visitor: User
    visitor_b: User
    viewer_a: User
    member: Member  # in team_a
    member_b: Member  # in team_b


@pytest.fixture
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def rec(union, make_member) -> Rec:
    visitor = make_role("r_visitor", VISITOR_PERMS)
    viewer = make_role("r_viewer", VIEWER_PERMS)
    return Rec(
        union=union,
        visitor_a=make_staff("visitor_a", union.station_a, [visitor], "帮扶干事"),
        team_visitor=make_staff("team_visitor", union.team_a, [visitor], "班组干事"),
        visitor_b=make_staff("visitor_b", union.station_b, [visitor], "帮扶干事"),
        viewer_a=make_staff("viewer_a", union.station_a, [viewer], "查看"),
        member=make_member(union.team_a),
        member_b=make_member(union.team_b),
    )


def today() -> dt.date:
    return timezone.localdate()


def visit_data(member: Member | None = None, **overrides) -> dict:
    """A home visit's input, as the form and the API send it."""
    data = {"kind": "home", "member_id": member.pk if member else None,
            "visited_on": today().isoformat(), "visitors": "张干事、李干事",
            "place": "职工家中", "summary": "了解家庭情况", "satisfaction": 5,
            "hardship_found": True, "profile": household(),
            "consent": {"health": True, "children": False, "method": "书面签字"},
            "needs": [{"kind": "money", "note": "配偶透析费用负担重"}],
            "follow_ups": []}
    data.update(overrides)
    return data


def new_uuid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def catalog(db) -> dict[str, AssistanceItem]:
    """Two open items: 大病医疗救助 (助医, self_paid + disease) and 困难职工生活补助 (助困,
    per_capita_income + single_parent)."""
    source = FundingSource.objects.create(code="ghjf", name="工会经费")
    medical = assistance_services.category_save(actor=None, code="zhuyi", name="助医", order=2)
    living = assistance_services.category_save(actor=None, code="zhukun", name="助困", order=1)
    illness = assistance_services.item_save(
        actor=None, category=medical, funding_source=source, code="yl-dbjz", name="大病医疗救助",
        facts=[{"name": "self_paid", "label": "自付医疗费用", "type": "money"},
               {"name": "patient", "label": "患病家属", "type": "choice",
                "choices": ["配偶", "子女", "父母"]}],
        eligibility=[], amount_rule={"kind": "share", "fact": "self_paid", "deductible": 2000,
                                     "rate": 0.5, "ceiling": 8000},
        required_materials=["诊断证明"])
    living_item = assistance_services.item_save(
        actor=None, category=living, funding_source=source, code="kn-dqnz", name="单亲困难帮扶",
        facts=[{"name": "per_capita_income", "label": "家庭月人均收入", "type": "money"},
               {"name": "single_parent", "label": "是否单亲", "type": "bool",
                "required": False}],
        eligibility=[], amount_rule={"kind": "fixed", "amount": 2000}, required_materials=[])
    return {"illness": illness, "living": living_item}
