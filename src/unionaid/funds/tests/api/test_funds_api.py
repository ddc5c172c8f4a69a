"""/api/v1/funds: budgets and their ledger in the funds scope; the payment trace needs
trace.view and every read of it is journaled."""

from __future__ import annotations

import pytest

from conftest import make_role, make_staff
from unionaid.approvals import services as approvals
from unionaid.assistance.tests.api_support import pending_task
from unionaid.audit.models import AuditEvent
from unionaid.funds.models import Disbursement

NOT_FOUND = {"code": "not_found", "message": "记录不存在或无权查看。"}


@pytest.fixture
def approved(worker, staff, submitted):
    """The worker's application approved at both steps: 5,000 reserved from the budget."""
    application = submitted(worker, worker.member)
    approvals.task_decide(actor=staff.apply_cadre, task=pending_task(application),
                          decision="approve", comment="属实")
    approvals.task_decide(actor=staff.chairman, task=pending_task(application),
                          decision="approve", comment="同意")
    return Disbursement.objects.get(subject_id=application.pk)


def test_budgets_are_listed_within_the_funds_scope(union, staff, budget, source, as_token,
                                                   as_session):
    response = as_token(staff.finance).get("/funds/budgets")
    assert response.status_code == 200
    [row] = response.json()["items"]
    assert (row["id"], row["org_unit_name"], row["funding_source_code"]) == (
        budget.pk, "测试铁路局工会", "ghjf")
    assert (row["allocated"], row["available"], row["reserved"]) == (
        "100000.00", "100000.00", "0.00")
    # a station finance post sees nothing of the bureau's budget; a cadre without funds rights
    # neither
    station = make_staff("station_finance", union.station_a,
                         [make_role("st-fin", ["org.view", "funds.view"])])
    assert as_session(station).get("/funds/budgets").json()["items"] == []
    assert as_session(staff.apply_cadre).get("/funds/budgets").json()["items"] == []
    assert as_session(staff.finance).get("/funds/budgets?year=2001").json()["items"] == []


def test_budget_entries_show_the_ledger_newest_first(staff, budget, approved, as_session):
    api = as_session(staff.finance)
    response = api.get(f"/funds/budgets/{budget.pk}/entries")
    assert response.status_code == 200
    entries = response.json()["items"]
    assert [e["kind"] for e in entries][:2] == ["reserve", "reserve"]
    assert [e["kind"] for e in entries][-2:] == ["allocate", "allocate"]
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    reserve = [e for e in entries if e["kind"] == "reserve"]
    assert sorted(e["amount"] for e in reserve) == ["-5000.00", "5000.00"]
    assert {e["disbursement_id"] for e in reserve} == {approved.pk}
    paged = api.get(f"/funds/budgets/{budget.pk}/entries?limit=1").json()
    assert paged["next_cursor"] == str(entries[0]["id"])
    denied = as_session(staff.apply_cadre).get(f"/funds/budgets/{budget.pk}/entries")
    assert denied.status_code == 404
    assert denied.json() == NOT_FOUND


def test_the_trace_shows_the_whole_chain_to_a_trace_viewer_and_is_journaled(
        worker, staff, approved, as_token):
    response = as_token(staff.tracer).get(f"/funds/disbursements/{approved.pk}/trace")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["disbursement"]["amount"], body["disbursement"]["status"]) == (
        "5000.00", "reserved")
    assert body["member"]["name"] == worker.member.name
    assert body["member"]["id_number_masked"] == worker.member.id_number_masked
    assert worker.member.id_number not in response.content.decode()
    assert body["application"]["item_code"] == "yl-dbjz"
    assert [m["material"] for m in body["materials"]] == ["诊断证明"]
    assert [(d["step"], d["decided_by"], d["decided_as"], d["comment"])
            for d in body["decisions"]] == [
        ("站段审核", "apply_cadre", "甲车务段·帮扶干事", "属实"),
        ("主席审批", "chairman", "测试铁路局工会·主席", "同意")]
    assert body["budgets"][0]["org_unit_name"] == "测试铁路局工会"
    assert body["batch"] is None
    assert AuditEvent.objects.filter(action="funds.trace_view", actor=staff.tracer,
                                     target_id=str(approved.pk)).count() == 1


def test_the_trace_needs_trace_view(worker, staff, approved, as_session):
    for user in (staff.finance, staff.apply_cadre, worker):
        response = as_session(user).get(f"/funds/disbursements/{approved.pk}/trace")
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    assert not AuditEvent.objects.filter(action="funds.trace_view").exists()
    assert AuditEvent.objects.filter(action="access.denied", actor=staff.finance,
                                     target_type="funds.disbursement").exists()
