"""Overdue marking and escalation; fast track (特事特办) and its review."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from unionaid.approvals import selectors
from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalTask, CaseStatus, TaskStatus
from unionaid.approvals.tests.conftest import KIND, STANDARD_STEPS
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.notifications.models import Notification

pytestmark = pytest.mark.django_db


def pending(case):
    return case.tasks.get(status=TaskStatus.PENDING)


def test_a_task_past_its_due_time_is_marked_overdue_in_the_todo_list(chain):
    late, fresh = chain.start(), chain.start()
    ApprovalTask.objects.filter(pk=pending(late).pk).update(
        due_at=timezone.now() - dt.timedelta(hours=1))
    rows = {t.pk: t.is_overdue for t in selectors.todo_for_user(user=chain.station_officer)}
    assert rows == {pending(late).pk: True, pending(fresh).pk: False}
    timeline = selectors.case_timeline(case=late)
    assert timeline[0]["is_overdue"] is True


def test_overdue_tasks_are_escalated_once_to_the_same_post_one_level_up(chain):
    case = chain.start()
    task = pending(case)
    assert task.due_at is not None
    later = task.due_at + dt.timedelta(minutes=1)
    assert approvals.tasks_escalate_overdue(now=task.due_at - dt.timedelta(minutes=1)) == 0
    assert approvals.tasks_escalate_overdue(now=later) == 1
    task.refresh_from_db()
    assert task.escalated_at == later
    # the bureau's 帮扶干事 is the same-named post above station A's
    up = Notification.objects.get(recipient=chain.bureau_officer)
    assert "超期" in up.title
    assert "测试事项" in up.title
    assert Notification.objects.filter(recipient=chain.station_officer, title__contains="超期")
    event = AuditEvent.objects.get(action="approval.task_escalate")
    assert event.changes["notified"] == [chain.bureau_officer.pk]
    assert approvals.tasks_escalate_overdue(now=later + dt.timedelta(days=1)) == 0


def test_escalation_at_the_top_tells_the_posts_own_holders(chain):
    case = chain.start({"amount": 5000})
    for actor in (chain.station_officer, chain.bureau_officer):
        approvals.task_decide(actor=actor, task=pending(case), decision="approve")
    task = pending(case)
    assert approvals.tasks_escalate_overdue(now=task.due_at + dt.timedelta(seconds=1)) == 1
    assert Notification.objects.filter(recipient=chain.chairman, title__contains="超期").exists()


def test_the_escalate_command_reports_the_count(chain):
    case = chain.start()
    ApprovalTask.objects.filter(pk=pending(case).pk).update(
        due_at=timezone.now() - dt.timedelta(days=1))
    out = StringIO()
    call_command("approvals_escalate", stdout=out)
    assert "1" in out.getvalue()
    assert pending(case).escalated_at is not None


@pytest.fixture
def fast_flow(chain):
    steps = [STANDARD_STEPS[0], {**STANDARD_STEPS[1], "skippable_by_fast_track": True},
             STANDARD_STEPS[2]]
    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="FAST",
                        org_unit=chain.union.bureau, name="可特办", steps=steps)


def test_fast_track_skips_the_flagged_steps_with_the_reason(chain, fast_flow):
    case = chain.start({"amount": 5000}, key="FAST", fast_track=True,
                       fast_track_reason="突发火灾，急需救助")
    approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="approve")
    skipped = case.tasks.get(order=2)
    assert skipped.status == TaskStatus.SKIPPED
    assert skipped.skip_kind == "fast_track"
    assert "特事特办" in skipped.comment
    assert "突发火灾" in skipped.comment
    assert skipped.assigned_position == chain.bureau_post  # who reviews afterwards
    assert pending(case).order == 3
    normal = chain.start({"amount": 5000}, key="FAST")
    approvals.task_decide(actor=chain.station_officer, task=pending(normal), decision="approve")
    assert pending(normal).order == 2


def test_fast_track_needs_a_reason(chain, fast_flow):
    with pytest.raises(ServiceError) as exc:
        chain.start(key="FAST", fast_track=True, fast_track_reason=" ")
    assert exc.value.code == "fast_track_reason_required"


def test_a_fast_tracked_case_awaits_a_review_by_the_skipped_steps_approver(chain, fast_flow):
    case = chain.start({"amount": 5000}, key="FAST", fast_track=True, fast_track_reason="急")
    approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="approve")
    approvals.task_decide(actor=chain.chairman, task=pending(case), decision="approve")
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    assert list(selectors.fast_track_reviews_for_user(user=chain.bureau_officer)) == [case]
    assert not selectors.fast_track_reviews_for_user(user=chain.chairman).exists()
    with pytest.raises(PermissionDenied) as exc:
        approvals.fast_track_review(actor=chain.chairman, case=case, comment="已核")
    assert exc.value.code == "not_reviewer"
    with pytest.raises(ServiceError):
        approvals.fast_track_review(actor=chain.bureau_officer, case=case, comment="")
    approvals.fast_track_review(actor=chain.bureau_officer, case=case, comment="事后核实无误")
    case.refresh_from_db()
    assert case.fast_track_reviewed_by == chain.bureau_officer
    assert case.fast_track_review_comment == "事后核实无误"
    assert AuditEvent.objects.filter(action="approval.fast_track_review",
                                     actor=chain.bureau_officer).exists()
    assert not selectors.fast_track_reviews_for_user(user=chain.bureau_officer).exists()
    with pytest.raises(Conflict):
        approvals.fast_track_review(actor=chain.bureau_officer, case=case, comment="再审")


def test_a_normal_case_needs_no_review(chain):
    case = chain.start()
    with pytest.raises(Conflict) as exc:
        approvals.fast_track_review(actor=chain.bureau_officer, case=case, comment="审")
    assert exc.value.code == "not_fast_track"


def test_the_scheduler_escalates_an_overdue_task_when_it_ticks_past_the_jobs_slot(
        chain, monkeypatch):
    """The escalation job is registered by the approvals app; the scheduler runs it at its
    slot (hourly by default) and the overdue task is escalated then, not before."""
    from unionaid.schedules import registry, runner

    job = registry.job_or_none("approvals.escalate")
    assert job is not None
    assert job.default_schedule == "0 * * * *"
    monkeypatch.setattr(registry, "_JOBS", {job.key: job})  # this job alone
    task = pending(chain.start())
    due = timezone.localtime(timezone.now()).replace(minute=30, second=0, microsecond=0) \
        + dt.timedelta(days=1)
    ApprovalTask.objects.filter(pk=task.pk).update(due_at=due)

    def tick(hours: int, minutes: int):
        return runner.scheduler_tick(now=due + dt.timedelta(hours=hours, minutes=minutes))

    assert tick(-1, 20) == []  # 08:50 if due at 09:30: the scheduler first sees the job
    [before_due] = tick(0, -25)  # the 09:00 slot: nothing overdue yet
    assert before_due.summary == "已督办超期待办 0 条"
    assert tick(0, 10) == []  # 09:40: overdue, but no slot since 09:00
    task.refresh_from_db()
    assert task.escalated_at is None
    [run] = tick(0, 33)  # 10:03: the 10:00 slot
    assert run.outcome == "ok"
    assert run.slot == due + dt.timedelta(minutes=30)
    assert run.summary == "已督办超期待办 1 条"
    task.refresh_from_db()
    assert task.escalated_at == due + dt.timedelta(minutes=33)
    assert Notification.objects.filter(recipient=chain.bureau_officer,
                                       title__contains="超期").exists()
