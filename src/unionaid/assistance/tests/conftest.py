"""Set-up for assistance tests.

Posts: catalog_admin (路局, assistance.catalog), apply_cadre (站段 A 帮扶干事: assistance.apply +
assistance.view + members.view, unit and below; also the first approval step), other_apply
(站段 B, the same rights there), bureau_chairman (路局 主席, the second step), finance (路局,
funds.manage + funds.confirm), cashier (路局, funds.confirm: confirms the batches finance made
and exported). Private media go to pytest's tmp_path.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from conftest import PASSWORD, make_role, make_staff
from unionaid.accounts import services as account_services
from unionaid.accounts.models import DataScope, User
from unionaid.assistance import services
from unionaid.assistance.models import AssistanceCategory
from unionaid.funds.models import FundingSource

APPLY_PERMS = ["org.view", "members.view", "members.change", "assistance.view",
               "assistance.apply"]


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@dataclass
class Staff:
    catalog_admin: User
    apply_cadre: User
    other_apply: User
    chairman: User
    finance: User
    cashier: User


@pytest.fixture
def staff(union, personas) -> Staff:
    catalog = make_role("catalog", ["org.view", "assistance.catalog"], DataScope.ALL)
    apply = make_role("apply", APPLY_PERMS)
    approver = make_role("approver", ["org.view", "assistance.view"])
    finance = make_role("finance", ["org.view", "funds.view", "funds.manage", "funds.confirm"],
                        DataScope.ALL)
    return Staff(
        catalog_admin=make_staff("catalog_admin", union.bureau, [catalog]),
        apply_cadre=make_staff("apply_cadre", union.station_a, [apply], "帮扶干事"),
        other_apply=make_staff("other_apply", union.station_b, [apply], "帮扶干事"),
        chairman=make_staff("chairman", union.bureau, [approver], "主席"),
        finance=make_staff("finance", union.bureau, [finance]),
        cashier=make_staff("cashier", union.bureau, [make_role(
            "cashier", ["org.view", "funds.view", "funds.confirm"], DataScope.ALL)]),
    )


@pytest.fixture
def categories(db) -> dict[str, AssistanceCategory]:
    return {code: services.category_save(actor=None, code=code, name=name, order=order)
            for order, (code, name) in enumerate(
                [("zhukun", "助困"), ("zhuyi", "助医"), ("zhuxue", "助学")], start=1)}


@pytest.fixture
def source(db) -> FundingSource:
    return FundingSource.objects.create(code="ghjf", name="工会经费")


SERIOUS_ILLNESS = {
    "code": "yl-dbjz", "name": "大病医疗救助",
    "facts": [{"name": "self_paid", "label": "自付医疗费用", "type": "money"}],
    "eligibility": [{"rule": "membership_active", "message": "仅限在籍工会会员申请。"}],
    "amount_rule": {"kind": "share", "fact": "self_paid", "deductible": 2000, "rate": 0.5,
                    "ceiling": 8000},
    "required_materials": ["诊断证明", {"name": "身份证", "required": False}],
}


@pytest.fixture
def make_item(categories, source):
    def _make(*, category="zhuyi", **overrides):
        fields = {**SERIOUS_ILLNESS, **overrides}
        return services.item_save(actor=None, category=categories[category],
                                  funding_source=source, **fields)

    return _make


@pytest.fixture
def illness(make_item):
    return make_item()


@pytest.fixture
def worker_member(worker):
    return worker.member


@pytest.fixture
def new_worker(make_member):
    """A member with their own login (like the ``worker`` persona), in ``unit``."""
    counter = [0]

    def _make(unit, **member_fields):
        counter[0] += 1
        member = make_member(unit, **member_fields)
        return account_services.user_create(actor=None, username=f"w{counter[0]}",
                                            password=PASSWORD, member=member)

    return _make


FLOW_STEPS = [
    {"name": "站段审核", "position_name": "帮扶干事", "unit_depth": 2},
    {"name": "主席审批", "position_name": "主席", "unit_depth": 1,
     "skip_condition": "amount <= 2000"},
]


@pytest.fixture
def flow(union, staff):
    """站段 帮扶干事 → 路局 主席 (skipped when the amount is at most 2,000)."""
    from unionaid.approvals import services as approvals

    return approvals.flow_save(actor=None, subject_kind="assistance.application",
                               subject_key="", org_unit=union.bureau, name="帮扶审批",
                               steps=FLOW_STEPS)


@pytest.fixture
def budget(union, staff, source):
    from django.utils import timezone

    from unionaid.funds import services as funds

    return funds.budget_allocate(actor=staff.finance, org_unit=union.bureau,
                                 funding_source=source, year=timezone.localdate().year,
                                 amount=Decimal("100000"))
