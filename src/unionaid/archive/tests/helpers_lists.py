"""Set-up for the watch-list, reminder and ledger tests (import the fixtures into a module).

    bureau (路局)        bureau_officer (archive.manage, all) — far from the teams
    ├── station_a        cadre_a (archive view + manage, members.reveal, visits.view; below)
    │   └── workshop_a   workshop_cadre (archive view + manage; below)
    │       └── team_a   viewer_a (archive.view only)
    └── station_b        cadre_b (archive view + manage; below)

The 低保 line is 800 yuan a month at the bureau for 2024–2026 (default rules: edge 2.5× =
2,000 yuan). Profiles and records are written straight to the database: these tests are about
lists and ledgers, not about how a record is enrolled.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

import pytest

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope, User
from unionaid.archive.models import DibaoStandard, HardshipRecord, RecordStatus
from unionaid.visits import profile as profilelib
from unionaid.visits.models import HouseholdProfile

LINE = Decimal("800.00")
TODAY = dt.date(2026, 6, 1)
ARCHIVE_PERMS = ["org.view", "members.view", "visits.view", "archive.view", "archive.manage"]


@dataclass
class Lists:
    union: object
    cadre_a: User
    workshop_cadre: User
    viewer_a: User
    cadre_b: User
    bureau_officer: User
    registrar: User


@pytest.fixture(name="lists")
def lists_fixture(union, registrar) -> Lists:
    cadre = make_role("archive_cadre", ARCHIVE_PERMS)
    revealer = make_role("archive_revealer", [*ARCHIVE_PERMS, "members.reveal"])
    viewer = make_role("archive_viewer", ["org.view", "members.view", "archive.view"])
    bureau = make_role("archive_bureau", ARCHIVE_PERMS, DataScope.ALL)
    setup = Lists(
        union=union,
        cadre_a=make_staff("cadre_a", union.station_a, [revealer], "站段工会帮扶干事"),
        workshop_cadre=make_staff("workshop_cadre", union.workshop_a, [cadre], "车间工会干事"),
        viewer_a=make_staff("viewer_a", union.team_a, [viewer], "班组工会干事"),
        cadre_b=make_staff("cadre_b", union.station_b, [cadre], "站段工会帮扶干事"),
        bureau_officer=make_staff("bureau_officer", union.bureau, [bureau], "路局帮扶干事"),
        registrar=registrar,
    )
    for year in (2024, 2025, 2026):
        DibaoStandard.objects.create(org_unit=union.bureau, region="测试市", year=year,
                                     monthly_amount=LINE)
    return setup


def profile_data(size: int = 3, monthly: str = "0", causes=(), **extra) -> dict:
    household = [{"name": "本人", "relation": "self", "age": 45}] + [
        {"name": f"家属{n}", "relation": "other", "age": 40} for n in range(2, size + 1)]
    raw = {"household": household, "incomes": [{"source": "wage", "monthly": monthly}],
           "causes": list(causes), **extra}
    return profilelib.clean_profile(raw)


def add_profile(member, per_capita: str | Decimal, *, taken_on: dt.date = dt.date(2026, 3, 1),
                size: int = 3, causes: str = "", housing: str = "", major_illness: bool = False,
                recorded_by=None) -> HouseholdProfile:
    """A profile whose per-capita monthly income is exactly ``per_capita`` (no rigid costs)."""
    per_capita = Decimal(per_capita)
    data = profile_data(size=size, monthly=str(per_capita * size))
    return HouseholdProfile.objects.create(
        member=member, org_unit_id=member.org_unit_id, taken_on=taken_on,
        data_json=json.dumps(data, ensure_ascii=False), household_size=size,
        annual_income=per_capita * size * 12, rigid_expenses=Decimal("0"),
        per_capita_monthly=per_capita, causes=causes, housing=housing,
        has_major_illness=major_illness,
        recorded_by=recorded_by or User.objects.get(username="registrar"))


def add_record(member, *, status=RecordStatus.ACTIVE, category="relative",
               enrolled_on: dt.date | None = dt.date(2025, 3, 1),
               next_recheck_on: dt.date | None = None, exited_on: dt.date | None = None,
               created_by=None, profile: HouseholdProfile | None = None,
               per_capita: str = "1200") -> HardshipRecord:
    profile = profile or add_profile(member, per_capita, taken_on=enrolled_on or TODAY)
    return HardshipRecord.objects.create(
        member=member, org_unit_id=member.org_unit_id, status=status, category=category,
        computed_category=category, profile=profile, per_capita_monthly=profile.per_capita_monthly,
        dibao_standard=LINE, causes=profile.causes, enrolled_on=enrolled_on,
        next_recheck_on=next_recheck_on, exited_on=exited_on,
        created_by=created_by or User.objects.get(username="registrar"))
