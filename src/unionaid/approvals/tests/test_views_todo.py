"""The approver's pages through the HTTP client: the to-do list (post + named tasks, oldest
first, overdue marked), deciding on the task page, self-approval refused, batch approval.
Uses the engine's throwaway subject kind (see conftest.Chain)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalTask, TaskStatus
from unionaid.audit.models import AuditEvent

from .conftest import KIND

TODO = "/approvals/todo/"


def task_url(task) -> str:
    return reverse("approvals:task-detail", args=[task.pk])


def pending(case) -> ApprovalTask:
    return case.tasks.get(status=TaskStatus.PENDING)


def row_html(html: str, task) -> str:
    start = html.index(f'id="task-{task.pk}"')
    return html[start:html.index("</tr>", start)]


def assert_no_inline_code(html: str) -> None:
    """Strict CSP: no inline <script> bodies, style attributes or on* handlers."""
    for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
        assert "src=" in match.group(1), match.group(0)[:200]
        assert not match.group(2).strip(), match.group(0)[:200]
    assert not re.search(r"\sstyle\s*=", html)
    assert not re.search(r"<style\b", html)
    assert not re.search(r"\son[a-z]+\s*=\s*[\"']", html)


@pytest.fixture
def named_flow(chain):
    """Key "NAMED": one step named to the station officer (节点到人)."""
    return approvals.flow_save(
        actor=None, subject_kind=KIND, subject_key="NAMED", org_unit=chain.union.bureau,
        name="点名审批", steps=[{"name": "指定审核", "assignee_kind": "user",
                             "user": chain.station_officer.pk}])


@pytest.fixture
def batch_flow(chain):
    """Key "BATCH": the station step allows batch approval, the chairman's does not."""
    return approvals.flow_save(
        actor=None, subject_kind=KIND, subject_key="BATCH", org_unit=chain.union.bureau,
        name="批量流程", steps=[
            {"name": "站段初审", "position_name": "帮扶干事", "unit_depth": 2,
             "allow_batch": True},
            {"name": "主席审批", "position_name": "主席", "unit_depth": 1},
        ])


def test_it_lists_post_and_named_tasks_oldest_first_with_overdue_marked(
        client, chain, named_flow, make_member):
    newer = pending(chain.start())
    older = pending(chain.start())
    named = pending(chain.start(key="NAMED"))
    elsewhere = pending(chain.start(unit=chain.union.team_b,
                                    applicant=make_member(chain.union.team_b)))
    now = timezone.now()
    ApprovalTask.objects.filter(pk=newer.pk).update(created_at=now - dt.timedelta(days=1))
    ApprovalTask.objects.filter(pk=older.pk).update(created_at=now - dt.timedelta(days=4),
                                                    due_at=now - dt.timedelta(days=1))
    ApprovalTask.objects.filter(pk=named.pk).update(created_at=now - dt.timedelta(hours=2))

    client.force_login(chain.station_officer)
    response = client.get(TODO)

    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f'id="task-{t.pk}"') for t in (older, newer, named)]
    assert positions == sorted(positions)  # oldest first
    assert f'id="task-{elsewhere.pk}"' not in html  # station B's post, not theirs
    assert "已超期" in row_html(html, older)
    assert "table-danger" in row_html(html, older)
    assert "已超期" not in row_html(html, newer)
    assert "指定审核" in row_html(html, named)
    assert chain.applicant.name in row_html(html, older)
    assert "3,000.00" in row_html(html, older)
    assert_no_inline_code(html)


def test_another_post_holder_does_not_see_them(client, chain):
    task = pending(chain.start())
    client.force_login(chain.station_b_officer)
    html = client.get(TODO).content.decode()
    assert f'id="task-{task.pk}"' not in html
    assert client.get(task_url(task)).status_code == 404  # station B: out of scope


def test_deciding_on_the_page_moves_the_case_to_the_next_holder(client, chain):
    case = chain.start({"amount": 3000})
    first = pending(case)
    client.force_login(chain.station_officer)
    page = client.get(task_url(first))
    assert page.status_code == 200
    assert "站段审核" in page.content.decode()
    assert 'value="approve"' in page.content.decode()
    assert_no_inline_code(page.content.decode())

    response = client.post(task_url(first), {"decision": "approve", "comment": "情况属实"})

    assert response.status_code == 302
    assert response["Location"] == TODO
    first.refresh_from_db()
    assert first.status == TaskStatus.APPROVED
    assert first.decided_by == chain.station_officer
    assert first.comment == "情况属实"
    assert AuditEvent.objects.filter(action="approval.task_decide",
                                     target_id=str(case.pk)).count() == 1
    second = pending(case)
    assert second.step.name == "路局复核"
    assert second.assigned_position == chain.bureau_post
    assert f'id="task-{first.pk}"' not in client.get(TODO).content.decode()
    client.force_login(chain.bureau_officer)
    assert f'id="task-{second.pk}"' in client.get(TODO).content.decode()


def test_a_reject_without_comment_is_refused_in_chinese(client, chain):
    task = pending(chain.start())
    client.force_login(chain.station_officer)
    response = client.post(task_url(task), {"decision": "reject", "comment": " "})
    assert response.status_code == 400
    assert "驳回或退回时必须填写意见" in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING


def test_self_approval_is_refused_on_the_page(client, chain):
    """The station officer filed this case: they hold the post, but may not decide it."""
    case = chain.start(actor=chain.station_officer)
    task = pending(case)
    client.force_login(chain.station_officer)
    assert f'id="task-{task.pk}"' not in client.get(TODO).content.decode()
    page = client.get(task_url(task)).content.decode()
    assert "请回避" in page
    assert 'value="approve"' not in page

    response = client.post(task_url(task), {"decision": "approve", "comment": "同意"})

    assert response.status_code == 403
    assert "不能审批本人提交、本人或家庭成员的申请" in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING
    assert not AuditEvent.objects.filter(action="approval.task_decide").exists()


def test_a_decided_task_cannot_be_decided_again(client, chain):
    task = pending(chain.start())
    client.force_login(chain.station_officer)
    client.post(task_url(task), {"decision": "approve"})
    response = client.post(task_url(task), {"decision": "reject", "comment": "再驳回"})
    assert response.status_code == 409
    assert "该待办不是当前审批节点或已办理" in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.APPROVED


def test_batch_approval_offers_and_approves_only_batchable_tasks(client, chain, batch_flow):
    one, two = pending(chain.start(key="BATCH")), pending(chain.start(key="BATCH"))
    single = pending(chain.start())
    client.force_login(chain.station_officer)
    html = client.get(TODO).content.decode()
    assert 'name="task"' in row_html(html, one)
    assert 'name="task"' in row_html(html, two)
    assert 'name="task"' not in row_html(html, single)

    refused = client.post("/approvals/todo/batch/", {"task": [one.pk, single.pk]}, follow=True)
    assert "不允许批量审批" in refused.content.decode()
    assert ApprovalTask.objects.filter(pk__in=[one.pk, two.pk, single.pk],
                                       status=TaskStatus.PENDING).count() == 3

    done = client.post("/approvals/todo/batch/", {"task": [one.pk, two.pk], "comment": "同意"},
                       follow=True)
    assert "已批量同意 2 件" in done.content.decode()
    for task in (one, two):
        task.refresh_from_db()
        assert task.status == TaskStatus.APPROVED
        assert task.comment == "同意"
        assert pending(task.case).step.name == "主席审批"
    single.refresh_from_db()
    assert single.status == TaskStatus.PENDING


def test_batch_approval_of_someone_elses_task_changes_nothing(client, chain, batch_flow,
                                                              make_member):
    mine = pending(chain.start(key="BATCH"))
    theirs = pending(chain.start(key="BATCH", unit=chain.union.team_b,
                                 applicant=make_member(chain.union.team_b)))
    client.force_login(chain.station_officer)
    response = client.post("/approvals/todo/batch/", {"task": [mine.pk, theirs.pk]},
                           follow=True)
    assert "记录不存在或无权查看" in response.content.decode()
    assert ApprovalTask.objects.filter(pk__in=[mine.pk, theirs.pk],
                                       status=TaskStatus.PENDING).count() == 2


def test_a_post_without_a_decision_is_refused(client, chain):
    task = pending(chain.start())
    client.force_login(chain.station_officer)
    response = client.post(task_url(task), {"comment": "同意"})
    assert response.status_code == 400
    assert "请选择同意、退回补充材料或驳回" in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING


def test_the_todo_list_costs_the_same_queries_for_one_or_many_rows(client, chain, named_flow):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    chain.start()
    client.force_login(chain.station_officer)
    client.get(TODO)  # the session's first save (at most once a minute) happens here
    with CaptureQueriesContext(connection) as one:
        client.get(TODO)
    for n in range(12):
        chain.start(key="NAMED" if n % 2 else "ITEM-1")
    with CaptureQueriesContext(connection) as many:
        html = client.get(TODO).content.decode()
    assert html.count('id="task-') == 13
    assert len(many.captured_queries) == len(one.captured_queries)
