"""Voiding (作废) a batch never confirmed (issue 10, item 9): its grants go back to waiting for
payment, no money moves (batching posted none), the ledger still balances, and the grants can
be batched and paid again."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.funds import selectors, services
from unionaid.funds.models import (
    BatchStatus,
    Budget,
    Disbursement,
    DisbursementBatch,
    DisbursementStatus,
    LedgerEntry,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(union, make_member, finance, source, bureau_budget, reserve_for):
    reserve_for(make_member(union.team_a), 1, 100)
    reserve_for(make_member(union.team_b), 2, 200)
    return services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                 funding_source=source)


def test_voiding_an_exported_batch_returns_its_grants_to_waiting_and_the_ledger_balances(
        union, finance, source, bureau_budget, batch):
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    entries_before = LedgerEntry.objects.count()
    voided = services.batch_void(actor=finance.bureau_finance, batch=batch, reason="银行退回文件")
    assert voided.status == BatchStatus.VOIDED
    assert voided.voided_by == finance.bureau_finance
    assert voided.void_reason == "银行退回文件"
    rows = Disbursement.objects.order_by("pk")
    assert [(d.status, d.batch_id) for d in rows] == [(DisbursementStatus.RESERVED, None)] * 2
    # the money stayed reserved: no entry, balances unchanged and recomputable
    assert LedgerEntry.objects.count() == entries_before
    budget = Budget.objects.get(pk=bureau_budget.pk)
    assert (budget.available, budget.reserved, budget.paid) == (
        Decimal("9700.00"), Decimal("300.00"), Decimal("0.00"))
    assert services.ledger_recompute() == []
    event = AuditEvent.objects.get(action="funds.batch_void")
    assert event.changes["disbursements"] == [d.pk for d in rows]
    assert event.changes["previous_status"] == BatchStatus.EXPORTED
    assert event.changes["reason"] == "银行退回文件"

    # idempotent: nothing more is written
    again = services.batch_void(actor=finance.bureau_finance, batch=batch, reason="再次")
    assert again.void_reason == "银行退回文件"
    assert AuditEvent.objects.filter(action="funds.batch_void").count() == 1

    # the voided batch can be neither exported nor confirmed
    with pytest.raises(Conflict) as exc:
        services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    assert exc.value.code == "batch_voided"
    with pytest.raises(Conflict) as exc:
        services.batch_confirm(actor=finance.bureau_cashier, batch=batch)
    assert exc.value.code == "batch_voided"

    # the auditor's trace still shows the voided batch's history
    trace = selectors.payment_trace(user=finance.tracer, disbursement_id=rows[0].pk)
    assert [e.action for e in trace["events"]] == [
        "funds.reserve", "funds.batch_create", "funds.batch_export", "funds.batch_void"]
    assert trace["events"][-1].label == "作废发放批次"

    # the grants go into a new batch and are paid once
    new = services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                funding_source=source)
    assert new.disbursements.count() == 2
    services.batch_export(actor=finance.bureau_cashier, batch=new, fmt="csv")
    services.batch_confirm(actor=finance.bureau_cashier, batch=new)
    budget.refresh_from_db()
    assert (budget.reserved, budget.paid) == (Decimal("0.00"), Decimal("300.00"))
    assert services.ledger_recompute() == []


def test_a_confirmed_batch_cannot_be_voided_and_a_reason_is_required(finance, batch):
    with pytest.raises(ServiceError) as exc:
        services.batch_void(actor=finance.bureau_finance, batch=batch, reason="  ")
    assert exc.value.code == "validation_error"
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    services.batch_confirm(actor=finance.bureau_cashier, batch=batch)
    with pytest.raises(Conflict) as exc:
        services.batch_void(actor=finance.bureau_finance, batch=batch, reason="x")
    assert exc.value.code == "confirmed"
    assert DisbursementBatch.objects.get(pk=batch.pk).status == BatchStatus.CONFIRMED


def test_only_finance_managers_may_void(finance, batch):
    with pytest.raises(PermissionDenied):
        services.batch_void(actor=finance.bureau_cashier, batch=batch, reason="x")
    assert DisbursementBatch.objects.get(pk=batch.pk).status == BatchStatus.DRAFT


def test_the_batch_page_voids_with_a_confirmation_and_a_reason(client, finance, batch):
    url = reverse("funds:batch-detail", args=[batch.pk])
    void_url = reverse("funds:batch-void", args=[batch.pk])
    client.force_login(finance.bureau_cashier)
    assert void_url not in client.get(url).content.decode()
    assert client.post(void_url, {"reason": "x"}).status_code == 404

    client.force_login(finance.bureau_finance)
    html = client.get(url).content.decode()
    form = html.split('id="batch-void"')[1].split("</form>")[0]
    assert void_url in form
    assert "data-confirm=" in form
    assert 'name="reason"' in form
    response = client.post(void_url, {"reason": ""}, follow=True)
    assert "请填写原因" in response.content.decode()
    assert DisbursementBatch.objects.get(pk=batch.pk).status == BatchStatus.DRAFT

    response = client.post(void_url, {"reason": "无人可以确认"}, follow=True)
    html = response.content.decode()
    assert "已作废本批次" in html
    assert "无人可以确认" in html.split('id="batch-voided"')[1].split("</dd>")[0]
    assert void_url not in html
    assert reverse("funds:batch-export", args=[batch.pk, "csv"]) not in html
    for d in Disbursement.objects.all():  # the grants it gave back are still listed
        assert f"<td>#{d.pk}</td>" in html
    assert DisbursementBatch.objects.get(pk=batch.pk).status == BatchStatus.VOIDED
