"""/api/v1/approvals: to-do list, decisions (single, batch), self-approval refused, timelines,
delegation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from unionaid.approvals.models import Delegation, TaskStatus
from unionaid.assistance.models import ApplicationStatus
from unionaid.assistance.tests.api_support import pending_task
from unionaid.audit.models import AuditEvent
from unionaid.funds.models import Disbursement

NOT_FOUND = {"code": "not_found", "message": "记录不存在或无权查看。"}


def _ids(response):
    return [item["id"] for item in response.json()["items"]]


def _self_filed(submitted, user):
    return submitted(user, user.member)


def test_the_todo_list_shows_only_the_callers_tasks_oldest_first(
        worker, new_worker, union, staff, submitted, as_token):
    first = _self_filed(submitted, worker)
    by_cadre = submitted(staff.apply_cadre, new_worker(union.team_a).member)
    later = _self_filed(submitted, new_worker(union.workshop_a))
    other_station = _self_filed(submitted, new_worker(union.team_b))

    cadre = as_token(staff.apply_cadre).get("/approvals/todo")
    assert cadre.status_code == 200
    # oldest first; the case the cadre filed is left out (they could not decide it)
    assert _ids(cadre) == [pending_task(first).pk, pending_task(later).pk]
    assert pending_task(by_cadre).pk not in _ids(cadre)
    row = cadre.json()["items"][0]
    assert (row["subject_id"], row["item_code"], row["amount"]) == (first.pk, "yl-dbjz",
                                                                     "5000.00")
    assert (row["step"], row["assignee"], row["is_overdue"]) == (
        "站段审核", "甲车务段·帮扶干事", False)
    api = as_token(staff.apply_cadre)
    page = api.get("/approvals/todo?limit=1").json()
    assert [row["id"] for row in page["items"]] == [pending_task(first).pk]
    rest = api.get(f"/approvals/todo?limit=1&cursor={page['next_cursor']}").json()
    assert [row["id"] for row in rest["items"]] == [pending_task(later).pk]
    assert rest["next_cursor"] is None
    assert _ids(as_token(staff.other_apply).get("/approvals/todo")) == [
        pending_task(other_station).pk]
    assert _ids(as_token(staff.chairman).get("/approvals/todo")) == []
    assert _ids(as_token(worker).get("/approvals/todo")) == []


def test_deciding_through_the_api_walks_the_steps_and_reserves_the_money(
        worker, staff, submitted, as_session, as_token):
    application = submitted(worker, worker.member)
    task = pending_task(application)
    response = as_session(staff.apply_cadre).post(f"/approvals/tasks/{task.pk}/decide",
                                                  {"decision": "approve", "comment": "属实"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    assert response.json()["decided_as"] == "甲车务段·帮扶干事"
    assert response.json()["case_status"] == "in_progress"
    chairman = as_token(staff.chairman)
    todo = chairman.get("/approvals/todo")
    assert [row["step"] for row in todo.json()["items"]] == ["主席审批"]
    final = chairman.post(f"/approvals/tasks/{todo.json()['items'][0]['id']}/decide",
                          {"decision": "approve"})
    assert final.json()["case_status"] == "approved"

    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    disbursement = Disbursement.objects.get(subject_id=application.pk)
    assert disbursement.amount == Decimal("5000.00")
    decisions = AuditEvent.objects.filter(action="approval.task_decide").order_by("id")
    assert [e.actor for e in decisions] == [staff.apply_cadre, staff.chairman]


def test_nobody_approves_a_case_they_filed(worker, staff, submitted, as_token):
    application = submitted(staff.apply_cadre, worker.member)  # filed on the worker's behalf
    task = pending_task(application)
    api = as_token(staff.apply_cadre)
    detail = api.get(f"/approvals/tasks/{task.pk}")
    assert detail.status_code == 200
    assert detail.json()["can_decide"] is False
    response = api.post(f"/approvals/tasks/{task.pk}/decide", {"decision": "approve"})
    assert response.status_code == 403
    assert response.json()["code"] == "self_approval"
    assert response.json()["message"] == "不能审批本人提交、本人或家庭成员的申请，请由其他审批人办理。"
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING
    assert not AuditEvent.objects.filter(action="approval.task_decide").exists()


def test_reject_and_return_need_a_comment(worker, staff, submitted, as_session):
    task = pending_task(submitted(worker, worker.member))
    api = as_session(staff.apply_cadre)
    response = api.post(f"/approvals/tasks/{task.pk}/decide", {"decision": "reject"})
    assert response.status_code == 400
    assert response.json()["code"] == "comment_required"
    assert api.post(f"/approvals/tasks/{task.pk}/decide",
                    {"decision": "maybe"}).status_code == 422
    rejected = api.post(f"/approvals/tasks/{task.pk}/decide",
                        {"decision": "reject", "comment": "不符合条件"})
    assert rejected.json()["case_status"] == "rejected"
    task.refresh_from_db()
    assert task.status == TaskStatus.REJECTED


def test_tasks_out_of_scope_are_not_found(worker, staff, submitted, as_session):
    task = pending_task(submitted(worker, worker.member))
    api = as_session(staff.other_apply)
    for response in (api.get(f"/approvals/tasks/{task.pk}"),
                     api.post(f"/approvals/tasks/{task.pk}/decide", {"decision": "approve"}),
                     api.post("/approvals/tasks/decide-batch",
                              {"task_ids": [task.pk], "decision": "approve"})):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING


def test_the_task_detail_shows_the_case_for_its_approver(worker, staff, submitted, as_session):
    application = submitted(worker, worker.member)
    task = pending_task(application)
    body = as_session(staff.apply_cadre).get(f"/approvals/tasks/{task.pk}").json()
    assert body["can_decide"] is True
    assert (body["subject_id"], body["amount"], body["applicant_name"]) == (
        application.pk, "5000.00", worker.member.name)
    assert body["subject_label"] == f"大病医疗救助 · {worker.member.name}"
    assert [(r["step"], r["status"]) for r in body["timeline"]] == [
        ("站段审核", "pending"), ("主席审批", "upcoming")]


def test_batch_approval_decides_all_batchable_tasks_and_refuses_the_others(
        worker, new_worker, union, staff, submitted, as_session):
    applications = [_self_filed(submitted, u) for u in (
        worker, new_worker(union.team_a), new_worker(union.workshop_a))]
    tasks = [pending_task(app) for app in applications]
    api = as_session(staff.apply_cadre)
    response = api.post("/approvals/tasks/decide-batch",
                        {"task_ids": [t.pk for t in tasks], "decision": "approve",
                         "comment": "批量同意"})
    assert response.status_code == 200, response.content
    assert sorted(row["id"] for row in response.json()["decided"]) == sorted(t.pk for t in tasks)
    for task in tasks:
        task.refresh_from_db()
        assert task.status == TaskStatus.APPROVED
        assert task.comment == "批量同意"
    # the chairman's step does not allow batch approval: refused, nothing decided
    chairman_tasks = [pending_task(app) for app in applications]
    assert {t.step.name for t in chairman_tasks} == {"主席审批"}
    refused = as_session(staff.chairman).post("/approvals/tasks/decide-batch",
                                              {"task_ids": [t.pk for t in chairman_tasks],
                                               "decision": "approve"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "batch_not_allowed"
    assert "主席审批" in refused.json()["message"]
    for task in chairman_tasks:
        task.refresh_from_db()
        assert task.status == TaskStatus.PENDING


def test_a_worker_follows_their_own_case_timeline_and_nobody_elses(
        worker, new_worker, union, staff, submitted, as_token):
    application = submitted(worker, worker.member)
    api = as_token(worker)
    response = api.get(f"/approvals/cases/{application.case_id}/timeline")
    assert response.status_code == 200
    body = response.json()
    assert (body["subject_id"], body["status"], body["flow"]) == (
        application.pk, "in_progress", "帮扶审批")
    assert [(s["step"], s["status"]) for s in body["steps"]] == [
        ("站段审核", "pending"), ("主席审批", "upcoming")]
    stranger = as_token(new_worker(union.team_a)).get(
        f"/approvals/cases/{application.case_id}/timeline")
    assert stranger.status_code == 404
    assert stranger.json() == NOT_FOUND
    assert as_token(staff.other_apply).get(
        f"/approvals/cases/{application.case_id}/timeline").status_code == 404
    assert AuditEvent.objects.filter(action="access.denied",
                                     target_type="approvals.approvalcase").count() == 2


def test_an_approver_delegates_their_tasks_while_away(union, staff, flow, as_session):
    from conftest import make_role, make_staff
    from unionaid.approvals import services as approvals

    # 副主席 of the bureau decides the bureau's steps of another flow: an approver at the
    # chairman's level, in the chairman's unit.
    approvals.flow_save(actor=None, subject_kind="assistance.application", subject_key="X",
                        org_unit=union.bureau, name="副主席", steps=[
                            {"name": "副主席审批", "position_name": "副主席", "unit_depth": 1}])
    make_staff("vice", union.bureau, [make_role("vice", ["org.view", "assistance.view"])],
               "副主席")
    starts = timezone.now()
    ends = starts + dt.timedelta(days=7)
    api = as_session(staff.chairman)
    response = api.post("/approvals/delegations", {
        "to_username": "vice", "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(), "reason": "出差"})
    assert response.status_code == 201, response.content
    delegation = Delegation.objects.get()
    assert (delegation.from_user.username, delegation.to_user.username) == ("chairman", "vice")
    assert AuditEvent.objects.filter(action="approval.delegation_create",
                                     actor=staff.chairman).exists()
    unknown = api.post("/approvals/delegations", {
        "to_username": "nobody", "starts_at": starts.isoformat(), "ends_at": ends.isoformat()})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "delegate_not_staff"
    # the 站段 approver decides at another level: not the chairman's delegate
    lower = api.post("/approvals/delegations", {
        "to_username": "apply_cadre", "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat()})
    assert lower.status_code == 400
    assert lower.json()["code"] == "delegate_wrong_post"
    # a read-only post (the tracer, like the auditor) decides nothing, so delegates nothing
    tracer = as_session(staff.tracer).post("/approvals/delegations", {
        "to_username": "chairman", "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat()})
    assert tracer.status_code == 403
    assert tracer.json()["code"] == "not_an_approver"
    assert Delegation.objects.count() == 1
    # listed for both; only the delegator ends it
    mine = api.get("/approvals/delegations").json()
    assert [(d["id"], d["to_user_name"], d["is_active"]) for d in mine["given"]] == [
        (delegation.pk, "vice", True)]
    assert mine["received"] == []
    vice = as_session(delegation.to_user)
    assert [d["id"] for d in vice.get("/approvals/delegations").json()["received"]] == [
        delegation.pk]
    assert vice.post(f"/approvals/delegations/{delegation.pk}/end", {}).status_code == 404
    ended = api.post(f"/approvals/delegations/{delegation.pk}/end", {})
    assert ended.status_code == 200, ended.content
    assert ended.json()["is_active"] is False
    assert api.post(f"/approvals/delegations/{delegation.pk}/end", {}).json()["code"] == \
        "already_ended"


def test_the_openapi_description_lists_the_issue_3_paths(db):
    paths = Client().get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/v1/assistance/items", "/api/v1/assistance/items/{code}/estimate",
        "/api/v1/assistance/applications", "/api/v1/assistance/applications/{application_id}",
        "/api/v1/assistance/applications/{application_id}/attachments",
        "/api/v1/assistance/attachments/{attachment_id}",
        "/api/v1/assistance/applications/{application_id}/submit",
        "/api/v1/assistance/applications/{application_id}/withdraw",
        "/api/v1/assistance/applications/{application_id}/resubmit",
        "/api/v1/approvals/todo", "/api/v1/approvals/tasks/{task_id}",
        "/api/v1/approvals/tasks/{task_id}/decide", "/api/v1/approvals/tasks/decide-batch",
        "/api/v1/approvals/cases/{case_id}/timeline", "/api/v1/approvals/delegations",
        "/api/v1/funds/budgets", "/api/v1/funds/budgets/{budget_id}/entries",
        "/api/v1/funds/disbursements/{disbursement_id}/trace",
        "/api/v1/notifications", "/api/v1/notifications/{notification_id}/read",
    ):
        assert path in paths, path
    assert "patch" in paths["/api/v1/assistance/applications/{application_id}"]
    assert "multipart/form-data" in paths[
        "/api/v1/assistance/applications/{application_id}/attachments"]["post"]["requestBody"][
        "content"]


def test_a_final_approval_through_the_api_reads_the_task_once(
        worker, staff, submitted, as_session, as_token):
    """The endpoint leaves the task to the service (which locks it and checks the decider) and
    answers from the locked rows: no separate visibility read, no re-read of the case. Guards
    the HTTP benchmark's per-request cost (benchmarks/helpers/over_http.py)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    application = submitted(worker, worker.member)
    as_session(staff.apply_cadre).post(f"/approvals/tasks/{pending_task(application).pk}/decide",
                                       {"decision": "approve"})
    chairman = as_token(staff.chairman)
    task = pending_task(application)
    with CaptureQueriesContext(connection) as queries:
        final = chairman.post(f"/approvals/tasks/{task.pk}/decide", {"decision": "approve"})
    assert final.status_code == 200, final.content
    assert final.json()["case_status"] == "approved"
    task_reads = [q["sql"] for q in queries.captured_queries
                  if q["sql"].startswith('SELECT "approvals_approvaltask"')]
    case_reads = [q["sql"] for q in queries.captured_queries
                  if q["sql"].startswith('SELECT "approvals_approvalcase"')]
    assert len(task_reads) == 1, task_reads  # the locked read (FOR UPDATE on PostgreSQL)
    assert len(case_reads) == 1, case_reads
