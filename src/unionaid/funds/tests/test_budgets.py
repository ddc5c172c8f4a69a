"""Budgets: allocation from outside and down the tree, nearest budget, permissions, money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.funds import services
from unionaid.funds.models import Account, Budget, EntryKind, FundingSource, LedgerEntry

from .conftest import YEAR

pytestmark = pytest.mark.django_db


def _sums_by_txn():
    totals = {}
    for e in LedgerEntry.objects.all():
        totals[e.txn] = totals.get(e.txn, Decimal(0)) + e.amount
    return totals


def test_it_allocates_money_into_a_new_budget_with_balanced_entries_and_an_audit_event(
    union, finance, source
):
    budget = services.budget_allocate(actor=finance.bureau_finance, org_unit=union.bureau,
                                      funding_source=source, year=YEAR, amount="5000.50",
                                      memo="年初预算")
    budget.refresh_from_db()
    assert (budget.allocated, budget.available) == (Decimal("5000.50"), Decimal("5000.50"))
    entries = LedgerEntry.objects.filter(budget=budget)
    assert {(e.account, e.amount, e.kind) for e in entries} == {
        (Account.SOURCE, Decimal("-5000.50"), EntryKind.ALLOCATE),
        (Account.AVAILABLE, Decimal("5000.50"), EntryKind.ALLOCATE),
    }
    assert set(_sums_by_txn().values()) == {Decimal(0)}
    event = AuditEvent.objects.get(action="funds.allocate")
    assert event.target_id == str(budget.pk)
    assert event.changes["amount"] == "5000.50"
    assert event.actor_id == finance.bureau_finance.pk


def test_it_adds_a_second_allocation_to_the_same_budget(union, finance, source, bureau_budget):
    again = services.budget_allocate(actor=finance.bureau_finance, org_unit=union.bureau,
                                     funding_source=source, year=YEAR, amount=1000)
    assert again.pk == bureau_budget.pk
    again.refresh_from_db()
    assert again.available == Decimal("11000.00")
    assert Budget.objects.count() == 1


@pytest.mark.parametrize("amount", ["0", "-5", "12.345", "abc", "NaN", ""])
def test_it_refuses_amounts_that_are_not_positive_money_with_two_decimals(
    union, finance, source, amount
):
    with pytest.raises(ServiceError) as exc:
        services.budget_allocate(actor=finance.bureau_finance, org_unit=union.bureau,
                                 funding_source=source, year=YEAR, amount=amount)
    assert exc.value.code == "validation_error"
    assert not Budget.objects.exists()


def test_it_refuses_float_money_as_a_programming_error(union, finance, source):
    with pytest.raises(TypeError):
        services.budget_allocate(actor=finance.bureau_finance, org_unit=union.bureau,
                                 funding_source=source, year=YEAR, amount=0.1)


def test_it_refuses_allocation_outside_the_actors_scope(union, finance, source, personas):
    with pytest.raises(PermissionDenied):
        services.budget_allocate(actor=finance.station_finance, org_unit=union.station_b,
                                 funding_source=source, year=YEAR, amount=100)
    with pytest.raises(PermissionDenied):
        services.budget_allocate(actor=personas.station_cadre, org_unit=union.station_a,
                                 funding_source=source, year=YEAR, amount=100)
    assert not LedgerEntry.objects.exists()


def test_it_allocates_down_to_a_child_unit_and_keeps_both_budgets_balanced(
    union, finance, source, bureau_budget
):
    child = services.budget_allocate_down(actor=finance.bureau_finance, parent_budget=bureau_budget,
                                          child_unit=union.station_a, amount="2500")
    bureau_budget.refresh_from_db()
    child.refresh_from_db()
    assert child.parent_id == bureau_budget.pk
    assert (child.org_unit_id, child.funding_source_id, child.year) == (
        union.station_a.pk, source.pk, YEAR)
    assert (bureau_budget.available, bureau_budget.allocated_down) == (
        Decimal("7500.00"), Decimal("2500.00"))
    assert bureau_budget.allocated == Decimal("10000.00")
    assert (child.allocated, child.available) == (Decimal("2500.00"), Decimal("2500.00"))
    assert set(_sums_by_txn().values()) == {Decimal(0)}
    assert AuditEvent.objects.filter(action="funds.allocate_down",
                                     target_id=str(bureau_budget.pk)).count() == 1
    assert services.ledger_recompute() == []


def test_it_refuses_to_allocate_down_more_than_is_available(union, finance, bureau_budget):
    with pytest.raises(Conflict) as exc:
        services.budget_allocate_down(actor=finance.bureau_finance, parent_budget=bureau_budget,
                                      child_unit=union.station_a, amount="10000.01")
    assert exc.value.code == "budget_insufficient"
    assert "0.01" in exc.value.message  # the shortfall is in the message
    bureau_budget.refresh_from_db()
    assert bureau_budget.available == Decimal("10000.00")


def test_it_refuses_to_allocate_down_to_a_unit_that_is_not_below(union, finance, bureau_budget):
    station_budget = services.budget_allocate_down(
        actor=finance.bureau_finance, parent_budget=bureau_budget, child_unit=union.station_a,
        amount=100)
    with pytest.raises(ServiceError) as exc:
        services.budget_allocate_down(actor=finance.bureau_finance, parent_budget=station_budget,
                                      child_unit=union.team_b, amount=10)
    assert exc.value.code == "not_a_child_unit"


def test_it_finds_the_nearest_budget_up_the_tree(union, finance, source, bureau_budget):
    assert services.budget_for(org_unit=union.team_a, funding_source=source,
                               year=YEAR) == bureau_budget
    station = services.budget_allocate_down(actor=finance.bureau_finance,
                                            parent_budget=bureau_budget,
                                            child_unit=union.station_a, amount=100)
    assert services.budget_for(org_unit=union.team_a, funding_source=source, year=YEAR) == station
    assert services.budget_for(org_unit=union.team_b, funding_source=source,
                               year=YEAR) == bureau_budget
    assert services.budget_for(org_unit=union.team_a, funding_source=source, year=YEAR + 1) is None


def test_it_saves_funding_sources_only_for_bureau_level_finance(finance):
    source = services.funding_source_save(actor=finance.bureau_finance, code="donation",
                                          name="社会捐赠")
    services.funding_source_save(actor=finance.bureau_finance, code="donation", name="社会捐赠款")
    source.refresh_from_db()
    assert source.name == "社会捐赠款"
    assert list(AuditEvent.objects.filter(target_type="funds.fundingsource")
                .values_list("action", flat=True).order_by("id")) == [
        "funds.source_create", "funds.source_update"]
    with pytest.raises(PermissionDenied):
        services.funding_source_save(actor=finance.station_finance, code="x", name="站段自筹")
    with pytest.raises(ServiceError):
        services.funding_source_save(actor=finance.bureau_finance, code="Bad Code!", name="x")
    assert FundingSource.objects.count() == 1
