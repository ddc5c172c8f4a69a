"""Following an application (进度查询): the timeline of each step, a return with its comment
then upload and resubmit, withdraw while in review; only ever one's own applications."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalCase, CaseStatus, TaskStatus
from unionaid.assistance import services
from unionaid.assistance.models import ApplicationStatus, Attachment
from unionaid.audit.models import AuditEvent
from unionaid.notifications.models import Notification

from .helpers import pdf, pending_task, photo, submitted


def detail(client, application):
    return client.get(reverse("portal:application-detail", args=[application.pk]))


def timeline_rows(html: str) -> list[tuple[str, str]]:
    """(state, visible text) of each step of the first (current) timeline on the page."""
    first = html.split('<ol class="portal-timeline', 2)[1]
    rows = re.findall(r'<li class="timeline-step timeline-(\w+)">(.*?)</li>', first, re.S)
    return [(state, " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split()))
            for state, body in rows]


def test_the_timeline_shows_each_step_in_order_with_its_status(
        client, worker, approvers, illness, flow, budget):
    application = submitted(worker, illness)  # 12,000 self-paid → 5,000: both steps run
    approvals.task_decide(actor=approvers.station, task=pending_task(application),
                          decision="approve", comment="情况属实")
    client.force_login(worker)
    html = detail(client, application).content.decode()
    (state_one, step_one), (state_two, step_two) = timeline_rows(html)
    assert state_one == "done"
    assert step_one.startswith("1. 站段审核 同意 甲车务段·帮扶干事")
    assert "意见：情况属实" in step_one
    assert state_two == "current"
    assert step_two.startswith("2. 主席审批 办理中 测试铁路局工会·主席")
    assert "办理时限" in step_two
    assert "王审批" not in html  # the approver appears as their post, never by name


def test_a_skipped_step_is_shown_as_skipped_with_its_reason(
        client, worker, approvers, illness, flow, budget):
    application = submitted(worker, illness, self_paid="5000")  # → 1,500: chairman skipped
    approvals.task_decide(actor=approvers.station, task=pending_task(application),
                          decision="approve")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.case.tasks.get(order=2).status == TaskStatus.SKIPPED
    client.force_login(worker)
    html = detail(client, application).content.decode()
    rows = timeline_rows(html)
    assert [state for state, _ in rows] == ["done", "skipped"]
    assert rows[1][1].startswith("2. 主席审批 已跳过")
    assert "跳过原因：满足跳过条件" in rows[1][1]
    assert "amount" not in rows[1][1]  # the rule text is for admins, not the worker
    assert "已核准待发放" in html
    assert "1,500.00" in html


def test_a_returned_application_shows_the_comment_then_takes_material_and_resubmits(
        client, worker, approvers, illness, flow, budget):
    application = submitted(worker, illness)
    old_case = application.case
    approvals.task_decide(actor=approvers.station, task=pending_task(application),
                          decision="return", comment="请补充医保结算单")
    client.force_login(worker)
    page = detail(client, application).content.decode()
    assert "申请被退回" in page
    assert "请补充医保结算单" in page
    assert f'action="/me/applications/{application.pk}/resubmit/"' in page

    upload = client.post(reverse("portal:attachment-upload", args=[application.pk]),
                         {"material": "其他材料", "camera": [photo("结算单.jpg")]},
                         HTTP_HX_REQUEST="true")
    assert upload.status_code == 200
    assert Attachment.objects.filter(application=application, material="其他材料").count() == 1

    response = client.post(reverse("portal:application-resubmit", args=[application.pk]),
                           {"reason": "已补充医保结算单"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_REVIEW
    assert application.reason == "已补充医保结算单"
    assert application.case_id != old_case.pk
    assert ApprovalCase.objects.get(pk=old_case.pk).status == CaseStatus.RETURNED
    assert AuditEvent.objects.filter(action="application.resubmit",
                                     target_id=str(application.pk)).exists()
    html = detail(client, application).content.decode()
    assert "此前的审批记录" in html
    assert "请补充医保结算单" in html


def test_resubmitting_an_application_that_was_not_returned_is_refused_in_chinese(
        client, worker, illness, flow):
    application = submitted(worker, illness)
    client.force_login(worker)
    response = client.post(reverse("portal:application-resubmit", args=[application.pk]),
                           {"reason": "再交一次"})
    assert response.status_code == 409
    assert "只有退回补充材料的申请可以重新提交" in response.content.decode()


def test_a_worker_may_withdraw_while_in_review(client, worker, approvers, illness, flow):
    application = submitted(worker, illness)
    task = pending_task(application)
    client.force_login(worker)
    response = client.post(reverse("portal:application-withdraw", args=[application.pk]))
    assert response.status_code == 302
    application.refresh_from_db()
    task.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert task.status == TaskStatus.CANCELLED
    assert AuditEvent.objects.filter(action="application.withdraw",
                                     target_id=str(application.pk)).exists()
    html = detail(client, application).content.decode()
    assert "已撤回" in html
    assert "撤回申请</button>" not in html


def test_a_worker_sees_only_their_own_applications(client, worker, other_worker, illness,
                                                   flow):
    mine = submitted(worker, illness)
    theirs = submitted(other_worker, illness)
    attachment = theirs.attachments.get()
    client.force_login(worker)
    home = client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:application-detail", args=[mine.pk]) in home
    assert reverse("portal:application-detail", args=[theirs.pk]) not in home
    listing = client.get(reverse("portal:application-list")).content.decode()
    assert reverse("portal:application-detail", args=[theirs.pk]) not in listing
    for name in ("application-detail", "application-edit", "application-withdraw",
                 "application-submit", "application-resubmit", "attachment-upload"):
        method = client.get if name in ("application-detail", "application-edit") else client.post
        assert method(reverse(f"portal:{name}", args=[theirs.pk])).status_code == 404, name
    for name in ("attachment-file", "attachment-thumbnail", "attachment-remove"):
        method = client.post if name == "attachment-remove" else client.get
        assert method(reverse(f"portal:{name}", args=[attachment.pk])).status_code == 404, name
    theirs.refresh_from_db()
    assert theirs.status == ApplicationStatus.IN_REVIEW
    assert Attachment.objects.filter(pk=attachment.pk).exists()
    assert AuditEvent.objects.filter(action="access.denied", actor=worker,
                                     target_id=str(theirs.pk)).exists()


def test_removing_another_workers_material_is_404_and_journaled(client, worker, other_worker,
                                                                 illness, flow):
    theirs = submitted(other_worker, illness)
    attachment = theirs.attachments.get()
    client.force_login(worker)
    url = reverse("portal:attachment-remove", args=[attachment.pk])
    assert client.post(url).status_code == 404
    assert Attachment.objects.filter(pk=attachment.pk).exists()
    denial = AuditEvent.objects.get(action="access.denied", actor=worker)
    assert (denial.target_type, denial.target_id, denial.changes) == (
        "assistance.attachment", str(attachment.pk), {"attempted": "portal.attachment"})


def test_a_worker_opens_their_own_materials(client, worker, illness):
    application = services.application_create_draft(actor=worker, member=worker.member,
                                                     item=illness, facts={"self_paid": "9000"})
    image = services.attachment_add(actor=worker, application=application, material="诊断证明",
                                    uploaded_file=photo())
    scan = services.attachment_add(actor=worker, application=application, material="身份证",
                                   uploaded_file=pdf())
    client.force_login(worker)
    thumb = client.get(reverse("portal:attachment-thumbnail", args=[image.pk]))
    assert thumb.status_code == 200
    assert thumb["Content-Type"] == "image/jpeg"
    assert thumb["Cache-Control"].startswith("private, no-store")
    assert "sandbox" in thumb["Content-Security-Policy"]
    assert b"".join(thumb.streaming_content)[:2] == b"\xff\xd8"
    full = client.get(reverse("portal:attachment-file", args=[scan.pk]))
    assert full["Content-Type"] == "application/pdf"
    assert b"".join(full.streaming_content).startswith(b"%PDF-")
    assert client.get(reverse("portal:attachment-thumbnail", args=[scan.pk])).status_code == 404


def test_the_worker_is_notified_with_a_link_to_the_application(
        client, worker, approvers, illness, flow, budget):
    application = submitted(worker, illness)
    approvals.task_decide(actor=approvers.station, task=pending_task(application),
                          decision="return", comment="照片不清楚")
    note = Notification.objects.filter(recipient=worker).latest("pk")
    assert note.title == "帮扶申请需补充材料"
    assert note.link == reverse("portal:application-detail", args=[application.pk])
    client.force_login(worker)
    response = client.post(reverse("notifications:open", args=[note.pk]))
    assert response["Location"] == note.link
    note.refresh_from_db()
    assert note.read_at is not None


@pytest.mark.parametrize("name", ["portal:home", "portal:application-list"])
def test_portal_pages_do_not_exist_for_staff_without_a_member_record(client, personas, name):
    client.force_login(personas.station_cadre)
    assert client.get(reverse(name)).status_code == 404
