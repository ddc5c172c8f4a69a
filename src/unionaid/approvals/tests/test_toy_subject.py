"""The engine knows no domain: a test-only app (``toyapp``, installed by config/settings_test.py)
registers a toy subject in its ``ready()`` and drives the engine end to end — the flow editor,
a case, the to-do list, the task page, every decision, the outcome hook — through the engine's
own pages, without any engine code knowing it. Also: a subject missing a member is refused at
registration, and a kind nobody registered is not found (never a default permission)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from conftest import make_role, make_staff, verified_login
from unionaid.accounts import services as account_services
from unionaid.approvals import registry
from unionaid.approvals.models import ApprovalFlow, CaseStatus, TaskStatus
from unionaid.approvals.tests.toyapp.models import ToyRequest
from unionaid.approvals.tests.toyapp.subject import KIND as TOY
from unionaid.approvals.tests.toyapp.subject import ToySubject, toy_submit
from unionaid.audit.models import AuditEvent
from unionaid.notifications.models import Notification

from .conftest import FakeSubject, hold, new_user
from .test_views_flows import step_data
from .test_views_todo import TODO, pending, row_html, task_url

LIST, EDIT = "/approvals/flows/", "/approvals/flows/edit/"


def test_a_toy_domain_goes_through_the_engine_end_to_end(client, union, make_member):
    subject = registry.subject_handler(TOY)  # the toy app's ready() registered it
    approver = make_role("toy_approver", ["org.view", "members.view"])
    station_post = account_services.position_create(
        actor=None, org_unit=union.station_a, name="玩具干事", roles=[approver])
    director_post = account_services.position_create(
        actor=None, org_unit=union.bureau, name="玩具主任", roles=[approver])
    officer, director = new_user("toy_officer"), new_user("toy_director")
    hold(officer, station_post)
    hold(director, director_post)
    admin = make_staff("toy_admin", union.bureau,
                       [make_role("toy_flows", ["org.view", "org.manage"])])

    # the flow editor offers the toy kind to whoever has its flow permission, in its words
    verified_login(client, admin)
    page = client.get(LIST, {"kind": TOY})
    html = page.content.decode()
    assert page.status_code == 200
    assert "玩具申请审批流程" in html
    assert "玩具申请的流程按单位设置。" in html
    edit = f"{EDIT}?kind={TOY}&unit={union.bureau.pk}"
    form = client.get(edit).content.decode()
    assert "<code>size &lt; 3</code>" in form  # the toy's fact example
    assert 'name="item"' not in form  # per unit only: subject_keys() is None
    response = client.post(edit, {"name": "玩具流程", **step_data([
        {"name": "站段审核", "position_name": "玩具干事", "unit_depth": "2"},
        {"name": "小件免审", "position_name": "玩具主任", "unit_depth": "1",
         "skip_condition": "size < 3"},
        {"name": "主任审批", "position_name": "玩具主任", "unit_depth": "1"},
    ])})
    assert response.status_code == 302
    flow = ApprovalFlow.objects.get(subject_kind=TOY, org_unit=union.bureau)
    assert flow.versions.get(is_current=True).steps.count() == 3
    bad = client.post(edit, {"name": "玩具流程", **step_data([
        {"name": "审核", "position_name": "玩具干事", "skip_condition": "colour == 'red'"}])})
    assert bad.status_code == 400  # the toy's fact_names: "colour" is not a toy fact

    # a case starts on it; the engine tells the post's holder in the toy's words
    toys = [ToyRequest.objects.create(title=title) for title in ("小熊", "木马")]
    cases = [toy_submit(actor=admin, toy=toy, org_unit=union.team_a,
                        applicant=make_member(union.team_a), size=2) for toy in toys]
    note = Notification.objects.get(recipient=officer, title="玩具待办：玩具申请 · 小熊")
    assert note.body == "请办理“站段审核”。"
    assert note.link == task_url(pending(cases[0]))
    assert not Notification.objects.filter(recipient=director).exists()

    # the to-do list labels every toy row with one labels() call
    client.force_login(officer)
    subject.label_calls.clear()
    html = client.get(TODO).content.decode()
    assert "玩具申请 · 小熊" in row_html(html, pending(cases[0]))
    assert "玩具申请 · 木马" in row_html(html, pending(cases[1]))
    assert subject.label_calls == [sorted(toy.pk for toy in toys)]

    # the task page shows the toy's panel and link
    first = pending(cases[0])
    page = client.get(task_url(first))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="toy-panel"' in html
    assert "玩具申请：小熊（in_review）" in html
    assert f'href="/toy/{toys[0].pk}/"' in html
    assert "查看玩具" in html

    # decide every step: the size-2 toy skips 小件免审, the director approves last
    assert client.post(task_url(first), {"decision": "approve"}).status_code == 302
    last = pending(cases[0])
    assert last.step.name == "主任审批"
    assert Notification.objects.filter(recipient=director,
                                       title="玩具待办：玩具申请 · 小熊").count() == 1
    client.force_login(director)
    assert client.post(task_url(last), {"decision": "approve"}).status_code == 302

    cases[0].refresh_from_db()
    toys[0].refresh_from_db()
    assert cases[0].status == CaseStatus.APPROVED
    assert toys[0].status == "approved"
    assert toys[0].outcomes == ["started:1", "before_approve:1", "started:3",
                                "before_approve:3", "approved"]
    assert [t.status for t in cases[0].tasks.order_by("order")] == [
        TaskStatus.APPROVED, TaskStatus.SKIPPED, TaskStatus.APPROVED]
    assert AuditEvent.objects.filter(action="approval.case_approved",
                                     target_id=str(cases[0].pk)).exists()

    # and a rejection reaches the toy's on_rejected
    client.force_login(officer)
    other = pending(cases[1])
    assert client.post(task_url(other), {"decision": "reject", "comment": "不符合", "confirmed": "1"}) \
        .status_code == 302
    toys[1].refresh_from_db()
    assert (toys[1].status, toys[1].outcomes[-1]) == ("rejected", "rejected")


class _Incomplete:
    kind = "test.incomplete"
    title = "残缺"
    flow_permission = "org.manage"
    flow_editor = None
    link_text = "查看"

    def label(self, subject_id):
        return ""


def test_registering_a_subject_missing_a_member_fails_and_says_which():
    with pytest.raises(ImproperlyConfigured) as info:
        registry.register_subject(_Incomplete())
    message = str(info.value)
    assert "test.incomplete" in message
    assert "view_permission" in message  # no default permission is assumed
    for member in ("on_approved", "labels", "task_panel", "notification_text"):
        assert member in message
    assert not registry.has_subject("test.incomplete")


def test_registering_a_subject_with_an_unknown_permission_fails():
    subject = FakeSubject(kind="test.typo", view_permission="assistance.veiw")
    with pytest.raises(ImproperlyConfigured, match=r"assistance\.veiw"):
        registry.register_subject(subject)
    assert not registry.has_subject("test.typo")


def test_a_second_subject_for_a_registered_kind_is_refused():
    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        registry.register_subject(ToySubject())


def test_a_task_of_a_kind_nobody_registers_is_not_found_even_for_its_decider(client, chain):
    task = pending(chain.start())
    client.force_login(chain.station_officer)
    assert client.get(task_url(task)).status_code == 200
    assert client.get(f"/api/v1/approvals/tasks/{task.pk}").status_code == 200
    assert client.get(f"/api/v1/approvals/cases/{task.case_id}/timeline").status_code == 200

    registry.unregister_subject(chain.subject.kind)  # e.g. its app was removed

    assert client.get(task_url(task)).status_code == 404
    assert client.get(f"/api/v1/approvals/tasks/{task.pk}").status_code == 404
    assert client.get(f"/api/v1/approvals/cases/{task.case_id}/timeline").status_code == 404
    denied = AuditEvent.objects.filter(action="access.denied", actor=chain.station_officer)
    assert {e.target_type for e in denied} == {"approvals.approvaltask", "approvals.approvalcase"}


def test_the_flow_editor_of_an_unknown_kind_is_404(client, union):
    admin = make_staff("flows_admin", union.bureau, [make_role(
        "all_flows", ["org.view", "org.manage", "assistance.catalog", "archive.config"])])
    verified_login(client, admin)
    assert client.get(LIST, {"kind": TOY}).status_code == 200
    for kind in ("nothing.here", "assistance.app"):
        assert client.get(LIST, {"kind": kind}).status_code == 404
        assert client.get(EDIT, {"kind": kind, "unit": union.bureau.pk}).status_code == 404
