"""Applying from the phone: choose an item, the facts form generated from the item, a draft,
photos of the materials (several at once, htmx), submit; a Chinese message for every refusal,
with what the worker typed kept."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from unionaid.assistance import services
from unionaid.assistance.models import Application, ApplicationStatus, Attachment
from unionaid.audit.models import AuditEvent

from .helpers import draft, pdf, photo


@pytest.fixture
def study(make_item):
    """An item whose facts use every type the form generates."""
    return make_item(
        code="xx-jqzx", name="金秋助学", category="zhuxue",
        facts=[
            {"name": "case", "label": "情形", "type": "choice",
             "choices": ["本科新生", "专科新生"]},
            {"name": "tuition", "label": "学费", "type": "money"},
            {"name": "children", "label": "在读子女人数", "type": "int"},
            {"name": "enrolled_on", "label": "入学日期", "type": "date"},
            {"name": "boarding", "label": "是否住校", "type": "bool"},
        ],
        amount_rule={"kind": "table", "fact": "case", "rows": {"本科新生": 5000,
                                                                 "专科新生": 4000}},
    )


def apply_url(item):
    return reverse("portal:apply", args=[item.pk])


STUDY_POST = {"fact_case": "本科新生", "fact_tuition": "6500.50", "fact_children": "1",
              "fact_enrolled_on": "2025-09-01", "fact_boarding": "on", "reason": "家庭困难"}


def test_it_generates_the_form_from_the_item_facts(client, worker, study):
    client.force_login(worker)
    response = client.get(apply_url(study))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="fact_case"' in html
    assert "<option value=\"专科新生\">" in html
    assert 'name="fact_tuition"' in html
    assert 'inputmode="decimal"' in html
    assert 'name="fact_children"' in html
    assert 'inputmode="numeric"' in html
    assert 'name="fact_enrolled_on"' in html
    assert 'type="date"' in html
    assert 'name="fact_boarding"' in html
    assert 'type="checkbox"' in html


def test_it_saves_a_draft_with_typed_facts_and_records_it(client, worker, study):
    client.force_login(worker)
    response = client.post(apply_url(study), STUDY_POST)
    application = Application.objects.get(member=worker.member)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:application-detail", args=[application.pk])
    assert application.status == ApplicationStatus.DRAFT
    assert application.on_behalf is False
    assert application.facts == {"case": "本科新生", "tuition": "6500.50", "children": 1,
                                 "enrolled_on": "2025-09-01", "boarding": True}
    assert application.reason == "家庭困难"
    event = AuditEvent.objects.get(action="application.create", target_id=str(application.pk))
    assert event.actor_id == worker.pk


def test_bad_input_is_refused_in_chinese_and_kept(client, worker, study):
    client.force_login(worker)
    response = client.post(apply_url(study), {**STUDY_POST, "fact_case": "研究生",
                                              "fact_tuition": "-5"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "选择一个有效的选项" in html  # Django's Chinese message for an unknown choice
    assert "确保该值大于或等于0" in html
    assert 'value="2025-09-01"' in html
    assert "家庭困难" in html
    assert not Application.objects.exists()


def test_a_duplicate_is_refused_in_chinese_and_the_input_kept(client, worker, illness):
    draft(worker, illness)
    client.force_login(worker)
    response = client.post(apply_url(illness), {"fact_self_paid": "9000",
                                                "reason": "第二次住院"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "不能重复申请" in html
    assert 'value="9000"' in html
    assert "第二次住院" in html
    assert Application.objects.filter(member=worker.member).count() == 1


def test_an_item_that_is_closed_is_not_found(client, worker, make_item):
    closed = make_item(code="old", name="已停办项目", is_active=False)
    client.force_login(worker)
    assert client.get(apply_url(closed)).status_code == 404


def test_it_uploads_several_photos_at_once_through_htmx(client, worker, illness):
    application = draft(worker, illness)
    client.force_login(worker)
    response = client.post(
        reverse("portal:attachment-upload", args=[application.pk]),
        {"material": "诊断证明", "camera": [photo()], "files": [photo("b.jpg"), pdf()]},
        HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="application-work">')  # the fragment only
    files = Attachment.objects.filter(application=application).order_by("pk")
    assert [(a.material, a.content_type) for a in files] == [
        ("诊断证明", "image/jpeg"), ("诊断证明", "image/jpeg"), ("诊断证明", "application/pdf")]
    assert all(a.uploaded_by_id == worker.pk for a in files)
    assert AuditEvent.objects.filter(action="attachment.add",
                                     target_id=str(application.pk)).count() == 3
    assert reverse("portal:attachment-thumbnail", args=[files[0].pk]) in html
    assert "已上传 3 个文件" in html


def test_a_refused_file_is_named_and_the_others_are_kept(client, worker, illness):
    application = draft(worker, illness)
    client.force_login(worker)
    fake = pdf("virus.jpg")  # a PDF pretending to be a photo
    response = client.post(reverse("portal:attachment-upload", args=[application.pk]),
                           {"material": "诊断证明", "files": [photo(), fake]},
                           HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 400
    assert "virus.jpg：只能上传 JPG、PNG 图片或 PDF 文件" in html
    assert Attachment.objects.filter(application=application).count() == 1


def test_an_upload_without_a_file_asks_for_one(client, worker, illness):
    application = draft(worker, illness)
    client.force_login(worker)
    response = client.post(reverse("portal:attachment-upload", args=[application.pk]),
                           {"material": "诊断证明"}, follow=True)
    assert "请先拍照或选择要上传的文件" in response.content.decode()
    assert not Attachment.objects.exists()


def test_submit_without_the_required_material_is_refused_in_chinese(
        client, worker, illness, flow):
    application = draft(worker, illness)
    client.force_login(worker)
    page = client.get(reverse("portal:application-detail", args=[application.pk]))
    assert "请上传以下材料：诊断证明" in page.content.decode()  # told before trying
    response = client.post(reverse("portal:application-submit", args=[application.pk]))
    assert response.status_code == 400
    assert "请上传以下材料：诊断证明" in response.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT
    assert application.case_id is None


def test_an_ineligible_worker_is_told_why(client, worker, make_item, flow):
    item = make_item(code="kn-jt", name="多子女家庭补助", category="zhukun",
                     eligibility=[{"rule": "household_size >= 3",
                                   "message": "家庭人口须为 3 人及以上。"}])
    application = services.application_create_draft(actor=worker, member=worker.member,
                                                     item=item, facts={})
    client.force_login(worker)
    response = client.post(reverse("portal:application-submit", args=[application.pk]))
    assert response.status_code == 400
    assert "家庭人口须为 3 人及以上" in response.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT


def test_a_used_up_yearly_cap_is_refused_in_chinese(client, worker, make_item, flow):
    item = make_item(code="kn-lsjz", name="临时救助", category="zhukun", period_kind="case",
                     amount_rule={"kind": "fixed", "amount": 1000}, per_person_cap="1000")
    first = services.application_create_draft(actor=worker, member=worker.member, item=item,
                                              facts={}, period="first")
    services.application_submit(actor=worker, application=first)
    second = services.application_create_draft(actor=worker, member=worker.member, item=item,
                                               facts={}, period="second")
    client.force_login(worker)
    response = client.post(reverse("portal:application-submit", args=[second.pk]))
    assert response.status_code == 409
    assert "已达上限，不能再申请" in response.content.decode()
    second.refresh_from_db()
    assert second.status == ApplicationStatus.DRAFT


def test_submitting_starts_the_approval_and_shows_the_amount(client, worker, illness, flow):
    application = draft(worker, illness)
    services.attachment_add(actor=worker, application=application, material="诊断证明",
                            uploaded_file=pdf())
    client.force_login(worker)
    response = client.post(reverse("portal:application-submit", args=[application.pk]),
                           follow=True)
    html = response.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_REVIEW
    assert application.amount == Decimal("5000.00")
    assert application.case_id is not None
    assert AuditEvent.objects.filter(action="application.submit",
                                     target_id=str(application.pk)).exists()
    assert "申请已提交" in html
    assert "5,000.00" in html
    for line in application.calculation:
        assert line in html


def test_a_draft_can_be_corrected_before_submitting(client, worker, illness):
    application = draft(worker, illness)
    client.force_login(worker)
    url = reverse("portal:application-edit", args=[application.pk])
    assert 'value="12000.00"' in client.get(url).content.decode()
    response = client.post(url, {"fact_self_paid": "15000", "reason": "又住院一次"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.facts == {"self_paid": "15000.00"}
    assert application.reason == "又住院一次"
    assert AuditEvent.objects.filter(action="application.update").exists()


def test_a_material_can_be_removed_from_a_draft(client, worker, illness):
    application = draft(worker, illness)
    attachment = services.attachment_add(actor=worker, application=application,
                                         material="诊断证明", uploaded_file=photo())
    client.force_login(worker)
    response = client.post(reverse("portal:attachment-remove", args=[attachment.pk]))
    assert response.status_code == 302
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert AuditEvent.objects.filter(action="attachment.remove").exists()
