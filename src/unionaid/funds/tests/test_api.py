"""/api/v1/funds writes: confirming a batch (maker-checker, 四眼原则) and paying a reversed
disbursement again (重新发放), with the services' rules and error codes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from conftest import make_role, make_staff
from unionaid.accounts import services as account_services
from unionaid.accounts.models import DataScope
from unionaid.audit.models import AuditEvent
from unionaid.core.testing.api import ApiClient
from unionaid.funds import services
from unionaid.funds.models import (
    BatchStatus,
    Disbursement,
    DisbursementBatch,
    DisbursementStatus,
    LedgerEntry,
)

pytestmark = pytest.mark.django_db


def as_token(user) -> ApiClient:
    _token, raw = account_services.api_token_create(actor=user, name="test")
    return ApiClient(Client(), token=raw)


def as_session(user) -> ApiClient:
    client = Client()
    client.force_login(user)
    return ApiClient(client)


@pytest.fixture
def exported(union, make_member, finance, source, bureau_budget, reserve_for):
    """A batch of 100 + 200 made by the finance officer and exported by the cashier."""
    reserve_for(make_member(union.team_a), 1, 100)
    reserve_for(make_member(union.team_b), 2, 200)
    batch = services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                  funding_source=source)
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    return batch


def test_the_maker_cannot_confirm_through_the_api(union, make_member, finance, source,
                                                  bureau_budget, reserve_for):
    role = make_role("fin-both", ["funds.view", "funds.manage", "funds.confirm"], DataScope.ALL)
    maker = make_staff("all_rounder", union.bureau, [role])
    reserve_for(make_member(union.team_a), 1, 100)
    batch = services.batch_create(actor=maker, org_unit=union.bureau, funding_source=source)
    services.batch_export(actor=maker, batch=batch, fmt="csv")
    url = f"/funds/batches/{batch.pk}/confirm"
    response = as_token(maker).post(url, {"checked": True})
    assert response.status_code == 403
    assert response.json() == {"code": "same_person",
                               "message": "制单人不能确认本批次发放，请由另一位财务人员（出纳）确认。"}
    assert DisbursementBatch.objects.get(pk=batch.pk).status == BatchStatus.EXPORTED
    assert not LedgerEntry.objects.filter(kind="pay").exists()
    assert AuditEvent.objects.filter(action="funds.batch_confirm", outcome="denied",
                                     actor=maker).count() == 1


def test_the_cashier_who_exported_confirms_through_the_api(finance, exported):
    url = f"/funds/batches/{exported.pk}/confirm"
    cashier = as_session(finance.bureau_cashier)
    response = cashier.post(url, {"checked": False})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    response = cashier.post(url, {"checked": True})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["total"]) == ("confirmed", "300.00")
    assert (body["created_by"], body["exported_by"], body["confirmed_by"]) == (
        finance.bureau_finance.display_name, finance.bureau_cashier.display_name,
        finance.bureau_cashier.display_name)
    assert cashier.post(url, {"checked": True}).status_code == 200  # idempotent
    assert LedgerEntry.objects.filter(kind="pay").count() == 4
    # a manager without funds.confirm: refused; someone without funds rights: not found
    assert as_token(finance.bureau_finance).post(url, {"checked": True}).status_code == 403
    assert as_token(finance.tracer).post(url, {"checked": True}).status_code == 404


def test_a_reversed_disbursement_is_paid_again_through_the_api(union, make_member, finance,
                                                               exported, bureau_budget,
                                                               reserve_for):
    services.batch_confirm(actor=finance.bureau_checker, batch=exported)
    paid = Disbursement.objects.get(subject_id=1)
    services.disbursement_reverse(actor=finance.bureau_cashier, disbursement=paid,
                                  reason="银行退票")
    url = f"/funds/disbursements/{paid.pk}/repay"
    api = as_token(finance.bureau_finance)

    assert as_token(finance.bureau_cashier).post(url, {"reason": "x"}).status_code == 403
    response = api.post(url, {"reason": ""})
    assert response.status_code == 422
    assert response.json()["fields"] == {"reason": "请填写原因。"}
    other = Disbursement.objects.get(subject_id=2)
    response = api.post(f"/funds/disbursements/{other.pk}/repay", {"reason": "x"})
    assert (response.status_code, response.json()["code"]) == (409, "not_reversed")

    spender = reserve_for(make_member(union.team_b), 3, "9800.00")  # 0 left, 100 needed
    response = api.post(url, {"reason": "账号已更正"})
    assert (response.status_code, response.json()["code"]) == (409, "budget_insufficient")
    assert not Disbursement.objects.filter(repays=paid).exists()
    services.disbursement_release(actor=finance.bureau_finance, disbursement=spender,
                                  reason="重复")

    response = api.post(url, {"reason": "账号已更正"})
    assert response.status_code == 200, response.content
    body = response.json()
    new = Disbursement.objects.get(repays=paid)
    assert body == {"id": new.pk, "repays_id": paid.pk, "status": "reserved",
                    "amount": "100.00", "budget_id": bureau_budget.pk,
                    "subject_kind": "test.subject", "subject_id": 1}
    entries = LedgerEntry.objects.count()
    assert api.post(url, {"reason": "账号已更正"}).json()["id"] == new.pk  # idempotent
    assert LedgerEntry.objects.count() == entries
    assert new.status == DisbursementStatus.RESERVED
    assert services.ledger_recompute() == []
    bureau_budget.refresh_from_db()
    assert bureau_budget.reserved == Decimal("100.00")


def test_the_trace_api_lists_every_disbursement_of_the_subject(union, finance, source,
                                                               exported):
    services.batch_confirm(actor=finance.bureau_checker, batch=exported)
    paid = Disbursement.objects.get(subject_id=1)
    services.disbursement_reverse(actor=finance.bureau_cashier, disbursement=paid,
                                  reason="银行退票")
    new = services.disbursement_repay(actor=finance.bureau_finance, disbursement=paid,
                                      reason="账号已更正")
    body = as_token(finance.tracer).get(f"/funds/disbursements/{paid.pk}/trace").json()
    assert [(h["id"], h["status"], h["repays_id"]) for h in body["history"]] == [
        (paid.pk, "reversed", None), (new.pk, "reserved", paid.pk)]
    assert body["batch"]["exported_by"] == finance.bureau_cashier.display_name
    assert {e["disbursement_id"] for e in body["entries"]} == {paid.pk, new.pk}
    assert "funds.repay" in [e["action"] for e in body["events"]]
    assert {e["outcome"] for e in body["events"]} == {"ok"}
