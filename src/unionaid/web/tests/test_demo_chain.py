"""The demo's 三助 chain (``manage.py demo`` with applications): catalog, flows, budgets and
applications in every state, made through the services (so the ledger and journal hold)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from unionaid.accounts.models import User
from unionaid.approvals.models import ApprovalCase, ApprovalTask, SkipKind, TaskStatus
from unionaid.approvals.selectors import fast_track_reviews_for_user, todo_for_user
from unionaid.assistance.models import Application, ApplicationStatus, Attachment
from unionaid.audit.models import AuditEvent
from unionaid.audit.services import audit_verify
from unionaid.funds.models import (
    BatchStatus,
    Budget,
    Disbursement,
    DisbursementBatch,
    DisbursementStatus,
    EntryKind,
    LedgerEntry,
)
from unionaid.funds.selectors import payment_trace
from unionaid.funds.services import ledger_recompute
from unionaid.web.demo.casework import material_names
from unionaid.web.demo.chain import BUREAU_STEP, FINANCE_STEP, STATION_STEP, WORKSHOP_STEP

pytestmark = pytest.mark.django_db

STEPS = [WORKSHOP_STEP["name"], STATION_STEP["name"], BUREAU_STEP["name"], FINANCE_STEP["name"]]


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def chain():
    out = StringIO()
    call_command("demo", "--members", "300", "--seed", "7", "--applications", "40", "--visits", "0",
                 "--no-lists", stdout=out, skip_checks=True)
    return out.getvalue()


def user(username: str) -> User:
    return User.objects.get(username=username)


def test_it_files_applications_in_every_state_through_the_services(chain):
    statuses = set(Application.objects.values_list("status", flat=True))
    assert statuses == set(ApplicationStatus.values)
    # a case waiting at every step of the flows, in order
    waiting = set(ApprovalTask.objects.filter(status=TaskStatus.PENDING)
                  .values_list("step__name", flat=True))
    assert waiting == set(STEPS)
    assert not ApprovalCase.objects.filter(status="in_progress").exclude(
        tasks__status=TaskStatus.PENDING).exists()
    # returned and rejected with the approver's comment
    for status in (TaskStatus.RETURNED, TaskStatus.REJECTED):
        decided = ApprovalTask.objects.filter(status=status)
        assert decided.exists()
        assert not decided.filter(comment="").exists()
    # small amounts skip the 路局 step, and the skip is recorded
    skipped = ApprovalTask.objects.filter(skip_kind=SkipKind.CONDITION)
    assert skipped.exists()
    assert all(c.facts["amount"] <= 2000 for c in ApprovalCase.objects.filter(
        tasks__in=skipped))
    # every submitted application has its materials as stored, cleaned files
    submitted = Application.objects.exclude(submitted_at=None).select_related("item")
    for application in submitted.prefetch_related("attachments"):
        names = {a.material for a in application.attachments.all()}
        assert set(material_names(application.item)) <= names, application.item.code
    attachment = Attachment.objects.order_by("pk").first()
    assert attachment.content_type == "image/png"
    assert (Path(settings.PRIVATE_MEDIA_ROOT) / attachment.storage_path).is_file()
    assert AuditEvent.objects.filter(action="application.submit").count() >= submitted.count()
    assert AuditEvent.objects.filter(action="approval.task_decide").count() == (
        ApprovalTask.objects.exclude(decided_by=None).count())
    assert "帮扶申请 (applications) 4" in chain


def test_money_is_reserved_paid_in_batches_and_one_payment_reversed(chain):
    approved = Application.objects.filter(status=ApplicationStatus.APPROVED)
    paid = Application.objects.filter(status=ApplicationStatus.PAID)
    assert approved.exists()
    assert paid.exists()
    disbursements = Disbursement.objects.filter(subject_kind="assistance.application")
    assert set(disbursements.values_list("subject_id", flat=True)) == set(
        Application.objects.filter(status__in=["approved", "paid", "reversed", "cancelled"])
        .values_list("pk", flat=True))
    # one grant's reserved money was cancelled before payment (释放预留)
    cancelled = Application.objects.get(status=ApplicationStatus.CANCELLED)
    assert disbursements.get(subject_id=cancelled.pk).status == DisbursementStatus.RELEASED
    assert disbursements.filter(status=DisbursementStatus.RESERVED).count() == approved.count()
    batches = DisbursementBatch.objects.all()
    assert batches.exists()
    assert set(batches.values_list("status", flat=True)) == {BatchStatus.CONFIRMED}
    # four eyes: the finance officer made and exported every batch, the cashier confirmed it
    assert set(batches.values_list("created_by__username", "exported_by__username",
                                   "confirmed_by__username")) == {("finance", "finance",
                                                                   "cashier")}
    reversed_ = disbursements.get(status=DisbursementStatus.REVERSED)
    assert reversed_.reversal_reason
    assert LedgerEntry.objects.filter(disbursement=reversed_, kind=EntryKind.REVERSE).count() == 2
    # its application says so, and awaits a re-payment (重新发放)
    assert Application.objects.get(pk=reversed_.subject_id).status == (
        ApplicationStatus.PAYMENT_REVERSED)
    assert disbursements.filter(status=DisbursementStatus.PAID).count() == paid.count()
    # budgets: this year at the bureau, moved down to every 站段; balances match the ledger
    assert Budget.objects.filter(org_unit__depth=2, parent__isnull=False).count() == 8 * 4
    assert ledger_recompute() == []
    assert list(audit_verify()) == []


def test_a_fast_tracked_case_awaits_its_review(chain):
    case = ApprovalCase.objects.get(fast_track=True)
    assert case.status == "approved"
    assert case.fast_track_reason
    assert case.fast_track_reviewed_at is None
    assert set(case.tasks.filter(skip_kind=SkipKind.FAST_TRACK).values_list(
        "step__name", flat=True)) == {WORKSHOP_STEP["name"], STATION_STEP["name"]}
    reviewers = [u for u in User.objects.filter(username__in=["workshop_cadre", "station_cadre"])
                 if fast_track_reviews_for_user(user=u).filter(pk=case.pk).exists()]
    assert reviewers


def test_approvers_see_their_tasks_on_the_todo_page(chain, client):
    for username in ("workshop_cadre", "station_cadre", "bureau_cadre", "finance"):
        assert todo_for_user(user=user(username)).exists(), username
    workshop_cadre = user("workshop_cadre")
    tasks = list(todo_for_user(user=workshop_cadre))
    assert any(t.is_overdue for t in tasks)
    assert {t.step.name for t in tasks} == {WORKSHOP_STEP["name"]}
    client.force_login(workshop_cadre)
    response = client.get("/approvals/todo/")
    assert response.status_code == 200
    assert tasks[0].case.applicant.name in response.content.decode()
    # the team cadre files on behalf and decides nothing
    assert not todo_for_user(user=user("team_cadre")).exists()


def test_the_station_and_bureau_approvers_batch_approve_their_waiting_tasks(chain, client):
    """The demo flows allow batch approval at the 车间, 站段 and 路局 steps (the finance
    review stays one by one): each approver ticks their tasks on the to-do page."""
    for username, step in (("station_cadre", STATION_STEP), ("bureau_cadre", BUREAU_STEP)):
        approver = user(username)
        tasks = [t for t in todo_for_user(user=approver) if t.step.name == step["name"]][:2]
        assert tasks, username
        assert all(t.step.allow_batch for t in tasks), username
        client.force_login(approver)
        html = client.get("/approvals/todo/").content.decode()
        for task in tasks:
            row = html[html.index(f'id="task-{task.pk}"'):]
            assert f'name="task" value="{task.pk}"' in row[:row.index("</tr>")], username
        done = client.post("/approvals/todo/batch/", {"task": [t.pk for t in tasks]},
                           follow=True)
        assert f"已批量同意 {len(tasks)} 件" in done.content.decode(), username
    assert not FINANCE_STEP.get("allow_batch")


def test_the_worker_sees_their_own_applications_and_timeline(chain, client):
    worker = user("worker")
    mine = Application.objects.filter(member_id=worker.member_id)
    assert set(mine.values_list("status", flat=True)) == {"paid", "in_review", "draft"}
    assert not mine.filter(on_behalf=True).exists()
    client.force_login(worker)
    listing = client.get("/me/applications/").content.decode()
    for application in mine.select_related("item"):
        assert application.item.name in listing
    paid = mine.get(status="paid")
    page = client.get(f"/me/applications/{paid.pk}/")
    assert page.status_code == 200
    for step in STEPS:
        assert step in page.content.decode()
    other = Application.objects.exclude(member_id=worker.member_id).first()
    assert client.get(f"/me/applications/{other.pk}/").status_code == 404


def test_the_auditor_traces_a_paid_application(chain):
    disbursement = Disbursement.objects.filter(status=DisbursementStatus.PAID).first()
    trace = payment_trace(user=user("auditor"), disbursement_id=disbursement.pk)
    assert trace
    assert AuditEvent.objects.filter(actor_id=user("auditor").pk).exists()
