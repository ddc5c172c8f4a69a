"""Paying a reversed disbursement again (重新发放): a new row linked to the reversed one, the
usual RESERVE entries, idempotent, and never two live disbursements for one subject."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.funds import selectors, services
from unionaid.funds.models import (
    Budget,
    Disbursement,
    DisbursementBatch,
    DisbursementStatus,
    EntryKind,
    LedgerEntry,
)

pytestmark = pytest.mark.django_db
KIND = "test.subject"


def _balances(budget):
    budget.refresh_from_db()
    return budget.available, budget.reserved, budget.paid


def _pay(finance, union, source):
    batch = services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                  funding_source=source)
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    return services.batch_confirm(actor=finance.bureau_checker, batch=batch)


@pytest.fixture
def reversed_(union, make_member, finance, source, bureau_budget, reserve_for):
    """Subject 1's 400 yuan paid in a confirmed batch, then reversed (the bank returned it)."""
    d = reserve_for(make_member(union.team_a), 1, 400)
    _pay(finance, union, source)
    d.refresh_from_db()
    return services.disbursement_reverse(actor=finance.bureau_cashier, disbursement=d,
                                         reason="银行退票：账号已注销")


def test_it_pays_a_reversed_disbursement_again_as_a_new_reserved_row(
        union, finance, source, bureau_budget, reversed_):
    old_batch, old_paid_at = reversed_.batch_id, reversed_.paid_at
    assert _balances(bureau_budget) == (Decimal("10000.00"), Decimal(0), Decimal(0))
    new = services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                      reason="账号已更正")
    assert new.pk != reversed_.pk
    assert (new.status, new.repays_id, new.amount) == (
        DisbursementStatus.RESERVED, reversed_.pk, Decimal("400.00"))
    assert (new.subject_kind, new.subject_id, new.member_id, new.budget_id) == (
        KIND, 1, reversed_.member_id, bureau_budget.pk)
    assert new.batch_id is None
    old = Disbursement.objects.get(pk=reversed_.pk)  # the trail stays as it was
    assert (old.status, old.batch_id, old.paid_at) == (
        DisbursementStatus.REVERSED, old_batch, old_paid_at)
    assert old.repayment == new
    assert _balances(bureau_budget) == (Decimal("9600.00"), Decimal("400.00"), Decimal(0))
    entries = LedgerEntry.objects.filter(disbursement=new)
    assert sorted((e.kind, e.account, e.amount) for e in entries) == [
        (EntryKind.RESERVE, "available", Decimal("-400.00")),
        (EntryKind.RESERVE, "reserved", Decimal("400.00"))]
    assert {e.memo for e in entries} == {"账号已更正"}
    event = AuditEvent.objects.get(action="funds.repay")
    assert (event.actor_id, event.target_id) == (finance.bureau_finance.pk, str(new.pk))
    assert event.changes["repays"] == reversed_.pk
    assert event.changes["reason"] == "账号已更正"
    assert services.ledger_recompute() == []

    # the re-payment goes into the next batch and is paid on its confirmation
    batch = _pay(finance, union, source)
    assert list(batch.disbursements.values_list("pk", flat=True)) == [new.pk]
    assert Disbursement.objects.get(pk=new.pk).status == DisbursementStatus.PAID
    assert Disbursement.objects.get(pk=reversed_.pk).status == DisbursementStatus.REVERSED
    assert _balances(bureau_budget) == (Decimal("9600.00"), Decimal(0), Decimal("400.00"))
    assert services.ledger_recompute() == []


def test_repaying_twice_returns_the_same_row_and_moves_no_money(finance, bureau_budget,
                                                                reversed_):
    first = services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                        reason="账号已更正")
    entries = LedgerEntry.objects.count()
    again = services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                        reason="再点一次")
    assert again.pk == first.pk
    assert Disbursement.objects.filter(subject_kind=KIND, subject_id=1).count() == 2
    assert LedgerEntry.objects.count() == entries
    assert AuditEvent.objects.filter(action="funds.repay").count() == 1
    assert _balances(bureau_budget)[:2] == (Decimal("9600.00"), Decimal("400.00"))


def test_a_released_repayment_ends_the_reversal(finance, bureau_budget, reversed_, reserve_for):
    first = services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                        reason="账号已更正")
    # the subject's current row is the re-payment: reserve() is idempotent on it, release()
    # cancels it — and with it the reversal's chance of being paid again
    assert reserve_for(first.member, 1, 400).pk == first.pk
    services.release(actor=None, subject_kind=KIND, subject_id=1, reason="暂缓发放")
    assert Disbursement.objects.get(pk=first.pk).status == DisbursementStatus.RELEASED
    original = Disbursement.objects.get(pk=reversed_.pk)
    assert (original.status, original.close_reason) == (DisbursementStatus.REVERSED, "暂缓发放")
    with pytest.raises(Conflict) as exc:
        services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                    reason="核实后发放")
    assert exc.value.code == "closed"
    assert _balances(bureau_budget)[:2] == (Decimal("10000.00"), Decimal(0))
    assert services.ledger_recompute() == []


def test_repaying_without_enough_budget_is_refused_and_writes_nothing(
        union, make_member, finance, bureau_budget, reversed_, reserve_for):
    reserve_for(make_member(union.team_b), 2, "9700.00")  # 300 left, 400 needed
    rows, entries = Disbursement.objects.count(), LedgerEntry.objects.count()
    with pytest.raises(Conflict) as exc:
        services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                    reason="账号已更正")
    assert exc.value.code == "budget_insufficient"
    assert "还差 100.00 元" in exc.value.message
    assert (Disbursement.objects.count(), LedgerEntry.objects.count()) == (rows, entries)
    assert not AuditEvent.objects.filter(action="funds.repay").exists()
    assert _balances(bureau_budget)[:2] == (Decimal("300.00"), Decimal("9700.00"))
    assert services.ledger_recompute() == []


def test_repaying_needs_funds_manage_a_reversed_disbursement_and_a_reason(
        union, make_member, finance, bureau_budget, reversed_, reserve_for):
    with pytest.raises(PermissionDenied):  # funds.confirm alone is not enough
        services.disbursement_repay(actor=finance.bureau_cashier, disbursement=reversed_,
                                    reason="x")
    with pytest.raises(PermissionDenied):  # a station's finance post, the bureau's budget
        services.disbursement_repay(actor=finance.station_finance, disbursement=reversed_,
                                    reason="x")
    with pytest.raises(ServiceError) as exc:
        services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                    reason="  ")
    assert exc.value.fields == {"reason": "请填写原因。"}
    reserved = reserve_for(make_member(union.team_b), 2, 100)
    with pytest.raises(Conflict) as exc:
        services.disbursement_repay(actor=finance.bureau_finance, disbursement=reserved,
                                    reason="x")
    assert exc.value.code == "not_reversed"
    assert not Disbursement.objects.filter(repays__isnull=False).exists()


def test_the_repaid_hook_runs_with_the_new_row(finance, bureau_budget, reversed_,
                                               test_subject):
    calls = []
    test_subject.hooks["repaid"].append(lambda *, disbursement, actor: calls.append(
        (disbursement.repays_id, disbursement.status, actor)))
    services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                reason="账号已更正")
    assert calls == [(reversed_.pk, DisbursementStatus.RESERVED, finance.bureau_finance)]


def test_a_refusing_repaid_hook_undoes_the_repayment(finance, bureau_budget, reversed_,
                                                     test_subject):
    def refuse(*, disbursement, actor):
        raise Conflict("不可", code="not_reversed")

    test_subject.hooks["repaid"].append(refuse)
    entries = LedgerEntry.objects.count()
    with pytest.raises(Conflict):
        services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                    reason="账号已更正")
    assert LedgerEntry.objects.count() == entries
    assert not Disbursement.objects.filter(repays=reversed_).exists()
    assert not AuditEvent.objects.filter(action="funds.repay").exists()
    assert _balances(bureau_budget)[:2] == (Decimal("10000.00"), Decimal(0))


def test_the_database_refuses_two_live_disbursements_for_one_subject(reversed_):
    def another(status):
        return Disbursement(subject_kind=KIND, subject_id=1, budget_id=reversed_.budget_id,
                            member_id=reversed_.member_id, amount=Decimal("1.00"),
                            status=status)

    # not live: another reversed or released row is allowed beside the reversed one
    another(DisbursementStatus.RELEASED).save()
    live = another(DisbursementStatus.RESERVED)
    live.save()  # one live row
    for status in (DisbursementStatus.RESERVED, DisbursementStatus.IN_BATCH,
                   DisbursementStatus.PAID):
        with pytest.raises(IntegrityError), transaction.atomic():
            another(status).save()
    # and an existing non-live row can't come back to life beside the live one
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.filter(pk=reversed_.pk).update(status=DisbursementStatus.PAID)


def test_the_trace_shows_the_reversed_payment_and_its_repayment_in_order(
        client, union, finance, source, bureau_budget, reversed_):
    new = services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                      reason="账号已更正")
    _pay(finance, union, source)
    trace = selectors.payment_trace(user=finance.tracer, disbursement_id=new.pk)
    assert [(d.pk, d.status) for d in trace["history"]] == [
        (reversed_.pk, DisbursementStatus.REVERSED), (new.pk, DisbursementStatus.PAID)]
    assert [(e.disbursement_id, e.kind) for e in trace["entries"]] == [
        (reversed_.pk, "reserve"), (reversed_.pk, "reserve"), (reversed_.pk, "pay"),
        (reversed_.pk, "pay"), (reversed_.pk, "reverse"), (reversed_.pk, "reverse"),
        (new.pk, "reserve"), (new.pk, "reserve"), (new.pk, "pay"), (new.pk, "pay")]
    actions = [e.action for e in trace["events"]]
    assert actions.index("funds.reverse") < actions.index("funds.repay")
    assert actions.count("funds.batch_confirm") == 2
    assert trace["batch"].pk != reversed_.batch_id

    client.force_login(finance.tracer)
    html = client.get(reverse("funds:trace-detail", args=[new.pk])).content.decode()
    history = html.split('id="trace-history"')[1].split("</table>")[0]
    assert history.index(f"#{reversed_.pk}") < history.index(f"#{new.pk}")
    assert "银行退票：账号已注销" in history
    assert f"重新发放自 #{reversed_.pk}" in history
    assert reverse("funds:disbursement-repay", args=[reversed_.pk]) not in html  # read-only
    old_page = client.get(reverse("funds:trace-detail", args=[reversed_.pk])).content.decode()
    assert reverse("funds:trace-detail", args=[new.pk]) in old_page


def test_repaying_through_the_pages(client, union, make_member, finance, bureau_budget,
                                    reversed_, reserve_for):
    listing_url = reverse("funds:disbursement-list")
    repay_url = reverse("funds:disbursement-repay", args=[reversed_.pk])
    client.force_login(finance.bureau_cashier)  # funds.confirm only: no re-payment
    listing = client.get(listing_url, {"status": "reversed"}).content.decode()
    assert repay_url not in listing
    assert client.get(repay_url).status_code == 404

    client.force_login(finance.bureau_finance)
    listing = client.get(listing_url, {"status": "reversed"}).content.decode()
    assert repay_url in listing
    page = client.get(repay_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "银行退票：账号已注销" in html
    assert "csrfmiddlewaretoken" in html
    assert "<script>" not in html
    assert 'style="' not in html
    response = client.post(repay_url, {"reason": ""})
    assert response.status_code == 200
    assert "请填写原因" in response.content.decode()

    spender = reserve_for(make_member(union.team_b), 2, "9700.00")  # 300 left, 400 needed
    response = client.post(repay_url, {"reason": "账号已更正"})
    assert response.status_code == 200
    assert "预算可用额度不足" in response.content.decode()
    assert not Disbursement.objects.filter(repays=reversed_).exists()

    services.disbursement_release(actor=finance.bureau_finance, disbursement=spender,
                                  reason="重复申请")
    response = client.post(repay_url, {"reason": "账号已更正"}, follow=True)
    new = Disbursement.objects.get(repays=reversed_)
    assert response.redirect_chain[-1][0] == listing_url
    assert (f"已重新发放：新的发放 #{new.pk} 已预留 400.00 元"
            in response.content.decode())
    listing = client.get(listing_url, {"status": "reversed"}).content.decode()
    assert repay_url not in listing  # paid again already: no second button
    assert f"已重新发放 #{new.pk}" in listing
    assert Budget.objects.get(pk=bureau_budget.pk).reserved == Decimal("400.00")
    assert DisbursementBatch.objects.count() == 1


def test_the_trace_page_offers_the_repayment_to_a_finance_manager_only(client, finance,
                                                                       reversed_, trace_manager):
    manager = trace_manager
    trace_url = reverse("funds:trace-detail", args=[reversed_.pk])
    repay_url = reverse("funds:disbursement-repay", args=[reversed_.pk])
    client.force_login(finance.tracer)  # an auditor: read-only
    assert repay_url not in client.get(trace_url).content.decode()
    client.force_login(manager)
    assert repay_url in client.get(trace_url).content.decode()
    services.disbursement_repay(actor=manager, disbursement=reversed_, reason="账号已更正")
    assert repay_url not in client.get(trace_url).content.decode()  # done already
