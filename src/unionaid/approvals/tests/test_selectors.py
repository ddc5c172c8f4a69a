"""To-do list, timeline, task access."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from unionaid.approvals import selectors
from unionaid.approvals import services as approvals
from unionaid.approvals.models import TaskStatus
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import NotFound

pytestmark = pytest.mark.django_db


def pending(case):
    return case.tasks.get(status=TaskStatus.PENDING)


def test_the_todo_list_is_oldest_first_and_only_the_users_tasks(chain):
    a, b = chain.start(), chain.start()
    elsewhere = chain.start(unit=chain.union.team_b)
    mine = [t.pk for t in selectors.todo_for_user(user=chain.station_officer)]
    assert mine == [pending(a).pk, pending(b).pk]
    assert [t.pk for t in selectors.todo_for_user(user=chain.station_b_officer)] == [
        pending(elsewhere).pk]
    assert not selectors.todo_for_user(user=chain.chairman).exists()


def test_the_todo_list_leaves_out_cases_the_user_filed(chain):
    chain.start(actor=chain.station_officer)
    assert not selectors.todo_for_user(user=chain.station_officer).exists()


def test_the_todo_list_costs_a_fixed_number_of_queries(chain):
    for _ in range(5):
        chain.start()
    user = type(chain.station_officer).objects.get(pk=chain.station_officer.pk)
    with CaptureQueriesContext(connection) as ctx:
        rows = list(selectors.todo_for_user(user=user))
        labels = [(t.case.applicant.name, t.case.org_unit.name, str(t.assigned_position),
                   t.step.name) for t in rows]
    assert len(rows) == len(labels) == 5
    assert len(ctx.captured_queries) == 3


def test_the_timeline_shows_each_step_who_decided_and_what_waits(chain):
    case = chain.start({"amount": 1500})
    approvals.task_decide(actor=chain.station_officer, task=pending(case), decision="approve",
                          comment="情况属实")
    timeline = selectors.case_timeline(case=case)
    assert [(r["order"], r["status"]) for r in timeline] == [
        (1, "approved"), (2, "skipped"), (3, "pending")]
    assert timeline[0]["decided_by"] == "station_officer"
    assert timeline[0]["decided_as"] == "甲车务段·帮扶干事"
    assert timeline[0]["comment"] == "情况属实"
    assert timeline[1]["comment"] == "满足跳过条件：金额不超过 2000 元"
    assert timeline[2]["assignee"] == "测试铁路局工会·主席"
    full = selectors.case_timeline(case=chain.start(), include_upcoming=True)
    assert [r["status"] for r in full] == ["pending", "upcoming", "upcoming"]


def test_a_task_is_found_by_its_approver_and_by_viewers_in_scope_only(chain, personas, union):
    from conftest import make_role, make_staff

    case = chain.start()
    task = pending(case)
    assert selectors.task_get_for_user(user=chain.station_officer, pk=task.pk) == task
    # a viewer of station A (assistance.view) may look; station B's approver may not
    viewer = make_staff("viewer", union.station_a, [make_role("viewer", ["assistance.view"])])
    assert selectors.task_get_for_user(user=viewer, pk=task.pk) == task
    with pytest.raises(NotFound):
        selectors.task_get_for_user(user=chain.station_b_officer, pk=task.pk)
    assert AuditEvent.objects.filter(action="access.denied", actor=chain.station_b_officer,
                                     target_id=str(task.pk)).exists()
    with pytest.raises(NotFound):
        selectors.task_get_for_user(user=personas.other_cadre, pk="nonsense")
