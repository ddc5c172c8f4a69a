"""Reserve, release, batches, confirmation, reversal: no double payment, balances restored."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.funds import services
from unionaid.funds.models import (
    BatchStatus,
    Budget,
    Disbursement,
    DisbursementStatus,
    EntryKind,
    LedgerEntry,
)

pytestmark = pytest.mark.django_db


def _balances(budget):
    budget.refresh_from_db()
    return budget.available, budget.reserved, budget.paid


def _batch_of(finance, union, source, ids=None):
    return services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                 funding_source=source, disbursement_ids=ids)


def _pay(finance, union, source, ids=None):
    """Made by the finance officer, exported by the cashier, confirmed by the checker."""
    batch = _batch_of(finance, union, source, ids)
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    return services.batch_confirm(actor=finance.bureau_checker, batch=batch)


def test_it_reserves_from_the_nearest_budget_and_audits(union, make_member, bureau_budget,
                                                         reserve_for, worker):
    member = make_member(union.team_a)
    disbursement = reserve_for(member, 1, "800.00", actor=worker)
    assert disbursement.status == DisbursementStatus.RESERVED
    assert disbursement.budget_id == bureau_budget.pk
    assert _balances(bureau_budget) == (Decimal("9200.00"), Decimal("800.00"), Decimal(0))
    entries = LedgerEntry.objects.filter(disbursement=disbursement, kind=EntryKind.RESERVE)
    assert sorted(e.amount for e in entries) == [Decimal("-800.00"), Decimal("800.00")]
    event = AuditEvent.objects.get(action="funds.reserve")
    assert event.target_id == str(disbursement.pk)
    assert event.changes["subject"] == "test.subject#1"


def test_it_reserves_only_once_for_the_same_subject(union, make_member, bureau_budget,
                                                    reserve_for):
    member = make_member(union.team_a)
    first = reserve_for(member, 7, 500)
    second = reserve_for(member, 7, 500)
    assert first.pk == second.pk
    assert Disbursement.objects.count() == 1
    assert _balances(bureau_budget)[:2] == (Decimal("9500.00"), Decimal("500.00"))
    assert LedgerEntry.objects.filter(kind=EntryKind.RESERVE).count() == 2
    assert AuditEvent.objects.filter(action="funds.reserve").count() == 1


def test_it_refuses_a_reservation_beyond_the_available_budget(union, make_member, bureau_budget,
                                                              reserve_for):
    member = make_member(union.team_a)
    reserve_for(member, 1, "9999.00")
    with pytest.raises(Conflict) as exc:
        reserve_for(member, 2, "1.50")
    assert exc.value.code == "budget_insufficient"
    assert "0.50" in exc.value.message
    assert "1.50" in exc.value.message
    assert _balances(bureau_budget)[0] == Decimal("1.00")
    assert Disbursement.objects.count() == 1


def test_it_refuses_a_reservation_when_no_budget_exists(union, make_member, reserve_for, source):
    with pytest.raises(Conflict) as exc:
        reserve_for(make_member(union.team_a), 1, 100)
    assert exc.value.code == "no_budget"
    assert not Disbursement.objects.exists()


def test_it_releases_a_reservation_and_may_reserve_it_again(union, make_member, bureau_budget,
                                                            reserve_for):
    member = make_member(union.team_a)
    reserve_for(member, 3, 300)
    released = services.release(actor=None, subject_kind="test.subject", subject_id=3,
                                reason="申请撤回")
    assert released.status == DisbursementStatus.RELEASED
    assert _balances(bureau_budget)[:2] == (Decimal("10000.00"), Decimal(0))
    again = reserve_for(member, 3, 200)
    assert again.pk == released.pk
    assert again.status == DisbursementStatus.RESERVED
    assert _balances(bureau_budget)[:2] == (Decimal("9800.00"), Decimal("200.00"))
    assert services.ledger_recompute() == []
    assert AuditEvent.objects.filter(action="funds.release").count() == 1


def test_it_batches_reserved_disbursements_once(union, make_member, finance, source,
                                                bureau_budget, reserve_for):
    a = reserve_for(make_member(union.team_a), 1, 100)
    b = reserve_for(make_member(union.team_b), 2, "250.50")
    batch = _batch_of(finance, union, source)
    assert batch.total == Decimal("350.50")
    assert set(batch.disbursements.values_list("pk", flat=True)) == {a.pk, b.pk}
    assert set(Disbursement.objects.values_list("status", flat=True)) == {DisbursementStatus.IN_BATCH}
    with pytest.raises(Conflict) as exc:  # a disbursement can't be in two batches
        _batch_of(finance, union, source, ids=[a.pk])
    assert exc.value.code == "not_batchable"
    with pytest.raises(ServiceError) as exc:
        _batch_of(finance, union, source)
    assert exc.value.code == "nothing_to_batch"
    a.refresh_from_db()
    assert a.batch_id == batch.pk


def test_it_limits_a_batch_to_the_units_subtree_and_the_actors_scope(
    union, make_member, finance, source, bureau_budget, reserve_for
):
    reserve_for(make_member(union.team_a), 1, 100)
    other = reserve_for(make_member(union.team_b), 2, 100)
    services.budget_allocate(actor=finance.bureau_finance, org_unit=union.station_a,
                             funding_source=source, year=2026, amount=1000)
    mine = reserve_for(make_member(union.team_a), 3, 100)
    batch = services.batch_create(actor=finance.station_finance, org_unit=union.station_a,
                                  funding_source=source)
    assert list(batch.disbursements.values_list("pk", flat=True)) == [mine.pk]
    with pytest.raises(Conflict):
        services.batch_create(actor=finance.station_finance, org_unit=union.station_a,
                              funding_source=source, disbursement_ids=[other.pk])
    with pytest.raises(PermissionDenied):
        services.batch_create(actor=finance.station_finance, org_unit=union.bureau,
                              funding_source=source)


def test_it_pays_a_batch_once_even_when_confirmed_twice(union, make_member, finance, source,
                                                        bureau_budget, reserve_for, test_subject):
    paid_hook_calls = []
    test_subject.hooks["paid"].append(
        lambda *, disbursement, actor: paid_hook_calls.append(
            (disbursement.subject_id, disbursement.status, actor)))
    reserve_for(make_member(union.team_a), 1, 100)
    reserve_for(make_member(union.team_a), 2, 200)
    batch = _pay(finance, union, source)
    again = services.batch_confirm(actor=finance.bureau_checker, batch=batch)
    assert again.status == BatchStatus.CONFIRMED
    assert again.confirmed_by == finance.bureau_checker
    assert _balances(bureau_budget) == (Decimal("9700.00"), Decimal(0), Decimal("300.00"))
    assert LedgerEntry.objects.filter(kind=EntryKind.PAY).count() == 4
    assert set(Disbursement.objects.values_list("status", flat=True)) == {DisbursementStatus.PAID}
    assert AuditEvent.objects.filter(action="funds.batch_confirm").count() == 1
    assert sorted(c[0] for c in paid_hook_calls) == [1, 2]
    assert {c[1] for c in paid_hook_calls} == {DisbursementStatus.PAID}
    assert services.ledger_recompute() == []


def test_it_confirms_only_exported_batches_and_only_for_confirmers(
    union, make_member, finance, source, bureau_budget, reserve_for
):
    reserve_for(make_member(union.team_a), 1, 100)
    batch = _batch_of(finance, union, source)
    with pytest.raises(Conflict) as exc:
        services.batch_confirm(actor=finance.bureau_cashier, batch=batch)
    assert exc.value.code == "not_exported"
    services.batch_export(actor=finance.bureau_finance, batch=batch, fmt="csv")
    with pytest.raises(PermissionDenied):
        services.batch_confirm(actor=finance.bureau_finance, batch=batch)
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAY).exists()


def test_it_masks_bank_accounts_in_the_export_unless_the_actor_may_confirm(
    union, make_member, finance, source, bureau_budget, reserve_for, people
):
    account = people.bank_account()
    reserve_for(make_member(union.team_a, bank_account=account), 1, "123.40")
    batch = _batch_of(finance, union, source)

    name, content = services.batch_export(actor=finance.bureau_finance, batch=batch, fmt="csv")
    assert name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[1][2] != account
    assert rows[1][2].endswith(account[-4:])
    assert "*" in rows[1][2]
    assert rows[1][3] == "123.40"

    _name, content = services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.cell(row=2, column=3).value == account
    assert Decimal(str(sheet.cell(row=2, column=4).value)) == Decimal("123.40")

    events = list(AuditEvent.objects.filter(action="funds.batch_export").order_by("id"))
    assert [e.changes["accounts_in_clear"] for e in events] == [False, True]
    assert all(account not in str(e.changes) for e in events)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.EXPORTED


def test_it_reverses_a_payment_and_restores_the_balance(union, make_member, finance, source,
                                                       bureau_budget, reserve_for):
    d = reserve_for(make_member(union.team_a), 1, 400)
    _pay(finance, union, source)
    d.refresh_from_db()
    reversed_ = services.disbursement_reverse(actor=finance.bureau_cashier, disbursement=d,
                                              reason="账号错误，银行退回")
    assert reversed_.status == DisbursementStatus.REVERSED
    assert reversed_.reversal_reason == "账号错误，银行退回"
    assert _balances(bureau_budget) == (Decimal("10000.00"), Decimal(0), Decimal(0))
    pay_txn = LedgerEntry.objects.filter(disbursement=d, kind=EntryKind.PAY).first().txn
    reverse_entries = LedgerEntry.objects.filter(disbursement=d, kind=EntryKind.REVERSE)
    assert {e.reverses_txn for e in reverse_entries} == {pay_txn}
    # nothing was edited: the original PAY entries are still there
    assert LedgerEntry.objects.filter(disbursement=d, kind=EntryKind.PAY).count() == 2
    assert AuditEvent.objects.filter(action="funds.reverse", target_id=str(d.pk)).count() == 1
    with pytest.raises(Conflict) as exc:
        services.disbursement_reverse(actor=finance.bureau_cashier, disbursement=d, reason="再次")
    assert exc.value.code == "already_reversed"
    assert services.ledger_recompute() == []


def test_it_reverses_only_paid_disbursements_with_a_reason_by_a_confirmer(
    union, make_member, finance, bureau_budget, reserve_for
):
    d = reserve_for(make_member(union.team_a), 1, 400)
    with pytest.raises(Conflict) as exc:
        services.disbursement_reverse(actor=finance.bureau_cashier, disbursement=d, reason="x")
    assert exc.value.code == "not_paid"
    with pytest.raises(ServiceError):
        services.disbursement_reverse(actor=finance.bureau_cashier, disbursement=d, reason=" ")
    with pytest.raises(PermissionDenied):
        services.disbursement_reverse(actor=finance.bureau_finance, disbursement=d, reason="x")


def test_it_refuses_to_release_a_paid_disbursement(union, make_member, finance, source,
                                                   bureau_budget, reserve_for):
    reserve_for(make_member(union.team_a), 1, 100)
    _pay(finance, union, source)
    with pytest.raises(Conflict) as exc:
        services.release(actor=None, subject_kind="test.subject", subject_id=1, reason="撤回")
    assert exc.value.code == "not_releasable"
    with pytest.raises(NotFound):
        services.release(actor=None, subject_kind="test.subject", subject_id=99, reason="撤回")


def test_it_releases_from_a_draft_batch_and_lowers_its_total(union, make_member, finance, source,
                                                             bureau_budget, reserve_for):
    a = reserve_for(make_member(union.team_a), 1, 100)
    reserve_for(make_member(union.team_a), 2, 50)
    batch = _batch_of(finance, union, source)
    services.disbursement_release(actor=finance.bureau_finance, disbursement=a, reason="重复申请")
    batch.refresh_from_db()
    assert batch.total == Decimal("50.00")
    assert batch.disbursements.count() == 1
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    b = batch.disbursements.get()
    with pytest.raises(Conflict) as exc:
        services.disbursement_release(actor=finance.bureau_finance, disbursement=b, reason="x")
    assert exc.value.code == "batch_not_draft"


def test_it_never_lets_the_database_hold_a_negative_budget(bureau_budget):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Budget.objects.filter(pk=bureau_budget.pk).update(available=-1, allocated=-1)
    with pytest.raises(IntegrityError), transaction.atomic():  # columns must add up
        Budget.objects.filter(pk=bureau_budget.pk).update(available=1)


def test_it_reserves_in_a_few_queries(union, make_member, bureau_budget, reserve_for, worker,
                                      django_assert_max_num_queries):
    member = make_member(union.team_a)
    reserve_for(member, 1, 10, actor=worker)  # warm the access cache of the actor
    # 8 statements (lock the budget, look the subject up, insert, entries, update, 3 for the
    # audit chain) plus 4 savepoint commands (reserve's and audit_record's atomic blocks)
    with django_assert_max_num_queries(12):
        reserve_for(member, 2, 10, actor=worker)
    with django_assert_max_num_queries(4):  # a repeated call: lock, look up, nothing moves
        reserve_for(member, 2, 10, actor=worker)
