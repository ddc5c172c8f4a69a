"""Cancelling reserved money before payment (释放预留) cancels the grant: the application is
已取消发放, no longer counts against the caps or blocks a new application for its period, and
the worker is told why. Also for a re-payment that is cancelled."""

from __future__ import annotations

from decimal import Decimal

import pytest

from unionaid.assistance import services
from unionaid.assistance.models import ApplicationStatus
from unionaid.audit.models import AuditEvent
from unionaid.funds import services as funds
from unionaid.funds.models import DisbursementStatus

from .test_payment_reversal import approve, current, file, titles


@pytest.fixture
def approved(worker, staff, illness, flow, budget):
    application = approve(staff, file(worker, worker.member, illness, {"self_paid": "5000"}))
    assert application.status == ApplicationStatus.APPROVED
    return application


def test_cancelling_the_reserved_money_cancels_the_grant(worker, staff, budget, approved):
    disbursement = current(approved)
    funds.disbursement_release(actor=staff.finance, disbursement=disbursement,
                               reason="职工已调离本单位")
    approved.refresh_from_db()
    assert approved.status == ApplicationStatus.CANCELLED
    assert approved.get_status_display() == "已取消发放"
    assert current(approved).status == DisbursementStatus.RELEASED
    budget.refresh_from_db()
    assert (budget.available, budget.reserved) == (Decimal("100000.00"), Decimal(0))
    event = AuditEvent.objects.get(action="application.cancel")
    assert event.target_id == str(approved.pk)
    assert event.changes == {"disbursement": disbursement.pk, "amount": "1500.00",
                             "reason_length": len("职工已调离本单位")}
    assert titles(worker)[-1] == "帮扶资金已取消发放"
    assert funds.ledger_recompute() == []


def test_a_cancelled_grant_frees_its_period_for_a_new_application(
        worker, staff, illness, approved):
    funds.disbursement_release(actor=staff.finance, disbursement=current(approved),
                               reason="重复核定")
    again = services.application_create_draft(actor=worker, member=worker.member, item=illness,
                                              facts={"self_paid": "5000"},
                                              period=approved.period)
    assert again.status == ApplicationStatus.DRAFT
    assert again.pk != approved.pk


def test_a_cancelled_repayment_cancels_the_grant_too(worker, staff, union, source, approved):
    from .test_payment_reversal import pay

    pay(staff, union, source)
    first = current(approved)
    funds.disbursement_reverse(actor=staff.finance, disbursement=first, reason="银行退票")
    again = funds.disbursement_repay(actor=staff.finance, disbursement=first, reason="重新发放")
    funds.disbursement_release(actor=staff.finance, disbursement=again, reason="职工放弃")
    approved.refresh_from_db()
    assert approved.status == ApplicationStatus.CANCELLED
    assert funds.ledger_recompute() == []


def test_releasing_twice_changes_nothing(staff, approved):
    disbursement = current(approved)
    funds.disbursement_release(actor=staff.finance, disbursement=disbursement, reason="取消")
    funds.disbursement_release(actor=staff.finance, disbursement=disbursement, reason="再取消")
    assert AuditEvent.objects.filter(action="application.cancel").count() == 1
