"""Closing a reversed payment without re-payment (终止发放): no money moves, the closure is
recorded and journaled once, the closed hooks run, and the payment can no longer be paid
again; through the service, the pages and the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.funds import services
from unionaid.funds.models import Disbursement, DisbursementStatus, LedgerEntry

from .test_api import as_token
from .test_repay import _balances, _pay

pytestmark = pytest.mark.django_db
KIND = "test.subject"


@pytest.fixture
def reversed_(union, make_member, finance, source, bureau_budget, reserve_for):
    """Subject 1's 400 yuan paid in a confirmed batch, then reversed (the bank returned it)."""
    d = reserve_for(make_member(union.team_a), 1, 400)
    _pay(finance, union, source)
    d.refresh_from_db()
    return services.disbursement_reverse(actor=finance.bureau_cashier, disbursement=d,
                                         reason="银行退票：账号已注销")


@pytest.fixture
def hook_calls(test_subject):
    calls = []
    test_subject.hooks["closed"].append(lambda *, disbursement, actor, reason: calls.append(
        (disbursement.pk, disbursement.closed_at is not None, actor, reason)))
    return calls


def test_it_closes_a_reversed_payment_and_moves_no_money(finance, bureau_budget, reversed_,
                                                         hook_calls):
    entries = LedgerEntry.objects.count()
    before = _balances(bureau_budget)
    assert before == (Decimal("10000.00"), Decimal(0), Decimal(0))  # the reversal gave it back
    closed = services.disbursement_close(actor=finance.bureau_finance, disbursement=reversed_,
                                         reason="职工本人放弃")
    row = Disbursement.objects.get(pk=reversed_.pk)
    assert (row.status, row.close_reason) == (DisbursementStatus.REVERSED, "职工本人放弃")
    assert row.closed_at is not None
    assert row.closed_at == closed.closed_at
    assert row.reversal_reason == "银行退票：账号已注销"  # the reversal's record stays
    assert not row.awaits_repayment
    assert LedgerEntry.objects.count() == entries
    assert _balances(bureau_budget) == before
    assert Disbursement.objects.filter(subject_kind=KIND, subject_id=1).count() == 1
    event = AuditEvent.objects.get(action="funds.close")
    assert (event.actor_id, event.target_id, event.outcome) == (
        finance.bureau_finance.pk, str(row.pk), "ok")
    assert event.changes == {"amount": "400.00", "reason": "职工本人放弃",
                             "budget": bureau_budget.pk, "subject": f"{KIND}#1",
                             "repayment": None}
    assert hook_calls == [(row.pk, True, finance.bureau_finance, "职工本人放弃")]
    assert services.ledger_recompute() == []


def test_closing_twice_returns_the_closed_row_and_journals_once(finance, reversed_,
                                                                hook_calls):
    first = services.disbursement_close(actor=finance.bureau_finance, disbursement=reversed_,
                                        reason="职工已调离")
    again = services.disbursement_close(actor=finance.bureau_finance, disbursement=reversed_,
                                        reason="再点一次")
    assert again.pk == first.pk
    row = Disbursement.objects.get(pk=reversed_.pk)
    assert (row.closed_at, row.close_reason) == (first.closed_at, "职工已调离")
    assert AuditEvent.objects.filter(action="funds.close").count() == 1
    assert len(hook_calls) == 1


def test_repaying_a_closed_payment_is_refused(finance, bureau_budget, reversed_):
    services.disbursement_close(actor=finance.bureau_finance, disbursement=reversed_,
                                reason="核定有误")
    entries = LedgerEntry.objects.count()
    with pytest.raises(Conflict) as exc:
        services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                    reason="账号已更正")
    assert exc.value.code == "closed"
    assert "已终止发放" in exc.value.message
    assert not Disbursement.objects.filter(repays=reversed_).exists()
    assert LedgerEntry.objects.count() == entries
    assert not AuditEvent.objects.filter(action="funds.repay").exists()
    assert _balances(bureau_budget) == (Decimal("10000.00"), Decimal(0), Decimal(0))


def test_only_a_reversed_payment_can_be_closed(union, make_member, finance, source,
                                               bureau_budget, reserve_for, hook_calls):
    paid = reserve_for(make_member(union.team_b), 1, 100)
    _pay(finance, union, source)
    in_batch = reserve_for(make_member(union.team_b), 2, 100)
    services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                          funding_source=source)
    reserved = reserve_for(make_member(union.team_a), 3, 100)
    released = reserve_for(make_member(union.team_a), 4, 100)
    services.disbursement_release(actor=finance.bureau_finance, disbursement=released,
                                  reason="重复核定")
    rows = [Disbursement.objects.get(pk=d.pk) for d in (paid, in_batch, reserved, released)]
    assert [d.status for d in rows] == [
        DisbursementStatus.PAID, DisbursementStatus.IN_BATCH, DisbursementStatus.RESERVED,
        DisbursementStatus.RELEASED]
    entries = LedgerEntry.objects.count()
    for d in rows:
        with pytest.raises(Conflict) as exc:
            services.disbursement_close(actor=finance.bureau_finance, disbursement=d,
                                        reason="x")
        assert exc.value.code == "not_reversed"
    assert [Disbursement.objects.get(pk=d.pk).status for d in rows] == [d.status for d in rows]
    assert not Disbursement.objects.filter(closed_at__isnull=False).exists()
    assert LedgerEntry.objects.count() == entries
    assert not AuditEvent.objects.filter(action="funds.close").exists()
    assert hook_calls == []


def test_a_payment_paid_again_cannot_be_closed(union, finance, source, bureau_budget,
                                               reversed_):
    again = services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                        reason="账号已更正")
    with pytest.raises(Conflict) as exc:  # the re-payment is reserved
        services.disbursement_close(actor=finance.bureau_finance, disbursement=reversed_,
                                    reason="x")
    assert (exc.value.code, f"#{again.pk}" in exc.value.message) == ("already_repaid", True)
    _pay(finance, union, source)
    with pytest.raises(Conflict) as exc:  # and paid
        services.disbursement_close(actor=finance.bureau_finance, disbursement=reversed_,
                                    reason="x")
    assert exc.value.code == "already_repaid"
    # reversed again: it is the re-payment that is closed, not the first row
    again.refresh_from_db()
    services.disbursement_reverse(actor=finance.bureau_cashier, disbursement=again,
                                  reason="再次退票")
    with pytest.raises(Conflict) as exc:
        services.disbursement_close(actor=finance.bureau_finance, disbursement=reversed_,
                                    reason="x")
    assert exc.value.code == "already_repaid"
    assert not Disbursement.objects.filter(closed_at__isnull=False).exists()
    closed = services.disbursement_close(actor=finance.bureau_finance, disbursement=again,
                                         reason="职工放弃")
    assert closed.pk == again.pk
    assert closed.closed_at is not None
    assert services.ledger_recompute() == []


def test_releasing_the_repayment_closes_the_reversal(finance, bureau_budget, reversed_):
    again = services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                        reason="账号已更正")
    services.disbursement_release(actor=finance.bureau_finance, disbursement=again,
                                  reason="职工放弃")
    reversed_.refresh_from_db()
    assert reversed_.closed_at is not None
    assert reversed_.close_reason == "职工放弃"
    assert not reversed_.awaits_repayment  # neither 重新发放 nor 终止发放 is offered
    # closing it again changes nothing; paying it again is refused
    closed = services.disbursement_close(actor=finance.bureau_finance, disbursement=reversed_,
                                         reason="再次终止")
    assert closed.close_reason == "职工放弃"
    assert not AuditEvent.objects.filter(action="funds.close").exists()
    with pytest.raises(Conflict) as exc:
        services.disbursement_repay(actor=finance.bureau_finance, disbursement=reversed_,
                                    reason="核实后发放")
    assert exc.value.code == "closed"
    assert _balances(bureau_budget) == (Decimal("10000.00"), Decimal(0), Decimal(0))
    assert services.ledger_recompute() == []


def test_closing_needs_funds_manage_over_the_unit_and_a_reason(finance, reversed_,
                                                               hook_calls):
    with pytest.raises(PermissionDenied):  # funds.confirm alone is not enough
        services.disbursement_close(actor=finance.bureau_cashier, disbursement=reversed_,
                                    reason="x")
    with pytest.raises(PermissionDenied):  # a station's finance post, the bureau's budget
        services.disbursement_close(actor=finance.station_finance, disbursement=reversed_,
                                    reason="x")
    with pytest.raises(ServiceError) as exc:
        services.disbursement_close(actor=finance.bureau_finance, disbursement=reversed_,
                                    reason="   ")
    assert exc.value.fields == {"reason": "请填写原因。"}
    row = Disbursement.objects.get(pk=reversed_.pk)
    assert (row.closed_at, row.close_reason) == (None, "")
    assert not AuditEvent.objects.filter(action="funds.close").exists()
    assert hook_calls == []


def test_a_refusing_closed_hook_undoes_the_closure(finance, reversed_, test_subject):
    def refuse(*, disbursement, actor, reason):
        raise Conflict("不可", code="stale_application")

    test_subject.hooks["closed"].append(refuse)
    with pytest.raises(Conflict):
        services.disbursement_close(actor=finance.bureau_finance, disbursement=reversed_,
                                    reason="职工放弃")
    assert Disbursement.objects.get(pk=reversed_.pk).closed_at is None
    assert not AuditEvent.objects.filter(action="funds.close").exists()


# -- pages ------------------------------------------------------------------------------------

def test_closing_through_the_pages(client, union, make_member, finance, bureau_budget,
                                   reversed_, reserve_for):
    listing_url = reverse("funds:disbursement-list")
    close_url = reverse("funds:disbursement-close", args=[reversed_.pk])
    repay_url = reverse("funds:disbursement-repay", args=[reversed_.pk])
    client.force_login(finance.bureau_cashier)  # funds.confirm only: no closing
    assert close_url not in client.get(listing_url, {"status": "reversed"}).content.decode()
    assert client.get(close_url).status_code == 404
    assert client.post(close_url, {"reason": "x"}).status_code == 404
    assert Disbursement.objects.get(pk=reversed_.pk).closed_at is None

    client.force_login(finance.bureau_finance)
    listing = client.get(listing_url, {"status": "reversed"}).content.decode()
    assert close_url in listing
    assert repay_url in listing
    page = client.get(close_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "终止发放" in html
    assert "银行退票：账号已注销" in html
    assert "csrfmiddlewaretoken" in html
    assert "<script>" not in html
    assert 'style="' not in html
    response = client.post(close_url, {"reason": ""})
    assert response.status_code == 200
    assert "请填写原因" in response.content.decode()
    assert Disbursement.objects.get(pk=reversed_.pk).closed_at is None

    response = client.post(close_url, {"reason": "职工本人放弃"}, follow=True)
    assert response.redirect_chain[-1][0] == listing_url
    assert "已终止发放，该笔已冲正的款项不再重新发放。" in response.content.decode()
    row = Disbursement.objects.get(pk=reversed_.pk)
    assert (row.status, row.close_reason) == (DisbursementStatus.REVERSED, "职工本人放弃")
    assert row.closed_at is not None
    assert AuditEvent.objects.filter(action="funds.close",
                                     actor=finance.bureau_finance).count() == 1
    listing = client.get(listing_url, {"status": "reversed"}).content.decode()
    assert close_url not in listing
    assert repay_url not in listing
    assert "已终止发放" in listing


def test_the_close_page_shows_a_refusal(client, union, make_member, finance, bureau_budget,
                                        reserve_for):
    reserved = reserve_for(make_member(union.team_a), 1, 100)
    client.force_login(finance.bureau_finance)
    response = client.post(reverse("funds:disbursement-close", args=[reserved.pk]),
                           {"reason": "职工放弃"})
    assert response.status_code == 200
    assert "只有已冲正的发放才能终止发放" in response.content.decode()
    assert Disbursement.objects.get(pk=reserved.pk).closed_at is None
    assert not AuditEvent.objects.filter(action="funds.close").exists()


def test_the_trace_page_offers_closing_and_shows_the_closure(client, finance, reversed_,
                                                             trace_manager):
    manager = trace_manager
    trace_url = reverse("funds:trace-detail", args=[reversed_.pk])
    close_url = reverse("funds:disbursement-close", args=[reversed_.pk])
    client.force_login(finance.tracer)  # an auditor: read-only
    assert close_url not in client.get(trace_url).content.decode()
    client.force_login(manager)
    assert close_url in client.get(trace_url).content.decode()
    closed = services.disbursement_close(actor=manager, disbursement=reversed_,
                                         reason="职工本人放弃")
    client.force_login(finance.tracer)
    html = client.get(trace_url).content.decode()
    assert close_url not in html
    closure = html.split('id="trace-closed"')[1].split("</p>")[0]
    assert "职工本人放弃" in closure
    assert timezone.localtime(closed.closed_at).strftime("%Y-%m-%d %H:%M") in closure
    history = html.split('id="trace-history"')[1].split("</table>")[0]
    assert "职工本人放弃" in history


# -- API --------------------------------------------------------------------------------------

def test_a_reversed_payment_is_closed_through_the_api(union, make_member, finance,
                                                      bureau_budget, reversed_, reserve_for):
    url = f"/funds/disbursements/{reversed_.pk}/close"
    api = as_token(finance.bureau_finance)
    assert as_token(finance.bureau_cashier).post(url, {"reason": "x"}).status_code == 403
    assert as_token(finance.tracer).post(url, {"reason": "x"}).status_code == 404
    response = api.post(url, {"reason": ""})
    assert response.status_code == 422
    assert response.json()["fields"] == {"reason": "请填写原因。"}
    other = reserve_for(make_member(union.team_b), 2, 100)
    response = api.post(f"/funds/disbursements/{other.pk}/close", {"reason": "x"})
    assert (response.status_code, response.json()["code"]) == (409, "not_reversed")
    assert not Disbursement.objects.filter(closed_at__isnull=False).exists()

    entries = LedgerEntry.objects.count()
    response = api.post(url, {"reason": "职工本人放弃"})
    assert response.status_code == 200, response.content
    body = response.json()
    row = Disbursement.objects.get(pk=reversed_.pk)
    assert row.closed_at is not None
    assert {k: v for k, v in body.items() if not k.endswith("_at")} == {
        "id": row.pk, "status": "reversed", "amount": "400.00", "budget_id": bureau_budget.pk,
        "subject_kind": KIND, "subject_id": 1, "close_reason": "职工本人放弃"}
    assert body["closed_at"]
    assert body["reversed_at"]
    assert api.post(url, {"reason": "再点一次"}).json()["close_reason"] == "职工本人放弃"
    assert AuditEvent.objects.filter(action="funds.close").count() == 1
    assert LedgerEntry.objects.count() == entries

    response = api.post(f"/funds/disbursements/{reversed_.pk}/repay", {"reason": "更正"})
    assert (response.status_code, response.json()["code"]) == (409, "closed")

    trace = as_token(finance.tracer).get(f"/funds/disbursements/{reversed_.pk}/trace").json()
    assert trace["disbursement"]["close_reason"] == "职工本人放弃"
    assert trace["disbursement"]["closed_at"] is not None
    assert [(h["id"], h["close_reason"]) for h in trace["history"]] == [
        (row.pk, "职工本人放弃")]
    assert "funds.close" in [e["action"] for e in trace["events"]]
    assert services.ledger_recompute() == []
