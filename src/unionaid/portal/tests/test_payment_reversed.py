"""A payment reversed (冲正) after it was made: the worker's pages say so, and say it again when
the money is paid again (重新发放)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope
from unionaid.approvals import services as approvals
from unionaid.assistance.models import ApplicationStatus
from unionaid.funds import services as funds
from unionaid.funds.models import Disbursement

from .helpers import pending_task, submitted


@pytest.fixture
def cashier(union):
    role = make_role("cashier", ["org.view", "funds.view", "funds.confirm"], DataScope.ALL)
    return make_staff("cashier", union.bureau, [role])


def _pay(approvers, cashier, union, source):
    batch = funds.batch_create(actor=approvers.finance, org_unit=union.bureau,
                               funding_source=source)
    funds.batch_export(actor=approvers.finance, batch=batch, fmt="csv")
    funds.batch_confirm(actor=cashier, batch=batch)


def test_the_worker_sees_a_reversed_payment_then_its_repayment(
        client, worker, approvers, cashier, union, source, illness, flow, budget):
    application = submitted(worker, illness, self_paid="5000")  # 1,500: one step
    approvals.task_decide(actor=approvers.station, task=pending_task(application),
                          decision="approve")
    _pay(approvers, cashier, union, source)
    paid = Disbursement.objects.get(subject_id=application.pk)
    funds.disbursement_reverse(actor=approvers.finance, disbursement=paid, reason="银行退票")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PAYMENT_REVERSED

    client.force_login(worker)
    home = client.get(reverse("portal:home")).content.decode()
    assert "发放已冲正" in home
    assert "已发放<" not in home
    detail = client.get(reverse("portal:application-detail", args=[application.pk]))
    html = detail.content.decode()
    assert "发放已冲正" in html
    assert 'id="payment-reversed"' in html
    assert "text-bg-warning" in html
    assert 'style="' not in html

    funds.disbursement_repay(actor=approvers.finance, disbursement=paid, reason="账号已更正")
    html = client.get(reverse("portal:application-detail", args=[application.pk])).content
    assert "已核准待发放" in html.decode()
    assert 'id="payment-reversed"' not in html.decode()
    _pay(approvers, cashier, union, source)
    home = client.get(reverse("portal:home")).content.decode()
    assert "已发放" in home
    assert "发放已冲正" not in home
