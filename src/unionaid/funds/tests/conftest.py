"""Finance personas and helpers for the funds tests.

bureau_finance (路局, funds.manage + funds.view, all of the bureau), bureau_cashier (路局,
funds.confirm + funds.view), bureau_checker (路局, the same rights as the cashier: the second
pair of eyes who confirms what the others made and exported), station_finance (站段 A, manage +
confirm, unit and below), tracer (trace.view over everything, an auditor's read-only post).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope, User
from unionaid.funds import services, subjects
from unionaid.funds.models import FundingSource

YEAR = 2026


@dataclass
class Finance:
    bureau_finance: User
    bureau_cashier: User
    bureau_checker: User
    station_finance: User
    tracer: User


class RecordingSubject(subjects.DisbursementSubject):
    """The funds tests' neutral subject "test.subject": its hooks run whatever a test put in
    ``hooks[event]`` (nothing by default), and the trace knows no record of it."""

    kind = "test.subject"

    def __init__(self):
        self.hooks: dict[str, list] = defaultdict(list)

    def _run(self, event: str, **kwargs) -> None:
        for fn in self.hooks[event]:
            fn(**kwargs)

    def on_paid(self, *, disbursement, actor) -> None:
        self._run("paid", disbursement=disbursement, actor=actor)

    def on_reversed(self, *, disbursement, actor) -> None:
        self._run("reversed", disbursement=disbursement, actor=actor)

    def on_repaid(self, *, disbursement, actor) -> None:
        self._run("repaid", disbursement=disbursement, actor=actor)

    def on_released(self, *, disbursement, actor, reason) -> None:
        self._run("released", disbursement=disbursement, actor=actor, reason=reason)

    def on_closed(self, *, disbursement, actor, reason) -> None:
        self._run("closed", disbursement=disbursement, actor=actor, reason=reason)

    def item_labels(self, *, subject_ids):
        return {sid: f"测试事项{sid}" for sid in subject_ids}

    def trace_summary(self, *, disbursement, user):
        return None


@pytest.fixture(autouse=True)
def test_subject():
    """Registered for every funds test, unregistered after it."""
    subject = RecordingSubject()
    subjects.register(subject)
    yield subject
    subjects.unregister(subject.kind)


@pytest.fixture
def finance(union) -> Finance:
    manage = make_role("fin-manage", ["org.view", "funds.view", "funds.manage"], DataScope.ALL)
    confirm = make_role("fin-confirm", ["org.view", "funds.view", "funds.confirm"], DataScope.ALL)
    station = make_role("fin-station", ["org.view", "funds.view", "funds.manage", "funds.confirm"])
    trace = make_role("tracer", ["trace.view"], DataScope.ALL)
    return Finance(
        bureau_finance=make_staff("bureau_finance", union.bureau, [manage]),
        bureau_cashier=make_staff("bureau_cashier", union.bureau, [confirm]),
        bureau_checker=make_staff("bureau_checker", union.bureau, [confirm]),
        station_finance=make_staff("station_finance", union.station_a, [station]),
        tracer=make_staff("tracer", union.bureau, [trace]),
    )


@pytest.fixture
def trace_manager(union):
    """A bureau finance manager who may also open the auditor's payment trace."""
    role = make_role("fin-trace", ["funds.view", "funds.manage", "trace.view"], DataScope.ALL)
    return make_staff("fin_tracer", union.bureau, [role])


@pytest.fixture
def source(db) -> FundingSource:
    return FundingSource.objects.create(code="warmth", name="送温暖专项")


@pytest.fixture
def bureau_budget(union, finance, source):
    return services.budget_allocate(actor=finance.bureau_finance, org_unit=union.bureau,
                                    funding_source=source, year=YEAR, amount=Decimal("10000.00"))


@pytest.fixture
def reserve_for(union, source):
    """reserve(...) for application-like subject ``n`` of ``member`` in the member's unit."""

    def _reserve(member, n, amount, *, actor=None, unit=None, year=YEAR):
        return services.reserve(
            actor=actor, subject_kind="test.subject", subject_id=n, member=member,
            org_unit=unit or member.org_unit, funding_source=source, year=year, amount=amount,
        )

    return _reserve


@pytest.fixture
def pg_race(pg_only):
    """For ``transaction=True`` tests on PostgreSQL: the audit journal and the ledger refuse
    TRUNCATE, which is how Django empties the database after such a test. Switch triggers off
    for this session just before that flush (the connection is closed right after it)."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
