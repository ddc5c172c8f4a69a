"""Cases and decisions: skips, strict order, no self-approval, outcomes, audit, batches."""

from __future__ import annotations

import pytest

from conftest import PASSWORD
from unionaid.accounts import services as account_services
from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalTask, CaseStatus, TaskStatus
from unionaid.approvals.tests.conftest import KIND, STANDARD_STEPS
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.members import services as member_services

pytestmark = pytest.mark.django_db


def pending(case):
    return case.tasks.get(status=TaskStatus.PENDING)


def test_a_step_whose_condition_holds_is_recorded_as_skipped_with_the_reason(chain):
    case = chain.start({"amount": 1500})
    task = pending(case)
    assert task.order == 1
    assert task.assigned_position == chain.station_post
    approvals.task_decide(actor=chain.station_officer, task=task, decision="approve")
    skipped = case.tasks.get(order=2)
    assert skipped.status == TaskStatus.SKIPPED
    assert skipped.skip_kind == "condition"
    assert skipped.comment == "满足跳过条件：金额不超过 2000 元"  # in words, not code
    assert pending(case).order == 3
    event = AuditEvent.objects.get(action="approval.step_skip")
    assert event.changes["order"] == 2
    assert event.changes["reason"] == "满足跳过条件：金额不超过 2000 元"
    assert event.changes["condition"] == "amount <= 2000"  # the journal keeps the rule too


def test_a_step_runs_when_its_condition_does_not_hold(chain):
    case = chain.start({"amount": 2500})
    approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="approve")
    task = pending(case)
    assert task.order == 2
    assert task.assigned_position == chain.bureau_post


def test_a_case_whose_steps_all_skip_is_approved_at_once(chain):
    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="SMALL",
                        org_unit=chain.union.bureau, name="小额免审",
                        steps=[{**STANDARD_STEPS[1]}])
    case = chain.start({"amount": 100}, key="SMALL")
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    assert case.finished_at is not None
    assert chain.subject.names() == ["approved"]
    assert not case.tasks.filter(status=TaskStatus.PENDING).exists()


def test_the_full_chain_approves_in_order_and_records_who_decided_as_which_post(chain):
    case = chain.start({"amount": 5000})
    for actor in (chain.station_officer, chain.bureau_officer, chain.chairman):
        approvals.task_decide(actor=actor, task=pending(case), decision="approve", comment="同意")
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    decided = list(case.tasks.order_by("order").values_list("decided_by__username", "decided_as"))
    assert decided == [("station_officer", "甲车务段·帮扶干事"),
                       ("bureau_officer", "测试铁路局工会·帮扶干事"),
                       ("chairman", "测试铁路局工会·主席")]
    assert chain.subject.names() == ["started", "started", "started", "approved"]
    assert AuditEvent.objects.filter(action="approval.task_decide").count() == 3
    assert AuditEvent.objects.filter(action="approval.case_approved",
                                     target_id=str(case.pk)).exists()


def test_only_the_current_step_can_be_decided(chain):
    case = chain.start({"amount": 5000})
    first = pending(case)
    # a later step's task (forced into the table) is not the current one
    later = ApprovalTask.objects.create(case=case, step=case.flow_version.steps.get(order=3),
                                        order=3, assigned_position=chain.chairman_post)
    with pytest.raises(Conflict) as exc:
        approvals.task_decide(actor=chain.chairman, task=later, decision="approve")
    assert exc.value.code == "not_current"
    later.delete()
    approvals.task_decide(actor=chain.station_officer, task=first, decision="approve")
    with pytest.raises(Conflict):  # already decided
        approvals.task_decide(actor=chain.station_officer, task=first, decision="approve")
    assert AuditEvent.objects.filter(action="approval.task_decide").count() == 1


def test_someone_not_holding_the_post_cannot_decide(chain):
    case = chain.start()
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=chain.station_b_officer, task=pending(case), decision="approve")
    assert exc.value.code == "not_assignee"
    assert pending(case).order == 1


def test_nobody_decides_a_case_they_filed(chain):
    case = chain.start(actor=chain.station_officer)
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="approve")
    assert exc.value.code == "self_approval"
    assert "本人" in exc.value.message
    assert pending(case).status == TaskStatus.PENDING


def test_nobody_decides_their_own_case(chain):
    chain.station_officer.member = chain.applicant
    chain.station_officer.save(update_fields=["member"])
    case = chain.start()
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="approve")
    assert exc.value.code == "self_approval"


@pytest.mark.parametrize("direction", ["applicant_lists_approver", "approver_lists_applicant"])
def test_nobody_decides_a_household_members_case(chain, make_member, registrar, people, direction):
    approver_member = make_member(chain.union.station_a)
    chain.station_officer.member = approver_member
    chain.station_officer.save(update_fields=["member"])
    owner, relative = ((chain.applicant, approver_member) if direction == "applicant_lists_approver"
                       else (approver_member, chain.applicant))
    member_services.household_member_add(
        actor=registrar, member=owner, name=relative.name, relation="spouse",
        id_number=relative.id_number,
    )
    case = chain.start()
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="reject",
                              comment="不符合")
    assert exc.value.code == "self_approval"
    assert case.tasks.get().status == TaskStatus.PENDING


def test_an_unrelated_household_does_not_block_the_approver(chain, make_member, registrar, people):
    approver_member = make_member(chain.union.station_a)
    chain.station_officer.member = approver_member
    chain.station_officer.save(update_fields=["member"])
    member_services.household_member_add(actor=registrar, member=chain.applicant, name="张三",
                                         relation="parent", id_number=people.person()["id_number"])
    case = chain.start()
    approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="approve")
    assert pending(case).order == 2


@pytest.mark.parametrize("decision", ["reject", "return"])
def test_reject_and_return_need_a_comment(chain, decision):
    case = chain.start()
    with pytest.raises(ServiceError) as exc:
        approvals.task_decide(actor=chain.station_officer, task=pending(case), decision=decision,
                              comment="  ")
    assert exc.value.code == "comment_required"
    assert "必须填写意见" in exc.value.message
    assert pending(case).order == 1
    assert not AuditEvent.objects.filter(action="approval.task_decide").exists()


@pytest.mark.parametrize(("decision", "case_status", "hook"), [
    ("reject", CaseStatus.REJECTED, "rejected"), ("return", CaseStatus.RETURNED, "returned")])
def test_reject_and_return_end_the_case_and_tell_the_subject(chain, decision, case_status, hook):
    case = chain.start()
    task = approvals.task_decide(actor=chain.station_officer, task=pending(case),
                                 decision=decision, comment="材料不全")
    case.refresh_from_db()
    assert case.status == case_status
    assert case.finished_at is not None
    assert task.comment == "材料不全"
    assert task.status == case_status.value
    assert chain.subject.names()[-1] == hook
    event = AuditEvent.objects.get(action="approval.task_decide")
    assert event.changes["decision"] == decision
    assert event.changes["comment"] == "材料不全"
    assert event.actor == chain.station_officer


def test_a_decision_and_its_audit_event_roll_back_together(chain):
    case = chain.start({"amount": 100})
    approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="approve")
    chain.subject.fail_on = "approved"
    events_before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        approvals.task_decide(actor=chain.chairman, task=pending(case), decision="approve")
    task = pending(case)
    assert task.order == 3
    assert task.decided_by is None
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert AuditEvent.objects.count() == events_before


def test_batch_approval_works_only_where_the_flow_allows_it(chain):
    approvals.flow_save(
        actor=None, subject_kind=KIND, subject_key="BATCH", org_unit=chain.union.bureau,
        name="可批量", steps=[{**STANDARD_STEPS[0], "allow_batch": True}, STANDARD_STEPS[2]],
    )
    a, b = chain.start(key="BATCH"), chain.start(key="BATCH")
    done = approvals.tasks_decide_batch(actor=chain.station_officer,
                                        task_ids=[pending(a).pk, pending(b).pk], decision="approve")
    assert {t.status for t in done} == {TaskStatus.APPROVED}
    assert pending(a).order == 2
    assert pending(b).order == 2
    # the chairman's step does not allow batches: nothing is decided
    with pytest.raises(PermissionDenied) as exc:
        approvals.tasks_decide_batch(actor=chain.chairman, task_ids=[pending(a).pk, pending(b).pk],
                                     decision="approve")
    assert exc.value.code == "batch_not_allowed"
    assert "主席审批" in exc.value.message
    assert pending(a).status == TaskStatus.PENDING
    assert pending(b).status == TaskStatus.PENDING


def test_a_batch_is_all_or_nothing(chain):
    approvals.flow_save(
        actor=None, subject_kind=KIND, subject_key="BATCH", org_unit=chain.union.bureau,
        name="可批量", steps=[{**STANDARD_STEPS[0], "allow_batch": True}],
    )
    mine = chain.start(key="BATCH", actor=chain.station_officer)  # filed by the approver
    other = chain.start(key="BATCH")
    # The task the approver filed is not in their to-do list: the whole batch is "not found".
    with pytest.raises(NotFound):
        approvals.tasks_decide_batch(actor=chain.station_officer,
                                     task_ids=[other.tasks.get().pk, mine.tasks.get().pk],
                                     decision="approve")
    assert other.tasks.get().status == TaskStatus.PENDING


def test_withdrawing_cancels_the_pending_task(chain):
    case = chain.start()
    approvals.case_withdraw(actor=chain.filer, case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert case.tasks.get().status == TaskStatus.CANCELLED
    assert AuditEvent.objects.filter(action="approval.case_withdraw").exists()
    with pytest.raises(Conflict):
        approvals.case_withdraw(actor=chain.filer, case=case)


def test_a_subject_cannot_have_two_open_cases(chain):
    case = chain.start()
    with pytest.raises(Conflict) as exc:
        approvals.case_start(actor=chain.filer, subject_kind=KIND, subject_id=case.subject_id,
                             subject_key="", org_unit=chain.union.team_a,
                             applicant=chain.applicant, facts={"amount": 1})
    assert exc.value.code == "case_open"


def test_a_missing_post_is_refused_with_a_clear_message(chain):
    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="W",
                        org_unit=chain.union.bureau, name="车间审核",
                        steps=[{"name": "车间审核", "position_name": "车间主任", "unit_depth": 3}])
    with pytest.raises(ServiceError) as exc:
        chain.start(key="W")
    assert exc.value.code == "no_assignee"
    assert "甲车间" in exc.value.message
    # a 站段-level applicant has no 车间: the step does not apply and is recorded as skipped
    case = chain.start(key="W", unit=chain.union.station_a)
    assert case.tasks.get().skip_kind == "level"


def test_a_named_person_step_goes_to_that_person_only(chain):
    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="NAMED",
                        org_unit=chain.union.bureau, name="到人",
                        steps=[{"name": "主席亲批", "assignee_kind": "user",
                                "user": chain.chairman}])
    other_holder = account_services.user_create(actor=None, username="vice", password=PASSWORD)
    account_services.assignment_grant(actor=None, user=other_holder, position=chain.chairman_post)
    case = chain.start(key="NAMED")
    task = pending(case)
    assert task.assigned_user == chain.chairman
    assert task.assigned_position is None
    with pytest.raises(PermissionDenied):
        approvals.task_decide(actor=other_holder, task=task, decision="approve")
    approvals.task_decide(actor=chain.chairman, task=task, decision="approve")
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED


def test_a_public_notice_step_cannot_pass_before_the_notice_ends(chain):
    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="NOTICE",
                        org_unit=chain.union.bureau, name="公示",
                        steps=[{"name": "公示", "position_name": "帮扶干事", "unit_depth": 2,
                                "is_public_notice": True, "notice_working_days": 5}])
    case = chain.start(key="NOTICE")
    task = pending(case)
    assert task.due_at is not None
    assert (task.due_at - task.created_at).days >= 5
    with pytest.raises(Conflict) as exc:
        approvals.task_decide(actor=chain.station_officer, task=task, decision="approve")
    assert exc.value.code == "notice_period"
    ApprovalTask.objects.filter(pk=task.pk).update(due_at=task.created_at)
    approvals.task_decide(actor=chain.station_officer, task=task, decision="approve")
    assert ApprovalTask.objects.get(pk=task.pk).status == TaskStatus.APPROVED
