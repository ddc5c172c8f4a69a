"""Background-export test set-up: private files under a temporary folder, and the roster and
ledger data the exports read (the ledger people from archive.tests.helpers_lists)."""

from __future__ import annotations

import datetime as dt

import pytest

from unionaid.archive.tests.helpers_lists import add_profile, add_record, lists_fixture  # noqa: F401
from unionaid.visits.models import Visit, VisitNeed


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def roll(union, make_member):
    return {
        "team_a": make_member(union.team_a, name="张一", bank_account="6222000011112222333"),
        "workshop_a": make_member(union.workshop_a, name="张二"),
        "station_a": make_member(union.station_a, name="李三"),
        "team_b": make_member(union.team_b, name="王四"),
    }


@pytest.fixture
def ledger_data(lists, make_member):
    union = lists.union
    sick = make_member(union.team_a, name="马春花", phone="13812345678")
    add_record(sick, profile=add_profile(sick, "900", taken_on=dt.date(2025, 3, 1), size=3,
                                         causes="illness"))
    add_record(make_member(union.workshop_a, name="刘德明"), enrolled_on=dt.date(2024, 5, 1))
    add_record(make_member(union.team_b, name="孙乙段"), enrolled_on=dt.date(2025, 1, 1))
    home = Visit.objects.create(member=sick, org_unit=union.team_a, visited_on=dt.date(2026, 1, 20),
                                visitors="王干事", place="家中", summary="配偶住院",
                                hardship_found=True, recorded_by=lists.cadre_a)
    VisitNeed.objects.create(visit=home, kind="money", note="医药费")
    Visit.objects.create(kind="workplace", visited_unit=union.workshop_a, org_unit=union.workshop_a,
                         visited_on=dt.date(2026, 2, 3), visitors="王干事", recorded_by=lists.cadre_a)
    Visit.objects.create(member=make_member(union.team_b, name="乙段人"), org_unit=union.team_b,
                         visited_on=dt.date(2026, 1, 5), visitors="乙", recorded_by=lists.cadre_b)
    return lists
