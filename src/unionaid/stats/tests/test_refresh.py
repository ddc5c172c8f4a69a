"""The incremental refresh: a new payment and a new decision show after one refresh, the cells
then equal a full rebuild's (people included), and a second refresh changes nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from unionaid.accounts.models import Assignment, User
from unionaid.approvals.models import ApprovalTask, TaskStatus
from unionaid.approvals.services import task_decide
from unionaid.assistance.models import Application, ApplicationStatus
from unionaid.funds import services as fund_services
from unionaid.funds.models import Disbursement, DisbursementStatus
from unionaid.org.models import OrgUnit
from unionaid.stats.jobs import refresh_job
from unionaid.stats.models import StatCell, StatRecord
from unionaid.stats.selectors import statistic
from unionaid.stats.store import rebuild, refresh

pytestmark = pytest.mark.django_db


def _cells() -> set[tuple]:
    return set(StatCell.objects.values_list("fact", "grain", "depth", "dim", "unit_path",
                                            "period", "value", "n1", "n2", "n3", "a1", "a2",
                                            "people"))


def _records() -> set[tuple]:
    return set(StatRecord.objects.values_list("fact", "source_id", "part", "org_path", "month",
                                              "d1", "d2", "d3", "n1", "n2", "n3", "a1", "a2"))


def _pay_one() -> Disbursement:
    disbursement = (Disbursement.objects.filter(status=DisbursementStatus.RESERVED)
                    .exclude(member__bank_account="").select_related("budget").first())
    finance, cashier = User.objects.get(username="finance"), User.objects.get(username="cashier")
    batch = fund_services.batch_create(
        actor=finance, org_unit=OrgUnit.objects.get_root_nodes().get(),
        funding_source=disbursement.budget.funding_source, disbursement_ids=[disbursement.pk])
    fund_services.batch_export(actor=finance, batch=batch, fmt="xlsx")
    fund_services.batch_confirm(actor=cashier, batch=batch)
    disbursement.refresh_from_db()
    assert disbursement.status == DisbursementStatus.PAID
    return disbursement


def _approve_to_the_end() -> Application:
    """Approve one application in review, step by step, by each step's post holder."""
    application = Application.objects.filter(status=ApplicationStatus.IN_REVIEW).first()
    while (task := ApprovalTask.objects.filter(case_id=application.case_id,
                                               status=TaskStatus.PENDING).first()) is not None:
        decider = task.assigned_user or Assignment.objects.current().filter(
            position_id=task.assigned_position_id).first().user
        task_decide(actor=decider, task=task, decision="approve", comment="同意")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    return application


def test_a_new_payment_and_a_decision_show_after_one_refresh(readers):
    def figures():
        payments = statistic(actor=readers.bureau, fact="payments", dims=[],
                             measures=["payments", "amount_paid"]).totals
        apps = statistic(actor=readers.bureau, fact="applications", dims=["org"],
                         measures=["amount_approved", "amount_paid"])
        return payments, apps.totals

    payments_before, apps_before = figures()
    paid = _pay_one()
    approved = _approve_to_the_end()
    assert figures() == (payments_before, apps_before)  # not counted yet
    counts = refresh(now=timezone.now())
    assert counts["payments"] >= 1
    assert counts["applications"] >= 2
    payments_after, apps_after = figures()
    assert payments_after["payments"] == payments_before["payments"] + 1
    assert payments_after["amount_paid"] == payments_before["amount_paid"] + paid.amount
    assert apps_after["amount_paid"] == apps_before["amount_paid"] + paid.amount
    assert apps_after["amount_approved"] == apps_before["amount_approved"] + approved.amount
    # what the refresh kept equals a full rebuild, people included; again changes nothing
    cells, records = _cells(), _records()
    assert refresh(now=timezone.now()) == dict.fromkeys(counts, 0)
    assert _cells() == cells
    rebuild()
    assert _cells() == cells
    assert _records() == records


def test_the_job_counts_a_reversal_and_a_member_change(readers):
    disbursement = Disbursement.objects.filter(status=DisbursementStatus.PAID).first()
    before = statistic(actor=readers.bureau, fact="payments", dims=["sex"],
                       measures=["payments", "people"])
    fund_services.disbursement_reverse(actor=User.objects.get(username="finance"),
                                       disbursement=disbursement, reason="银行退回")
    member = disbursement.member
    assert refresh_job(now=timezone.now()).startswith("统计已更新")
    after = statistic(actor=readers.bureau, fact="payments", dims=["sex"],
                      measures=["payments", "people"])
    assert after.totals["payments"] == before.totals["payments"] - 1
    # the member's sex changes: their records move to the other row at the next refresh
    member.sex = "F" if member.sex == "M" else "M"
    member.save(update_fields=["sex", "updated_at"])
    refresh(now=timezone.now())
    cells = _cells()
    rebuild()
    assert _cells() == cells
