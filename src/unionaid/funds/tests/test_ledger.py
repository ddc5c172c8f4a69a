"""The ledger as a whole: recomputation after random operations, the database guards, and two
real concurrent transactions racing for the last of a budget (PostgreSQL)."""

from __future__ import annotations

import random
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from unionaid.core.errors import Conflict, ServiceError
from unionaid.funds import services
from unionaid.funds.models import (
    Account,
    Budget,
    Disbursement,
    DisbursementStatus,
    EntryKind,
    LedgerEntry,
)

from .conftest import YEAR


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_recomputes_the_cached_balances_from_the_entries_after_random_operations(
    seed, union, finance, source, make_member, reserve_for
):
    rng = random.Random(seed)
    services.budget_allocate(actor=finance.bureau_finance, org_unit=union.bureau,
                             funding_source=source, year=YEAR, amount=5000)
    members = [make_member(unit) for unit in (union.team_a, union.team_b, union.workshop_a)]
    subject, codes = 0, []
    for _step in range(60):
        op = rng.choice(["allocate", "down", "reserve", "reserve", "release", "pay", "reverse"])
        try:
            if op == "allocate":
                services.budget_allocate(actor=finance.bureau_finance,
                                         org_unit=rng.choice([union.bureau, union.station_b]),
                                         funding_source=source, year=YEAR,
                                         amount=Decimal(rng.randint(1, 50000)) / 100)
            elif op == "down":
                parent = Budget.objects.get(org_unit=union.bureau)
                services.budget_allocate_down(
                    actor=finance.bureau_finance, parent_budget=parent,
                    child_unit=rng.choice([union.station_a, union.workshop_b]),
                    amount=Decimal(rng.randint(1, 200000)) / 100)
            elif op == "reserve":
                subject += 1
                reserve_for(rng.choice(members), subject, Decimal(rng.randint(1, 90000)) / 100)
            elif op == "release":
                d = Disbursement.objects.filter(status=DisbursementStatus.RESERVED).first()
                if d:
                    services.release(actor=None, subject_kind=d.subject_kind,
                                     subject_id=d.subject_id, reason="撤回")
            elif op == "pay":
                batch = services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                              funding_source=source)
                services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
                services.batch_confirm(actor=finance.bureau_checker, batch=batch)
            else:
                d = Disbursement.objects.filter(status=DisbursementStatus.PAID).first()
                if d:
                    services.disbursement_reverse(actor=finance.bureau_cashier, disbursement=d,
                                                  reason="冲正")
        except ServiceError as exc:
            codes.append(exc.code)
    assert set(codes) <= {"budget_insufficient", "nothing_to_batch"}
    assert LedgerEntry.objects.values("kind").distinct().count() >= 4  # the run did things
    assert services.ledger_recompute() == []
    for budget in Budget.objects.all():
        assert budget.allocated == (budget.available + budget.reserved + budget.paid
                                    + budget.allocated_down)
        assert min(budget.available, budget.reserved, budget.paid) >= 0


@pytest.mark.django_db
def test_it_reports_a_cached_balance_that_differs_from_the_entries(bureau_budget):
    # Tamper with the cache behind the services' back (both columns, so the CHECK still holds).
    Budget.objects.filter(pk=bureau_budget.pk).update(available=Decimal("9000.00"),
                                                      allocated=Decimal("9000.00"))
    problems = services.ledger_recompute(budget=bureau_budget)
    assert {(p.column, p.cached, p.computed) for p in problems} == {
        ("available", Decimal("9000.00"), Decimal("10000.00")),
        ("allocated", Decimal("9000.00"), Decimal("10000.00")),
    }


@pytest.mark.django_db
def test_it_reports_a_transaction_that_does_not_balance(bureau_budget):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL refuses the unbalanced entry itself (next test)")
    txn = uuid.uuid4()
    LedgerEntry.objects.create(txn=txn, budget=bureau_budget, account=Account.AVAILABLE,
                               amount=Decimal("5.00"), kind=EntryKind.ALLOCATE)
    problems = services.ledger_recompute()
    assert any(p.txn == txn and p.computed == Decimal("5.00") for p in problems)


@pytest.mark.django_db
def test_it_refuses_unbalanced_edited_or_deleted_entries_on_postgresql(pg_only, bureau_budget):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(txn=uuid.uuid4(), budget=bureau_budget,
                                   account=Account.AVAILABLE, amount=Decimal("5.00"),
                                   kind=EntryKind.ALLOCATE)
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(budget=bureau_budget).update(amount=Decimal("1.00"))
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(budget=bureau_budget).delete()
    assert LedgerEntry.objects.filter(budget=bureau_budget).count() == 2


def _race(targets):
    """Run each target in its own thread (its own database connection); a barrier releases
    them together. Returns what each returned or raised."""
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def run(i, target):
        try:
            barrier.wait(timeout=10)
            results[i] = target()
        except Exception as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_two_racing_approvals_take_the_last_budget(
    pg_race, union, finance, source, make_member, reserve_for
):
    budget = services.budget_allocate(actor=finance.bureau_finance, org_unit=union.bureau,
                                      funding_source=source, year=YEAR, amount="1000.00")
    services.budget_allocate_down(actor=finance.bureau_finance, parent_budget=budget,
                                  child_unit=union.station_a, amount="999.00")  # 1.00 left above
    team_b_members = [make_member(union.team_b), make_member(union.team_b)]

    results = _race([
        lambda: reserve_for(team_b_members[0], 1, "0.60"),
        lambda: reserve_for(team_b_members[1], 2, "0.60"),
    ])

    winners = [r for r in results if isinstance(r, Disbursement)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1, results
    assert [loser.code for loser in losers] == ["budget_insufficient"], results
    budget.refresh_from_db()
    assert (budget.available, budget.reserved) == (Decimal("0.40"), Decimal("0.60"))
    assert Disbursement.objects.count() == 1
    assert services.ledger_recompute() == []


@pytest.mark.django_db(transaction=True)
def test_it_reserves_once_when_the_same_approval_races_with_itself(
    pg_race, union, finance, source, make_member, reserve_for
):
    budget = services.budget_allocate(actor=finance.bureau_finance, org_unit=union.bureau,
                                      funding_source=source, year=YEAR, amount="1000.00")
    member = make_member(union.team_a)

    results = _race([lambda: reserve_for(member, 5, "300.00")] * 2)

    assert all(isinstance(r, Disbursement) for r in results), results
    assert results[0].pk == results[1].pk
    budget.refresh_from_db()
    assert (budget.available, budget.reserved) == (Decimal("700.00"), Decimal("300.00"))
    assert LedgerEntry.objects.filter(kind=EntryKind.RESERVE).count() == 2
    assert services.ledger_recompute() == []


@pytest.mark.django_db
def test_it_checks_the_ledger_from_the_command_line(bureau_budget):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("ledger_check", stdout=out)
    assert "OK: 1 budgets, 2 entries" in out.getvalue()
    Budget.objects.filter(pk=bureau_budget.pk).update(available=1, allocated=1)
    with pytest.raises(CommandError):
        call_command("ledger_check", stdout=StringIO())
