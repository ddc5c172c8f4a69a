"""Set-up for the worker's pages: a catalog item with materials, a two-step flow (站段 帮扶干事
→ 路局 主席, the second skipped up to 2,000 yuan), a budget, and a second worker.

The approver posts carry people's names so tests can check that the worker sees posts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import PASSWORD, make_role, make_staff
from unionaid.accounts import services as account_services
from unionaid.accounts.models import User
from unionaid.approvals import services as approvals
from unionaid.assistance import services as assistance
from unionaid.assistance.models import AssistanceCategory
from unionaid.funds import services as funds
from unionaid.funds.models import FundingSource

from .activation_helpers import GATEWAY

SUBJECT_KIND = "assistance.application"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _sms(sms_gateway):
    """Text messages go to a local gateway fake of this test's own (activation_helpers.outbox)."""
    GATEWAY[:] = [sms_gateway]
    yield sms_gateway
    GATEWAY.clear()


@dataclass
class Approvers:
    station: User  # 甲车务段·帮扶干事
    chairman: User  # 测试铁路局工会·主席
    finance: User


@pytest.fixture
def approvers(union, personas) -> Approvers:
    approve = make_role("approve", ["org.view", "members.view", "assistance.view",
                                    "assistance.apply"])
    chair = make_role("chair", ["org.view", "assistance.view"])
    money = make_role("money", ["org.view", "funds.view", "funds.manage", "funds.confirm"])
    station = make_staff("helper_a", union.station_a, [approve], "帮扶干事")
    station.first_name, station.last_name = "审批", "王"
    station.save(update_fields=["first_name", "last_name"])
    return Approvers(
        station=station,
        chairman=make_staff("chairman", union.bureau, [chair], "主席"),
        finance=make_staff("finance", union.bureau, [money]),
    )


@pytest.fixture
def categories(db) -> dict[str, AssistanceCategory]:
    return {code: assistance.category_save(actor=None, code=code, name=name, order=order)
            for order, (code, name) in enumerate(
                [("zhukun", "助困"), ("zhuyi", "助医"), ("zhuxue", "助学")], start=1)}


@pytest.fixture
def source(db) -> FundingSource:
    return FundingSource.objects.create(code="ghjf", name="工会经费")


@pytest.fixture
def make_item(categories, source):
    def _make(*, code, name, category="zhuyi", **fields):
        fields.setdefault("amount_rule", {"kind": "fixed", "amount": 500})
        return assistance.item_save(actor=None, code=code, name=name,
                                    category=categories[category], funding_source=source,
                                    **fields)

    return _make


@pytest.fixture
def illness(make_item):
    """大病医疗救助: self-paid above 2,000 → 50 %, at most 8,000; a diagnosis is required."""
    return make_item(
        code="yl-dbjz", name="大病医疗救助",
        facts=[{"name": "self_paid", "label": "自付医疗费用", "type": "money"}],
        eligibility=[{"rule": "membership_active", "message": "仅限在籍工会会员申请。"}],
        amount_rule={"kind": "share", "fact": "self_paid", "deductible": 2000, "rate": 0.5,
                     "ceiling": 8000},
        required_materials=["诊断证明", {"name": "身份证", "required": False}],
        description="患大病、重病，自付医疗费用较高的职工。",
    )


@pytest.fixture
def flow(union, approvers):
    return approvals.flow_save(
        actor=None, subject_kind=SUBJECT_KIND, subject_key="", org_unit=union.bureau,
        name="帮扶审批",
        steps=[{"name": "站段审核", "position_name": "帮扶干事", "unit_depth": 2},
               {"name": "主席审批", "position_name": "主席", "unit_depth": 1,
                "skip_condition": "amount <= 2000"}],
    )


@pytest.fixture
def budget(union, approvers, source):
    return funds.budget_allocate(actor=approvers.finance, org_unit=union.bureau,
                                 funding_source=source, year=timezone.localdate().year,
                                 amount=Decimal("100000"))


@pytest.fixture
def other_worker(union, make_member):
    member = make_member(union.team_a)
    return account_services.user_create(actor=None, username="worker2", password=PASSWORD,
                                        member=member)
