"""Set-up for the archive record tests (import the fixtures into a test module).

    bureau (路局)        config_admin (archive.config, all)
    └── station_a        站段工会帮扶干事: station_officer (decides the notice and the last step)
        └── workshop_a   车间工会干事: workshop_officer (decides the first step)
            └── team_a   班组工会干事: filer (files enrolments and exits)
    └── station_b        站段工会帮扶干事: other_officer (archive rights in 站段 B only)

All of them hold archive.view + archive.manage (+ visits.record) in their unit and below.
The default enrolment and exit flows live at the bureau; the 低保 line is 800 yuan at the
bureau for 2024–2028. ``clock`` (autouse) freezes time at Monday 2026-09-28 09:00 Beijing
time, before anyone is appointed, so tests can move it forward through a public notice.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope, User
from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalCase, ApprovalTask, CaseStatus, TaskStatus
from unionaid.archive.flows import archive_flows_ensure
from unionaid.archive.models import DibaoStandard, HardshipRecord
from unionaid.archive.services.common import ENROLMENT_KIND, EXIT_KIND
from unionaid.core.synthetic import SyntheticPeople
from unionaid.visits import profile as profilelib
from unionaid.visits.models import HouseholdProfile
from unionaid.visits.services.profiles import profile_record

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI)
LINE = Decimal("800.00")
ARCHIVE_CADRE = ["org.view", "members.view", "members.change", "visits.view", "visits.record",
                 "archive.view", "archive.manage"]


def at(day: str, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute),
                               tzinfo=SHANGHAI)


@pytest.fixture(scope="session")
def people():
    """One synthetic-people generator for the run (building one costs ~0.2 s per test)."""
    return SyntheticPeople(2026)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@dataclass
class Archive:
    union: object
    filer: User
    workshop_officer: User
    station_officer: User
    other_officer: User
    config_admin: User


@pytest.fixture
def row_locks(monkeypatch) -> list[str]:
    """The models whose rows are locked (``select_for_update``), in the order asked: lock
    order is what keeps two transactions from deadlocking on PostgreSQL, and SQLite cannot
    show it any other way."""
    from django.db.models.query import QuerySet

    seen: list[str] = []
    original = QuerySet.select_for_update

    def spy(self, *args, **kwargs):
        seen.append(self.model.__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "select_for_update", spy)
    return seen


@pytest.fixture
def archive(clock, union) -> Archive:
    cadre = make_role("archive_cadre", ARCHIVE_CADRE)
    config = make_role("archive_config", ["org.view", "archive.view", "archive.config"],
                       DataScope.ALL)
    setup = Archive(
        union=union,
        filer=make_staff("filer", union.team_a, [cadre], "班组工会干事"),
        workshop_officer=make_staff("workshop_officer", union.workshop_a, [cadre], "车间工会干事"),
        station_officer=make_staff("station_officer", union.station_a, [cadre], "站段工会帮扶干事"),
        other_officer=make_staff("other_officer", union.station_b, [cadre], "站段工会帮扶干事"),
        config_admin=make_staff("config_admin", union.bureau, [config]),
    )
    for year in range(2024, 2029):
        DibaoStandard.objects.create(org_unit=union.bureau, region="测试市", year=year,
                                     monthly_amount=LINE)
    archive_flows_ensure(actor=None, org_unit=union.bureau)
    return setup


def household_data(*, size: int = 3, monthly: str = "4000", rigid: str = "12000",
                   loss: str = "0", homes: int = 0, employees: int = 0,
                   private_fee: str | None = None) -> dict:
    """A six-clear profile without health data or young children (no consent needed)."""
    people = [{"name": "本人", "relation": "self", "age": 45}]
    people += [{"name": f"家属{n}", "relation": "other", "age": 40 + n} for n in range(1, size)]
    data = {
        "household": people,
        "incomes": [{"source": "wage", "monthly": monthly}],
        "housing": {"kind": "own" if homes else "rent", "homes": homes},
        "expenses": {"other_rigid_annual": rigid},
        "sudden_loss": {"kind": "accident" if Decimal(loss) else "", "amount": loss},
        "business": {"owns_business": bool(employees), "employees": employees},
        "schooling": [],
    }
    if private_fee is not None:
        data["schooling"] = [{"name": "家属1", "stage": "senior", "annual_cost": private_fee,
                              "private": True}]
    return data


def unsaved_profile(**kwargs) -> tuple[HouseholdProfile, dict]:
    """(an unsaved profile with its derived columns, its cleaned data) — no database."""
    clean = profilelib.clean_profile(household_data(**kwargs))
    profile = HouseholdProfile(taken_on=START.date(), data_json=json.dumps(clean),
                               **profilelib.derive(clean))
    return profile, clean


def record_profile(archive: Archive, member, *, actor=None, **kwargs) -> HouseholdProfile:
    from django.utils import timezone

    return profile_record(actor=actor or archive.filer, member=member,
                          data=household_data(**kwargs), taken_on=timezone.localdate())


def open_case(record: HardshipRecord, kind: str = ENROLMENT_KIND) -> ApprovalCase:
    return ApprovalCase.objects.get(subject_kind=kind, subject_id=record.pk,
                                    status=CaseStatus.IN_PROGRESS)


def pending_task(record: HardshipRecord, kind: str = ENROLMENT_KIND) -> ApprovalTask:
    case = open_case(record, kind)
    return ApprovalTask.objects.select_related("step").get(case=case, status=TaskStatus.PENDING)


def decide(user, record: HardshipRecord, kind: str = ENROLMENT_KIND, decision: str = "approve",
           comment: str = ""):
    return approvals.task_decide(actor=user, task=pending_task(record, kind), decision=decision,
                                 comment=comment or ("同意" if decision == "approve" else "不符合"))


def through_workshop(archive: Archive, record, kind: str = ENROLMENT_KIND) -> ApprovalTask:
    """Approve the 车间 step; returns the public-notice task that starts."""
    decide(archive.workshop_officer, record, kind)
    return pending_task(record, kind)


def through_notice(archive: Archive, record, clock, kind: str = ENROLMENT_KIND) -> None:
    """Wait out the notice, then approve it and the 站段 step."""
    task = pending_task(record, kind)
    assert task.step.is_public_notice
    clock.move_to(task.due_at)
    decide(archive.station_officer, record, kind)
    decide(archive.station_officer, record, kind)


def approve_all(archive: Archive, record, clock, kind: str = ENROLMENT_KIND) -> HardshipRecord:
    through_workshop(archive, record, kind)
    through_notice(archive, record, clock, kind)
    record.refresh_from_db()
    return record


__all__ = ["EXIT_KIND", "archive", "clock", "people", "row_locks"]
