"""Closing a reversed payment without re-payment (终止发放) cancels the grant: the application
is 已取消发放, no longer counts against the caps or blocks a new application for its period,
and the worker is told why; the money stays where the reversal put it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from unionaid.assistance import caps, services
from unionaid.assistance.facts import member_values
from unionaid.assistance.models import ApplicationStatus
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict
from unionaid.funds import services as funds
from unionaid.funds.models import Disbursement, DisbursementStatus, LedgerEntry
from unionaid.notifications.models import Notification

from .helpers import this_year
from .test_caps import HOSPITAL
from .test_payment_reversal import approve, current, file, pay, titles


@pytest.fixture
def paid(worker, staff, union, source, illness, flow, budget):
    application = approve(staff, file(worker, worker.member, illness, {"self_paid": "5000"}))
    pay(staff, union, source)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PAID
    return application


@pytest.fixture
def reversed_app(paid, staff):
    funds.disbursement_reverse(actor=staff.finance, disbursement=current(paid),
                               reason="银行退票：账号已注销")
    paid.refresh_from_db()
    assert paid.status == ApplicationStatus.PAYMENT_REVERSED
    return paid


def test_closing_a_reversed_payment_cancels_the_grant(worker, staff, budget, reversed_app):
    disbursement = current(reversed_app)
    entries = LedgerEntry.objects.count()
    budget.refresh_from_db()
    balances = (budget.available, budget.reserved, budget.paid)
    assert balances == (Decimal("100000.00"), Decimal(0), Decimal(0))
    funds.disbursement_close(actor=staff.finance, disbursement=disbursement,
                             reason="职工本人放弃")
    reversed_app.refresh_from_db()
    assert reversed_app.status == ApplicationStatus.CANCELLED
    assert reversed_app.get_status_display() == "已取消发放"
    row = Disbursement.objects.get(pk=disbursement.pk)
    assert (row.status, row.close_reason) == (DisbursementStatus.REVERSED, "职工本人放弃")
    assert row.closed_at is not None
    assert LedgerEntry.objects.count() == entries  # no money moves
    budget.refresh_from_db()
    assert (budget.available, budget.reserved, budget.paid) == balances
    event = AuditEvent.objects.get(action="application.cancel")
    assert (event.target_id, event.actor_id) == (str(reversed_app.pk), staff.finance.pk)
    assert event.changes == {"disbursement": disbursement.pk, "amount": "1500.00",
                             "reason_length": len("职工本人放弃")}
    close = AuditEvent.objects.get(action="funds.close")
    assert (close.target_id, close.changes["reason"], close.changes["amount"]) == (
        str(disbursement.pk), "职工本人放弃", "1500.00")
    assert titles(worker)[-1] == "帮扶资金已取消发放"
    notice = Notification.objects.filter(recipient=worker).order_by("-pk").first()
    assert "1,500.00 元已取消发放" in notice.body
    assert "原因：职工本人放弃" in notice.body
    assert funds.ledger_recompute() == []


def test_a_closed_payment_frees_the_cap_and_the_period(worker, staff, union, source,
                                                      make_item, flow, budget):
    hospital = make_item(**HOSPITAL)  # 100 a day up to 3,000; 4,000 per person a year
    first = approve(staff, file(worker, worker.member, hospital, {"days": 30}, "第一次住院"))
    pay(staff, union, source)
    funds.disbursement_reverse(actor=staff.finance, disbursement=current(first),
                               reason="银行退票")
    year = this_year()
    assert caps.committed(member_ids={worker.member.pk}, year=year) == Decimal("3000.00")
    with pytest.raises(Conflict):  # still holds its period while it may be paid again
        services.application_create_draft(actor=worker, member=worker.member, item=hospital,
                                          facts={"days": 30}, period="第一次住院")
    funds.disbursement_close(actor=staff.finance, disbursement=current(first),
                             reason="核定有误")
    first.refresh_from_db()
    assert first.status == ApplicationStatus.CANCELLED
    assert caps.committed(member_ids={worker.member.pk}, year=year) == Decimal(0)
    assert member_values(worker.member, item=hospital, year=year)["grants_this_year"] == 0
    again = services.application_create_draft(actor=worker, member=worker.member,
                                              item=hospital, facts={"days": 30},
                                              period="第一次住院")
    assert again.status == ApplicationStatus.DRAFT
    assert again.pk != first.pk
    second = file(worker, worker.member, hospital, {"days": 20}, "第二次住院")
    assert second.amount == Decimal("2000.00")  # not 1,000: the closed 3,000 counts no more


def test_closing_twice_cancels_and_tells_the_worker_once(worker, staff, reversed_app):
    disbursement = current(reversed_app)
    funds.disbursement_close(actor=staff.finance, disbursement=disbursement, reason="职工调离")
    notices = Notification.objects.filter(recipient=worker).count()
    funds.disbursement_close(actor=staff.finance, disbursement=disbursement, reason="再点一次")
    assert AuditEvent.objects.filter(action="funds.close").count() == 1
    assert AuditEvent.objects.filter(action="application.cancel").count() == 1
    assert Notification.objects.filter(recipient=worker).count() == notices
    assert Disbursement.objects.get(pk=disbursement.pk).close_reason == "职工调离"


def test_a_closed_payment_cannot_be_paid_again(staff, budget, reversed_app):
    disbursement = current(reversed_app)
    funds.disbursement_close(actor=staff.finance, disbursement=disbursement, reason="职工放弃")
    with pytest.raises(Conflict) as exc:
        funds.disbursement_repay(actor=staff.finance, disbursement=disbursement,
                                 reason="重新发放")
    assert exc.value.code == "closed"
    reversed_app.refresh_from_db()
    assert reversed_app.status == ApplicationStatus.CANCELLED
    assert not Disbursement.objects.filter(repays=disbursement).exists()
    assert not AuditEvent.objects.filter(action="application.payment_repaid").exists()


def test_a_payment_paid_again_cannot_be_closed(staff, reversed_app):
    first = current(reversed_app)
    again = funds.disbursement_repay(actor=staff.finance, disbursement=first, reason="更正")
    with pytest.raises(Conflict) as exc:
        funds.disbursement_close(actor=staff.finance, disbursement=first, reason="职工放弃")
    assert exc.value.code == "already_repaid"
    reversed_app.refresh_from_db()
    assert reversed_app.status == ApplicationStatus.APPROVED
    assert Disbursement.objects.get(pk=again.pk).status == DisbursementStatus.RESERVED
    assert not AuditEvent.objects.filter(action="application.cancel").exists()


def test_the_finance_office_closes_it_on_the_page_and_the_application_shows_it(
        client, staff, reversed_app):
    disbursement = current(reversed_app)
    url = reverse("funds:disbursement-close", args=[disbursement.pk])
    client.force_login(staff.cashier)  # funds.confirm only
    assert client.post(url, {"reason": "职工放弃"}).status_code == 404
    client.force_login(staff.finance)
    response = client.post(url, {"reason": "职工放弃"}, follow=True)
    assert response.status_code == 200
    assert "已终止发放" in response.content.decode()
    reversed_app.refresh_from_db()
    assert reversed_app.status == ApplicationStatus.CANCELLED
    client.force_login(staff.apply_cadre)
    html = client.get(reverse("assistance:application-detail",
                              args=[reversed_app.pk])).content.decode()
    assert "已取消发放" in html
