"""The whole chain through the real engine and funds: submit → approve → money reserved →
paid; reject; return → resubmit on the current flow version; budget exhausted; withdraw."""

from __future__ import annotations

from decimal import Decimal

import pytest

from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalCase, CaseStatus, TaskStatus
from unionaid.approvals.selectors import case_timeline, todo_for_user
from unionaid.assistance import services
from unionaid.assistance.models import Application, ApplicationStatus
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, PermissionDenied
from unionaid.funds import services as funds
from unionaid.funds.models import Disbursement, DisbursementStatus
from unionaid.notifications.models import Notification

from .helpers import PDF_BYTES, upload


def file_and_submit(actor, member, item, self_paid, **submit_kw):
    application = services.application_create_draft(actor=actor, member=member, item=item,
                                                     facts={"self_paid": self_paid})
    services.attachment_add(actor=actor, application=application, material="诊断证明",
                            uploaded_file=upload("a.pdf", PDF_BYTES))
    return services.application_submit(actor=actor, application=application, **submit_kw)


def pending(application):
    return application.case.tasks.get(status=TaskStatus.PENDING)


def titles(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk")
                .values_list("title", flat=True))


def test_final_approval_reserves_the_money_and_tells_the_worker(
        worker, staff, illness, flow, budget):
    application = file_and_submit(worker, worker.member, illness, "12000")
    assert application.status == ApplicationStatus.IN_REVIEW
    assert application.amount == Decimal("5000.00")
    assert application.case.subject_id == application.pk
    assert application.case.facts["amount"] == 5000
    assert application.case.facts["membership_active"] is True
    first = pending(application)
    assert first in todo_for_user(user=staff.apply_cadre)
    assert "新的待办：大病医疗救助 · " in titles(staff.apply_cadre)[0]

    approvals.task_decide(actor=staff.apply_cadre, task=first, decision="approve")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_REVIEW  # 5,000 > 2,000: the chairman too
    approvals.task_decide(actor=staff.chairman, task=pending(application), decision="approve",
                          comment="同意")

    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.decided_at is not None
    disbursement = Disbursement.objects.get(subject_kind="assistance.application",
                                            subject_id=application.pk)
    assert disbursement.amount == Decimal("5000.00")
    assert disbursement.status == DisbursementStatus.RESERVED
    budget.refresh_from_db()
    assert budget.available == Decimal("95000.00")
    assert budget.reserved == Decimal("5000.00")
    assert titles(worker) == ["帮扶申请已提交", "帮扶申请已核准"]
    approve = AuditEvent.objects.get(action="application.approve",
                                     target_id=str(application.pk))
    assert approve.changes["disbursement"] == disbursement.pk
    steps = [row["status"] for row in case_timeline(case=application.case)]
    assert steps == [TaskStatus.APPROVED, TaskStatus.APPROVED]


def test_a_small_amount_skips_the_chairman(worker, staff, illness, flow, budget):
    application = file_and_submit(worker, worker.member, illness, "5000")  # → 1,500
    approvals.task_decide(actor=staff.apply_cadre, task=pending(application), decision="approve")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    skipped = application.case.tasks.get(order=2)
    assert skipped.status == TaskStatus.SKIPPED


def test_when_every_step_skips_the_application_is_approved_at_submit(
        worker, union, illness, budget):
    approvals.flow_save(actor=None, subject_kind="assistance.application",
                        subject_key=illness.code, org_unit=union.bureau, name="小额直批",
                        steps=[{"name": "站段审核", "position_name": "帮扶干事",
                                "unit_depth": 2, "skip_condition": "amount <= 2000"}])
    application = file_and_submit(worker, worker.member, illness, "4000")  # → 1,000
    assert application.status == ApplicationStatus.APPROVED
    assert application.case.status == CaseStatus.APPROVED
    assert Disbursement.objects.filter(subject_id=application.pk).exists()


def test_a_rejection_ends_it_with_the_comment_and_a_new_application_may_follow(
        worker, staff, illness, flow, budget):
    application = file_and_submit(worker, worker.member, illness, "12000")
    approvals.task_decide(actor=staff.apply_cadre, task=pending(application), decision="reject",
                          comment="票据不是本人")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert not Disbursement.objects.exists()
    note = Notification.objects.filter(recipient=worker).latest("pk")
    assert note.title == "帮扶申请未通过"
    assert "票据不是本人" in note.body
    again = file_and_submit(worker, worker.member, illness, "12000")
    assert again.status == ApplicationStatus.IN_REVIEW


def test_return_for_material_then_resubmit_runs_on_the_current_flow_version(
        worker, staff, union, illness, flow, budget):
    application = file_and_submit(worker, worker.member, illness, "12000")
    old_case = application.case
    approvals.task_decide(actor=staff.apply_cadre, task=pending(application), decision="return",
                          comment="请补充医保结算单")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.RETURNED
    assert "请补充医保结算单" in Notification.objects.filter(recipient=worker).latest("pk").body

    new_version = approvals.flow_save(
        actor=None, subject_kind="assistance.application", subject_key="",
        org_unit=union.bureau, name="帮扶审批", steps=[
            {"name": "站段审核（新）", "position_name": "帮扶干事", "unit_depth": 2}])
    services.attachment_add(actor=worker, application=application, material="其他材料",
                            uploaded_file=upload("医保结算单.pdf", PDF_BYTES))
    application = services.application_resubmit(actor=worker, application=application,
                                                facts={"self_paid": "14000"})
    assert application.status == ApplicationStatus.IN_REVIEW
    assert application.amount == Decimal("6000.00")
    assert application.case_id != old_case.pk
    assert application.case.flow_version == new_version
    old_case.refresh_from_db()
    assert old_case.status == CaseStatus.RETURNED
    assert ApprovalCase.objects.filter(subject_id=application.pk).count() == 2
    approvals.task_decide(actor=staff.apply_cadre, task=pending(application), decision="approve")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED


def test_an_exhausted_budget_undoes_the_final_decision(worker, staff, union, illness, flow,
                                                      source):
    from django.utils import timezone

    funds.budget_allocate(actor=staff.finance, org_unit=union.bureau, funding_source=source,
                          year=timezone.localdate().year, amount=Decimal("1000"))
    application = file_and_submit(worker, worker.member, illness, "5000")  # → 1,500
    task = pending(application)
    with pytest.raises(Conflict) as exc:
        approvals.task_decide(actor=staff.apply_cadre, task=task, decision="approve")
    assert exc.value.code == "budget_insufficient"
    application.refresh_from_db()
    task.refresh_from_db()
    assert application.status == ApplicationStatus.IN_REVIEW
    assert task.status == TaskStatus.PENDING


def test_confirming_the_payment_batch_marks_the_application_paid(
        worker, staff, union, source, illness, flow, budget):
    application = file_and_submit(worker, worker.member, illness, "5000")
    approvals.task_decide(actor=staff.apply_cadre, task=pending(application), decision="approve")
    batch = funds.batch_create(actor=staff.finance, org_unit=union.bureau, funding_source=source)
    funds.batch_export(actor=staff.finance, batch=batch, fmt="csv")
    funds.batch_confirm(actor=staff.cashier, batch=batch)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PAID
    assert titles(worker)[-1] == "帮扶资金已发放"
    assert AuditEvent.objects.filter(action="application.paid",
                                     target_id=str(application.pk)).count() == 1


def test_withdrawing_in_review_cancels_the_pending_task(worker, staff, illness, flow, budget):
    application = file_and_submit(worker, worker.member, illness, "12000")
    task = pending(application)
    services.application_withdraw(actor=worker, application=application)
    application.refresh_from_db()
    task.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert task.status == TaskStatus.CANCELLED
    assert application.case.status == CaseStatus.WITHDRAWN
    assert not todo_for_user(user=staff.apply_cadre).exists()


def test_a_cadre_who_filed_on_behalf_cannot_approve_it(worker, staff, illness, flow, budget):
    application = file_and_submit(staff.apply_cadre, worker.member, illness, "12000")
    assert application.on_behalf is True
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=staff.apply_cadre, task=pending(application),
                              decision="approve")
    assert exc.value.code == "self_approval"
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.IN_REVIEW


def test_a_fast_tracked_application_records_the_reason(worker, staff, illness, flow, budget):
    application = file_and_submit(staff.apply_cadre, worker.member, illness, "12000",
                                  fast_track=True, fast_track_reason="突发重病急需救助")
    assert application.fast_track is True
    assert application.case.fast_track_reason == "突发重病急需救助"
