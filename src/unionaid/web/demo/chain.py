"""The demo's 三助 set-up: the default catalog, the bureau's approval flows and this year's budgets.

All of it goes through the services (``catalog_load_defaults`` — what ``manage.py load_catalog``
runs —, ``approvals.services.flow_save``, ``funds.services.budget_allocate`` /
``budget_allocate_down``), so the journal and the ledger are those of a real installation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from unionaid.approvals import services as approval_services
from unionaid.approvals.models import FlowVersion
from unionaid.assistance.services import SUBJECT_KIND
from unionaid.assistance.services.catalog_load import catalog_load_defaults
from unionaid.funds import services as fund_services
from unionaid.funds.models import Budget, FundingSource
from unionaid.web.demo.staff import POST_NAMES

# Depths of the demo tree (路局 1, 站段 2, 车间 3, 班组 4).
BUREAU, STATION, WORKSHOP = 1, 2, 3
SKIP_SMALL = "amount <= 2000"
SERIOUS_ILLNESS = "yl-dbjz"  # 大病医疗救助: the item with its own flow (an extra finance step)

WORKSHOP_STEP = {
    "name": "车间工会初审", "unit_depth": WORKSHOP, "position_name": POST_NAMES["workshop_cadre"],
    "due_days": 3, "allow_batch": True, "skippable_by_fast_track": True,
}
STATION_STEP = {
    "name": "站段工会审核", "unit_depth": STATION, "position_name": POST_NAMES["station_cadre"],
    "due_days": 5, "allow_batch": True, "skippable_by_fast_track": True,
}
BUREAU_STEP = {
    "name": "路局工会审批", "unit_depth": BUREAU, "position_name": POST_NAMES["bureau_cadre"],
    "due_days": 5, "allow_batch": True, "skip_condition": SKIP_SMALL,
}
FINANCE_STEP = {
    "name": "路局工会财务复核", "unit_depth": BUREAU, "position_name": POST_NAMES["finance"],
    "due_days": 3,
}

# Per funding source: put into the bureau's budget, and moved down to each 站段.
BUREAU_BUDGET = Decimal("5000000.00")
STATION_BUDGET = Decimal("500000.00")


@dataclass
class ChainSetup:
    items: int = 0
    flows: list[FlowVersion] = field(default_factory=list)
    budgets: list[Budget] = field(default_factory=list)


def load_catalog() -> int:
    """The default catalog, as ``manage.py load_catalog`` loads it (idempotent)."""
    counts = catalog_load_defaults(actor=None)
    return counts["created"] + counts["updated"] + counts["unchanged"]


def create_flows(*, actor, root) -> list[FlowVersion]:
    """The bureau-wide flow for every item, and 大病医疗救助's own flow with a finance step."""
    general = approval_services.flow_save(
        actor=actor, subject_kind=SUBJECT_KIND, subject_key="", org_unit=root,
        name="帮扶申请审批（路局通用）",
        steps=[WORKSHOP_STEP, STATION_STEP, BUREAU_STEP],
        note="车间初审 → 站段审核 → 路局审批（2,000 元及以下免路局审批）",
    )
    serious = approval_services.flow_save(
        actor=actor, subject_kind=SUBJECT_KIND, subject_key=SERIOUS_ILLNESS, org_unit=root,
        name="大病医疗救助审批",
        steps=[WORKSHOP_STEP, STATION_STEP, BUREAU_STEP, FINANCE_STEP],
        note="在通用流程后增加路局工会财务复核",
    )
    return [general, serious]


def create_budgets(*, actor, root, stations, year: int | None = None) -> list[Budget]:
    """This year's budget of every funding source at the bureau, part of it moved down to each
    站段 (approvals reserve from the nearest budget up the tree: the 站段's)."""
    year = year or timezone.localdate().year
    budgets = []
    for source in FundingSource.objects.order_by("code"):
        parent = fund_services.budget_allocate(
            actor=actor, org_unit=root, funding_source=source, year=year, amount=BUREAU_BUDGET,
            memo=f"{year}年度{source.name}预算",
        )
        budgets.append(parent)
        for station in stations:
            budgets.append(fund_services.budget_allocate_down(
                actor=actor, parent_budget=parent, child_unit=station, amount=STATION_BUDGET,
                memo=f"{year}年度下拨{station.name}",
            ))
    return budgets


def build_chain(*, root, stations, catalog_admin, finance) -> ChainSetup:
    return ChainSetup(
        items=load_catalog(),
        flows=create_flows(actor=catalog_admin, root=root),
        budgets=create_budgets(actor=finance, root=root, stations=stations),
    )
