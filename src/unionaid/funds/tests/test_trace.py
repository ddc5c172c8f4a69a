"""The auditor's payment trace: the whole chain of one payment, scoped, every read journaled.

The application, its case and decisions are made directly with the ORM so that this test is
about the trace, not about the assistance and approval services.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import verified_login
from unionaid.approvals.models import (
    ApprovalCase,
    ApprovalFlow,
    ApprovalStep,
    ApprovalTask,
    CaseStatus,
    FlowVersion,
    TaskStatus,
)
from unionaid.assistance.models import (
    Application,
    ApplicationStatus,
    AssistanceCategory,
    AssistanceItem,
    Attachment,
)
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import NotFound
from unionaid.funds import selectors, services, subjects

from .conftest import YEAR

pytestmark = pytest.mark.django_db
KIND = "assistance.application"


@pytest.fixture
def paid_application(union, finance, source, bureau_budget, make_member, personas, people,
                     monkeypatch):
    # this test is about the trace only: the application's paid hook does nothing
    monkeypatch.setattr(subjects.subject_for(KIND), "on_paid", lambda **kwargs: None)
    member = make_member(union.team_a, bank_account=people.bank_account())
    category = AssistanceCategory.objects.create(code="living", name="助困")
    item = AssistanceItem.objects.create(code="life-aid", name="困难职工生活救助",
                                         category=category, funding_source=source,
                                         amount_rule={"kind": "fixed", "amount": 800})
    application = Application.objects.create(
        member=member, item=item, org_unit=union.team_a, period=str(YEAR),
        filed_by=personas.team_cadre, on_behalf=True, amount=Decimal("800.00"),
        calculation=["固定金额 800 元"], status=ApplicationStatus.APPROVED,
        submitted_at=timezone.now(),
    )
    flow = ApprovalFlow.objects.create(subject_kind=KIND, org_unit=union.bureau, name="生活救助")
    version = FlowVersion.objects.create(flow=flow, number=1)
    steps = [ApprovalStep.objects.create(version=version, order=n, name=name, unit_depth=depth,
                                     position_name="帮扶干事")
             for n, name, depth in ((1, "车间初审", 3), (2, "站段审核", 2))]
    case = ApprovalCase.objects.create(subject_kind=KIND, subject_id=application.pk,
                                       flow_version=version, org_unit=union.team_a,
                                       applicant=member, filed_by=personas.team_cadre,
                                       status=CaseStatus.APPROVED, current_order=2)
    for step, who, comment in ((steps[0], personas.team_cadre, "情况属实"),
                               (steps[1], personas.station_cadre, "同意")):
        ApprovalTask.objects.create(case=case, step=step, order=step.order,
                                    status=TaskStatus.APPROVED, decided_by=who,
                                    decided_at=timezone.now(), decided_as=f"{who.username}-post",
                                    comment=comment)
    application.case = case
    application.save(update_fields=["case"])
    Attachment.objects.create(application=application, material="医院诊断证明",
                              original_name="诊断.jpg", storage_path="attachments/x.jpg",
                              content_type="image/jpeg", size=1234, sha256="a" * 64,
                              uploaded_by=personas.team_cadre)
    disbursement = services.reserve(actor=personas.station_cadre, subject_kind=KIND,
                                    subject_id=application.pk, member=member,
                                    org_unit=union.team_a, funding_source=source, year=YEAR,
                                    amount=application.amount)
    batch = services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                  funding_source=source)
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="xlsx")
    services.batch_confirm(actor=finance.bureau_checker, batch=batch)
    disbursement.refresh_from_db()
    return application, disbursement


def test_it_traces_a_payment_from_application_to_confirmation(finance, bureau_budget,
                                                             paid_application):
    application, disbursement = paid_application
    trace = selectors.payment_trace(user=finance.tracer, disbursement_id=disbursement.pk)
    assert trace["application"] == application
    assert [m.material for m in trace["materials"]] == ["医院诊断证明"]
    assert [(d["step"], d["decided_as"], d["comment"]) for d in trace["decisions"]] == [
        ("车间初审", "team_cadre-post", "情况属实"), ("站段审核", "station_cadre-post", "同意")]
    assert trace["budgets"] == [bureau_budget]
    assert [e.kind for e in trace["entries"]] == ["reserve", "reserve", "pay", "pay"]
    assert trace["batch"] == disbursement.batch
    assert trace["confirmation"]["by"] == finance.bureau_checker
    assert [e.action for e in trace["events"]] == [
        "funds.reserve", "funds.batch_create", "funds.batch_export", "funds.batch_confirm"]
    read = AuditEvent.objects.get(action="funds.trace_view")
    assert (read.actor_id, read.target_id) == (finance.tracer.pk, str(disbursement.pk))


def test_it_shows_the_budget_lineage_when_money_was_allocated_down(union, finance, source,
                                                                   bureau_budget, make_member,
                                                                   reserve_for):
    station = services.budget_allocate_down(actor=finance.bureau_finance,
                                            parent_budget=bureau_budget,
                                            child_unit=union.station_a, amount=500)
    d = reserve_for(make_member(union.team_a), 1, 100)
    trace = selectors.payment_trace(user=finance.tracer, disbursement_id=d.pk)
    assert trace["budgets"] == [station, bureau_budget]
    assert trace["application"] is None
    assert trace["decisions"] == []


def test_it_refuses_the_trace_without_trace_view(finance, paid_application):
    _application, disbursement = paid_application
    with pytest.raises(NotFound):
        selectors.payment_trace(user=finance.bureau_cashier, disbursement_id=disbursement.pk)
    assert AuditEvent.objects.filter(action="access.denied",
                                     actor=finance.bureau_cashier).count() == 1
    with pytest.raises(NotFound):
        selectors.payment_trace(user=finance.tracer, disbursement_id=999999)


def test_it_renders_the_trace_page_masked_and_journaled(client, finance, paid_application):
    application, disbursement = paid_application
    client.force_login(finance.tracer)
    response = client.get(reverse("funds:trace-search"),
                          {"kind": "application", "number": application.pk})
    assert response["Location"] == reverse("funds:trace-detail", args=[disbursement.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("困难职工生活救助", "车间初审", "站段审核", "team_cadre-post", "医院诊断证明",
                 "bureau_cashier", "bureau_checker", "800.00"):
        assert text in html
    member = application.member
    assert member.id_number not in html
    assert member.bank_account not in html
    assert member.id_number_masked in html
    assert "<script>" not in html
    assert 'style="' not in html
    assert AuditEvent.objects.filter(action="funds.trace_view", actor=finance.tracer).count() == 1


def test_it_needs_the_second_factor_for_an_audit_admin_tracing(client, union, finance,
                                                                paid_application, personas):
    from conftest import make_role, make_staff
    from unionaid.accounts.models import DataScope

    role = make_role("auditor-trace", ["audit.view", "trace.view"], DataScope.ALL)
    auditor = make_staff("auditor_trace", union.bureau, [role])
    _application, disbursement = paid_application
    url = reverse("funds:trace-detail", args=[disbursement.pk])
    client.force_login(auditor)
    assert client.get(url).status_code == 302  # to the second-factor page
    assert client.get(url, follow=False)["Location"] != url
    verified_login(client, auditor)
    assert client.get(url).status_code == 200


def test_the_trace_shows_people_and_actions_in_words_not_codes_or_login_names(
        client, finance, personas, paid_application):
    # issue 10, item 13: the auditor read `funds.batch_confirm` and `bureau_checker`
    _application, disbursement = paid_application
    names = {finance.bureau_finance: ("王", "财务"), finance.bureau_cashier: ("赵", "出纳"),
             finance.bureau_checker: ("钱", "复核"), personas.team_cadre: ("孙", "干事"),
             personas.station_cadre: ("周", "站段")}
    for user, (last, first) in names.items():
        user.last_name, user.first_name = last, first
        user.save(update_fields=["last_name", "first_name"])
    client.force_login(finance.tracer)
    html = client.get(reverse("funds:trace-detail", args=[disbursement.pk])).content.decode()
    events = html.split('id="trace-events"')[1].split("</ul>")[0]
    for label in ("核定预留", "生成发放批次", "导出银行文件", "确认发放"):
        assert label in events
    assert "funds." not in events
    assert "<code>" not in events
    without_posts = html
    for user in names:  # the test posts are named after their holders: leave them out
        without_posts = without_posts.replace(f"{user.username}-post", "")
    for user in names:
        assert user.username not in without_posts, user.username
    checker = f"{finance.bureau_checker.display_name}（测试铁路局工会·bureau_checker-post）"
    assert checker in events
    assert checker in html.split('id="trace-batch-confirmed"')[1].split("</dd>")[0]
    maker = f"{finance.bureau_finance.display_name}（测试铁路局工会·bureau_finance-post）"
    assert maker in html.split('id="trace-batch-created"')[1].split("</dd>")[0]

    api = client.get(f"/api/v1/funds/disbursements/{disbursement.pk}/trace")
    assert api.status_code == 200, api.content
    events = api.json()["events"]
    assert "确认发放" in [e["action_label"] for e in events]
    assert finance.bureau_checker.display_name in [e["actor"] for e in events]
    assert "bureau_checker" not in [e["actor"] for e in events]
