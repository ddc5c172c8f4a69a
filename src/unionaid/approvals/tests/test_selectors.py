"""To-do list, timeline, task access."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from unionaid.approvals import assignees, selectors
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
    # delegations, posts, "any named task waiting?", the list
    assert len(ctx.captured_queries) == 4


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


def test_a_todo_slice_reads_the_ids_first_then_only_those_rows_in_the_same_order(chain):
    """The to-do page and API load a page in two queries: the ids (and ``is_overdue``) by the
    list's filter and order alone — no join to the applicant, unit or post — then those tasks
    with what the list shows. Same rows, order and ``is_overdue`` as the one-query slice, for
    every sort."""
    from django.utils import timezone

    from unionaid.approvals.models import ApprovalTask

    for n in range(7):
        chain.start({"amount": 1000 + (n * 700) % 3000})
    tasks = ApprovalTask.objects.filter(status=TaskStatus.PENDING).order_by("pk")
    past = timezone.now() - timezone.timedelta(days=1)
    ApprovalTask.objects.filter(pk__in=[t.pk for t in tasks[::2]]).update(due_at=past)
    ApprovalTask.objects.filter(pk=tasks[1].pk).update(due_at=None)
    user = type(chain.station_officer).objects.get(pk=chain.station_officer.pk)
    for sort in selectors.TODO_SORTS:
        qs = selectors.todo_filtered(user=user, flt=selectors.TodoFilter(sort=sort))
        want = [(t.pk, t.is_overdue) for t in qs[2:6]]
        want_labels = [(t.case.applicant.name, t.case.org_unit.name,
                        assignees.task_assignee_label(t), t.step.name, t.step.allow_batch,
                        t.case.subject_id, str(t.case.facts["amount"])) for t in qs[2:6]]
        with CaptureQueriesContext(connection) as ctx:
            rows = selectors.todo_slice(qs, 2, 6)
        labels = [(t.applicant_name, t.org_unit_name, t.assignee, t.step, t.allow_batch,
                   t.subject_id, t.amount) for t in rows]
        assert [(t.pk, t.is_overdue) for t in rows] == want, sort
        assert labels == want_labels
        assert any(overdue for _pk, overdue in want)
        assert not all(o for _pk, o in want)
        assert len(labels) == 4
        assert len(ctx.captured_queries) == 2  # ids, then the rows with their joins
        ids_sql = ctx.captured_queries[0]["sql"]
        assert "members_member" not in ids_sql
        assert "accounts_position" not in ids_sql
    assert selectors.todo_slice(qs, 50, 101) == []


def test_the_todo_page_and_api_show_the_same_tasks_as_the_list(chain, client):
    """Paging through ``todo_slice`` (page and API) gives the list's tasks, in its order."""
    from unionaid.core.api.pagination import keyset_page

    for _ in range(5):
        chain.start()
    user = chain.station_officer
    want = [t.pk for t in selectors.todo_for_user(user=user)]
    first = keyset_page(selectors.todo_for_user(user=user), cursor=None, limit=3,
                        fetch=selectors.todo_slice)
    rest = keyset_page(selectors.todo_for_user(user=user), cursor=first.next_cursor, limit=3,
                       fetch=selectors.todo_slice)
    assert [t.pk for t in first.items + rest.items] == want
    assert rest.next_cursor is None
    client.force_login(user)
    html = client.get("/approvals/todo/").content.decode()
    assert [pk for pk in want if f'id="task-{pk}"' in html] == want
    assert html.index(f'id="task-{want[0]}"') < html.index(f'id="task-{want[-1]}"')


def test_a_todo_page_decrypts_nothing_it_does_not_show(chain, monkeypatch):
    from unionaid.core import crypto

    for _ in range(3):
        chain.start()
    user = type(chain.station_officer).objects.get(pk=chain.station_officer.pk)
    calls = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda token: calls.append(token) or real(token))
    rows = selectors.todo_slice(selectors.todo_for_user(user=user), 0, 50)
    assert all(t.applicant_name for t in rows)
    assert len(rows) == 3
    assert calls == []
