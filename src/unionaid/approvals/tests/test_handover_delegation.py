"""Tasks follow the post; a named approver's tasks move when they leave it; delegation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from unionaid.accounts import services as account_services
from unionaid.accounts.models import Assignment
from unionaid.approvals import selectors
from unionaid.approvals import services as approvals
from unionaid.approvals.models import TaskStatus
from unionaid.approvals.tests.conftest import KIND, hold, new_user
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied, ServiceError
from unionaid.notifications.models import Notification

pytestmark = pytest.mark.django_db


def pending(case):
    return case.tasks.get(status=TaskStatus.PENDING)


def todo_ids(user):
    return set(selectors.todo_for_user(user=user).values_list("pk", flat=True))


def test_a_post_task_follows_whoever_holds_the_post_now(chain, security_admin):
    case = chain.start()
    task = pending(case)
    assert task.pk in todo_ids(chain.station_officer)
    successor = new_user("successor")
    assert task.pk not in todo_ids(successor)
    old = Assignment.objects.get(user=chain.station_officer, position=chain.station_post)
    account_services.assignment_end(actor=security_admin, assignment=old)
    hold(successor, chain.station_post)
    assert task.pk in todo_ids(successor)
    assert task.pk not in todo_ids(chain.station_officer)
    with pytest.raises(PermissionDenied):
        approvals.task_decide(actor=chain.station_officer, task=task, decision="approve")
    approvals.task_decide(actor=successor, task=task, decision="approve")
    task.refresh_from_db()
    assert task.decided_by == successor
    assert task.decided_as == "甲车务段·帮扶干事"


@pytest.fixture
def security_admin(personas):
    return personas.security_admin


@pytest.fixture
def named_flow(chain):
    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="NAMED",
                        org_unit=chain.union.bureau, name="到人",
                        steps=[{"name": "主席亲批", "assignee_kind": "user",
                                "user": chain.chairman, "user_position": chain.chairman_post}])


def test_a_named_approvers_open_tasks_move_to_the_posts_new_holder(chain, named_flow,
                                                                   security_admin):
    case = chain.start(key="NAMED")
    task = pending(case)
    assert task.assigned_user == chain.chairman
    new_chairman = new_user("new_chairman")
    hold(new_chairman, chain.chairman_post)
    assert task.pk not in todo_ids(new_chairman)
    old = Assignment.objects.get(user=chain.chairman, position=chain.chairman_post)
    account_services.assignment_end(actor=security_admin, assignment=old)
    task.refresh_from_db()
    assert task.assigned_user == new_chairman
    assert task.assigned_position is None
    event = AuditEvent.objects.get(action="approval.task_handover")
    assert event.changes["from_user"] == chain.chairman.pk
    assert event.changes["to_user"] == new_chairman.pk
    assert event.actor == security_admin
    assert event.target_id == str(case.pk)
    assert task.pk in todo_ids(new_chairman)
    assert task.pk not in todo_ids(chain.chairman)
    assert Notification.objects.filter(recipient=new_chairman, title__contains="转交").exists()
    approvals.task_decide(actor=new_chairman, task=task, decision="approve")
    task.refresh_from_db()
    assert task.decided_as == "测试铁路局工会·主席"


def test_with_nobody_in_the_post_the_task_waits_at_the_post(chain, named_flow, security_admin):
    case = chain.start(key="NAMED")
    task = pending(case)
    old = Assignment.objects.get(user=chain.chairman, position=chain.chairman_post)
    account_services.assignment_end(actor=security_admin, assignment=old)
    task.refresh_from_db()
    assert task.assigned_user is None
    assert task.assigned_position == chain.chairman_post
    later = new_user("later_chairman")
    hold(later, chain.chairman_post)
    assert task.pk in todo_ids(later)


def test_ending_another_post_of_the_named_approver_moves_nothing(chain, named_flow,
                                                                 security_admin):
    extra = account_services.position_create(actor=None, org_unit=chain.union.bureau, name="顾问")
    assignment = hold(chain.chairman, extra)
    case = chain.start(key="NAMED")
    account_services.assignment_end(actor=security_admin, assignment=assignment)
    assert pending(case).assigned_user == chain.chairman
    assert not AuditEvent.objects.filter(action="approval.task_handover").exists()


def test_a_delegate_decides_on_behalf_while_the_delegation_runs(chain, deputy):
    case = chain.start()
    task = pending(case)
    with pytest.raises(PermissionDenied):
        approvals.task_decide(actor=deputy, task=task, decision="approve")
    now = timezone.now()
    approvals.delegation_create(actor=chain.station_officer, to_user=deputy,
                                starts_at=now - dt.timedelta(hours=1),
                                ends_at=now + dt.timedelta(days=3), reason="休假")
    assert task.pk in todo_ids(deputy)
    approvals.task_decide(actor=deputy, task=task, decision="approve", comment="代为审核")
    task.refresh_from_db()
    assert task.decided_by == deputy
    assert task.on_behalf_of == chain.station_officer
    assert task.decided_as == "甲车务段·帮扶干事"
    event = AuditEvent.objects.get(action="approval.task_decide")
    assert event.changes["on_behalf_of"] == chain.station_officer.pk
    assert AuditEvent.objects.filter(action="approval.delegation_create").exists()


def test_a_delegation_for_a_named_step_and_its_end(chain, named_flow):
    deputy = new_user("deputy")
    hold(deputy, chain.bureau_post)  # an approver at the chairman's level, in the same unit
    now = timezone.now()
    delegation = approvals.delegation_create(actor=chain.chairman, to_user=deputy,
                                             starts_at=now, ends_at=now + dt.timedelta(days=1))
    case = chain.start(key="NAMED")
    assert pending(case).pk in todo_ids(deputy)
    approvals.delegation_end(actor=chain.chairman, delegation=delegation)
    assert pending(case).pk not in todo_ids(deputy)
    with pytest.raises(PermissionDenied):
        approvals.task_decide(actor=deputy, task=pending(case), decision="approve")


def test_a_future_delegation_gives_nothing_yet(chain, deputy):
    now = timezone.now()
    approvals.delegation_create(actor=chain.station_officer, to_user=deputy,
                                starts_at=now + dt.timedelta(days=1),
                                ends_at=now + dt.timedelta(days=2))
    case = chain.start()
    with pytest.raises(PermissionDenied):
        approvals.task_decide(actor=deputy, task=pending(case), decision="approve")


def test_a_delegate_cannot_decide_what_the_delegator_filed(chain, deputy):
    now = timezone.now()
    approvals.delegation_create(actor=chain.station_officer, to_user=deputy, starts_at=now,
                                ends_at=now + dt.timedelta(days=1))
    case = chain.start(actor=chain.station_officer)
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=deputy, task=pending(case), decision="approve")
    assert exc.value.code == "self_approval"


@pytest.mark.parametrize("bad", ["self", "worker", "period"])
def test_it_refuses_an_invalid_delegation(chain, worker, bad):
    now = timezone.now()
    to_user = {"self": chain.station_officer, "worker": worker}.get(bad, chain.chairman)
    ends_at = now - dt.timedelta(hours=1) if bad == "period" else now + dt.timedelta(days=1)
    with pytest.raises(ServiceError) as exc:
        approvals.delegation_create(actor=chain.station_officer, to_user=to_user,
                                    starts_at=now - dt.timedelta(days=1), ends_at=ends_at)
    assert exc.value.message
    assert exc.value.code in {"invalid_delegate", "delegate_not_staff",
                                                    "invalid_period"}


def test_a_named_approver_whose_post_lapsed_by_date_can_no_longer_decide(chain, named_flow):
    # The assignment simply reaches its end date: no assignment_end call, no handover hook.
    assignment = Assignment.objects.get(user=chain.chairman, position=chain.chairman_post)
    case = chain.start(key="NAMED")
    task = pending(case)
    assert task.pk in todo_ids(chain.chairman)
    Assignment.objects.filter(pk=assignment.pk).update(
        ends_at=timezone.now() - dt.timedelta(minutes=1))
    assert task.pk not in todo_ids(chain.chairman)
    with pytest.raises(PermissionDenied):
        approvals.task_decide(actor=chain.chairman, task=task, decision="approve")
    # New cases go to the post itself, not to the person who left it.
    new_case = chain.start(key="NAMED")
    new_task = pending(new_case)
    assert new_task.assigned_user is None
    assert new_task.assigned_position == chain.chairman_post


def test_a_disabled_users_delegation_gives_nothing(chain, deputy, security_admin):
    case = chain.start()
    now = timezone.now()
    approvals.delegation_create(actor=chain.station_officer, to_user=deputy,
                                starts_at=now - dt.timedelta(hours=1),
                                ends_at=now + dt.timedelta(days=3), reason="休假")
    task = pending(case)
    assert task.pk in todo_ids(deputy)
    account_services.user_set_active(actor=security_admin, user=chain.station_officer,
                                     active=False)
    assert task.pk not in todo_ids(deputy)
    with pytest.raises(PermissionDenied):
        approvals.task_decide(actor=deputy, task=task, decision="approve")


def _read_only_post(unit, name="审计员"):
    """A post no flow names: it reads, it decides nothing (the auditor's)."""
    return account_services.position_create(actor=None, org_unit=unit, name=name)


def test_a_delegate_whose_approver_post_ended_decides_nothing_more(chain, deputy,
                                                                   security_admin):
    """The delegation was made while the deputy held 副主席; they keep a read-only post in the
    same unit. Deciding needs what creating the delegation needed: a deciding post there."""
    hold(deputy, _read_only_post(chain.union.station_a))
    now = timezone.now()
    approvals.delegation_create(actor=chain.station_officer, to_user=deputy,
                                starts_at=now - dt.timedelta(hours=1),
                                ends_at=now + dt.timedelta(days=3), reason="休假")
    case = chain.start()
    task = pending(case)
    assert task.pk in todo_ids(deputy)
    account_services.assignment_end(
        actor=security_admin,
        assignment=Assignment.objects.get(user=deputy, position__name="副主席"))
    assert task.pk not in todo_ids(deputy)
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=deputy, task=task, decision="approve")
    assert exc.value.code == "not_assignee"
    assert pending(case).pk == task.pk


def test_a_delegate_for_a_named_step_needs_a_deciding_post_at_decision_time(chain, named_flow,
                                                                            security_admin):
    deputy = new_user("deputy")
    approver = hold(deputy, chain.bureau_post)
    hold(deputy, _read_only_post(chain.union.bureau))
    now = timezone.now()
    approvals.delegation_create(actor=chain.chairman, to_user=deputy,
                                starts_at=now - dt.timedelta(hours=1),
                                ends_at=now + dt.timedelta(days=1))
    case = chain.start(key="NAMED")
    assert pending(case).pk in todo_ids(deputy)
    account_services.assignment_end(actor=security_admin, assignment=approver)
    assert pending(case).pk not in todo_ids(deputy)
    with pytest.raises(PermissionDenied) as exc:
        approvals.task_decide(actor=deputy, task=pending(case), decision="approve")
    assert exc.value.code == "not_assignee"
