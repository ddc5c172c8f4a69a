"""/api/v1/assistance: catalog, estimate, applications and materials, with the page rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalCase
from unionaid.assistance import services
from unionaid.assistance.models import Application, ApplicationStatus, Attachment
from unionaid.assistance.tests.api_support import (
    EXE_BYTES,
    PDF_BYTES,
    fetch,
    jpeg_bytes,
    pdf_upload,
    pending_task,
    upload,
)
from unionaid.audit.models import AuditEvent

NOT_FOUND = {"code": "not_found", "message": "记录不存在或无权查看。"}


def _ids(response):
    return [item["id"] for item in response.json()["items"]]


# -- catalog and estimate -----------------------------------------------------------------------

def test_the_catalog_lists_open_items_and_filters_by_category(worker, make_item, as_token):
    make_item()
    make_item(code="zx-xs", name="金秋助学", category="zhuxue", facts=[], eligibility=[],
              amount_rule={"kind": "fixed", "amount": 3000}, required_materials=[])
    make_item(code="old", name="已停用项目", is_active=False)
    api = as_token(worker)
    everything = api.get("/assistance/items")
    assert everything.status_code == 200
    assert [i["code"] for i in everything.json()["items"]] == ["yl-dbjz", "zx-xs"]
    education = api.get("/assistance/items?category=zhuxue").json()["items"]
    assert [(i["code"], i["category_name"]) for i in education] == [("zx-xs", "助学")]


def test_item_detail_shows_what_to_state_conditions_and_materials(worker, illness, as_token):
    api = as_token(worker)
    body = api.get("/assistance/items/yl-dbjz").json()
    assert body["facts"][0]["name"] == "self_paid"
    assert body["conditions"] == ["仅限在籍工会会员申请。"]
    assert body["required_materials"][0] == {"name": "诊断证明", "required": True}
    assert body["amount_rule"]["kind"] == "share"
    missing = api.get("/assistance/items/no-such-item")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_estimate_gives_the_amount_its_calculation_and_eligibility(
        worker, staff, illness, new_worker, union, as_session):
    mine = as_session(worker).post("/assistance/items/yl-dbjz/estimate",
                                   {"facts": {"self_paid": "12000"}})
    assert mine.status_code == 200
    body = mine.json()
    assert (body["member_id"], body["amount"], body["eligible"]) == (
        worker.member_id, "5000.00", True)
    assert body["problems"] == []
    assert any("50%" in line for line in body["calculation"])
    # a cadre estimates for a worker in their scope; out of scope is "not found"
    retired = new_worker(union.team_a, membership_status="retired")
    cadre = as_session(staff.apply_cadre).post(
        f"/assistance/items/yl-dbjz/estimate?member_id={retired.member_id}",
        {"facts": {"self_paid": "12000"}})
    assert cadre.json()["eligible"] is False
    assert cadre.json()["problems"] == ["仅限在籍工会会员申请。"]
    outside = as_session(staff.other_apply).post(
        f"/assistance/items/yl-dbjz/estimate?member_id={worker.member_id}", {"facts": {}})
    assert outside.status_code == 404
    assert outside.json() == NOT_FOUND
    assert not Application.objects.exists()


# -- filing, uploading, submitting --------------------------------------------------------------

def test_a_worker_files_uploads_and_submits_their_own_application(
        worker, illness, flow, budget, as_token):
    api = as_token(worker)
    created = api.post("/assistance/applications",
                       {"item_code": "yl-dbjz", "facts": {"self_paid": "6000"}, "reason": "住院"})
    assert created.status_code == 201, created.content
    app_id = created.json()["id"]
    assert created.json()["on_behalf"] is False
    patched = api.patch(f"/assistance/applications/{app_id}", {"facts": {"self_paid": "12000"}})
    assert patched.json()["facts"] == {"self_paid": "12000.00"}
    uploaded = upload(api, app_id, "诊断.pdf", PDF_BYTES)
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["content_type"] == "application/pdf"
    submitted = api.post(f"/assistance/applications/{app_id}/submit", {})
    assert submitted.status_code == 200, submitted.content
    assert (submitted.json()["status"], submitted.json()["amount"]) == ("in_review", "5000.00")

    application = Application.objects.get(pk=app_id)
    assert application.status == ApplicationStatus.IN_REVIEW
    assert application.filed_by == worker
    assert not application.on_behalf
    assert ApprovalCase.objects.filter(pk=application.case_id, subject_id=app_id).exists()
    actions = set(AuditEvent.objects.filter(target_id=str(app_id)).values_list("action",
                                                                               flat=True))
    assert {"application.create", "application.update", "attachment.add",
            "application.submit"} <= actions


def test_a_cadre_files_on_behalf_only_within_their_scope(
        worker, staff, personas, illness, as_session):
    inside = as_session(staff.apply_cadre).post(
        "/assistance/applications", {"item_code": "yl-dbjz", "member_id": worker.member_id})
    assert inside.status_code == 201
    application = Application.objects.get(pk=inside.json()["id"])
    assert (application.on_behalf, application.filed_by) == (True, staff.apply_cadre)
    application.delete()
    for cadre in (staff.other_apply, personas.station_cadre):  # other station; no apply right
        refused = as_session(cadre).post(
            "/assistance/applications", {"item_code": "yl-dbjz", "member_id": worker.member_id})
        assert refused.status_code == 404
        assert refused.json() == NOT_FOUND
    assert not Application.objects.exists()


def _draft(worker, item, **kw):
    return services.application_create_draft(actor=worker, member=worker.member, item=item,
                                             facts={"self_paid": "12000"}, **kw)


def test_submit_refuses_missing_materials_with_code_and_chinese_message(
        worker, illness, flow, budget, as_session):
    application = _draft(worker, illness)
    response = as_session(worker).post(f"/assistance/applications/{application.pk}/submit", {})
    assert response.status_code == 400
    assert response.json()["code"] == "materials_missing"
    assert "请上传以下材料：诊断证明" in response.json()["message"]
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT
    assert application.case_id is None


def test_submit_refuses_an_ineligible_member(new_worker, union, make_item, flow, budget,
                                             as_session):
    item = make_item(eligibility=[{"rule": "in_archive", "message": "仅限已建档困难职工申请。"}])
    worker = new_worker(union.team_a)
    application = _draft(worker, item)
    services.attachment_add(actor=worker, application=application, material="诊断证明",
                            uploaded_file=pdf_upload())
    response = as_session(worker).post(f"/assistance/applications/{application.pk}/submit", {})
    assert response.status_code == 400
    assert response.json()["code"] == "not_eligible"
    assert "仅限已建档困难职工申请" in response.json()["message"]
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.DRAFT


def test_submit_refuses_a_used_up_yearly_cap_and_a_duplicate(
        worker, make_item, flow, budget, as_session):
    item = make_item(period_kind="case", per_person_cap=5000)
    api = as_session(worker)
    for period in ("first", "second"):
        created = api.post("/assistance/applications", {
            "item_code": item.code, "facts": {"self_paid": "12000"}, "period": period})
        assert created.status_code == 201
        upload(api, created.json()["id"], "a.pdf", PDF_BYTES)
        response = api.post(f"/assistance/applications/{created.json()['id']}/submit", {})
    assert response.status_code == 409
    assert response.json()["code"] == "cap_reached"
    assert "已达上限" in response.json()["message"]
    duplicate = api.post("/assistance/applications", {
        "item_code": item.code, "facts": {"self_paid": "12000"}, "period": "first"})
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_application"
    assert "不能重复申请" in duplicate.json()["message"]
    assert list(Application.objects.order_by("period").values_list("period", "status")) == [
        ("first", ApplicationStatus.IN_REVIEW), ("second", ApplicationStatus.DRAFT)]


# -- materials ----------------------------------------------------------------------------------

def test_upload_rejects_a_renamed_program_by_its_content(worker, illness, as_token, settings):
    application = _draft(worker, illness)
    api = as_token(worker)
    response = upload(api, application.pk, "诊断证明.jpg", EXE_BYTES, content_type="image/jpeg")
    assert response.status_code == 400
    assert response.json()["code"] == "file_type"
    assert "按文件内容识别" in response.json()["message"]
    assert not Attachment.objects.exists()
    assert [p for p in settings.PRIVATE_MEDIA_ROOT.rglob("*") if p.is_file()] == []


def test_materials_download_only_for_who_may_see_them(worker, illness, new_worker, union,
                                                      staff, as_session):
    application = _draft(worker, illness)
    api = as_session(worker)
    photo = upload(api, application.pk, "photo.jpg", jpeg_bytes(), content_type="image/jpeg")
    assert photo.status_code == 201
    detail = api.get(f"/assistance/applications/{application.pk}").json()
    files = detail["attachments"][0]
    assert detail["materials"][0] == {"name": "诊断证明", "required": True, "hint": "",
                                      "uploaded": True}
    own = fetch(api, files["url"])
    assert own.status_code == 200
    assert own["Content-Type"] == "image/jpeg"
    assert own["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in own["Cache-Control"]
    body = b"".join(own.streaming_content)
    assert body.startswith(b"\xff\xd8")
    assert b"GPS" not in body
    assert fetch(api, files["thumbnail_url"]).status_code == 200
    stranger = fetch(as_session(new_worker(union.team_a)), files["url"])
    assert stranger.status_code == 404
    assert stranger.json() == NOT_FOUND
    assert fetch(as_session(staff.other_apply), files["url"]).status_code == 404
    # a cadre in scope may read it, and the read is journaled
    assert fetch(as_session(staff.apply_cadre), files["url"]).status_code == 200
    assert AuditEvent.objects.filter(action="attachment.view", actor=staff.apply_cadre).exists()


# -- who sees what ------------------------------------------------------------------------------

def test_a_worker_sees_only_their_own_applications(worker, new_worker, union, illness,
                                                   as_token):
    mine = _draft(worker, illness)
    other_worker = new_worker(union.team_a)
    theirs = _draft(other_worker, illness)
    api = as_token(worker)
    assert _ids(api.get("/assistance/applications")) == [mine.pk]
    for response in (
        api.get(f"/assistance/applications/{theirs.pk}"),
        api.patch(f"/assistance/applications/{theirs.pk}", {"reason": "改"}),
        api.post(f"/assistance/applications/{theirs.pk}/submit", {}),
        api.post(f"/assistance/applications/{theirs.pk}/withdraw", {}),
        upload(api, theirs.pk, "a.pdf", PDF_BYTES),
    ):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    theirs.refresh_from_db()
    assert theirs.reason == ""
    assert theirs.status == ApplicationStatus.DRAFT
    assert not theirs.attachments.exists()
    assert AuditEvent.objects.filter(action="access.denied", actor=worker,
                                     target_id=str(theirs.pk)).exists()


def test_cadres_list_applications_in_their_scope_with_filters(
        worker, new_worker, union, staff, illness, make_item, as_session):
    mine = _draft(worker, illness)
    other_station = _draft(new_worker(union.team_b), illness)
    api = as_session(staff.apply_cadre)
    assert _ids(api.get("/assistance/applications")) == [mine.pk]
    assert _ids(as_session(staff.other_apply).get("/assistance/applications")) == [
        other_station.pk]
    assert _ids(api.get("/assistance/applications?status=in_review")) == []
    assert _ids(api.get(f"/assistance/applications?member_id={worker.member_id}")) == [mine.pk]
    assert api.get(f"/assistance/applications?unit_id={union.station_b.pk}").status_code == 404


def test_detail_shows_amount_calculation_and_a_timeline_without_approver_names(
        worker, staff, submitted, as_session):
    application = submitted(worker, worker.member)
    approvals.task_decide(actor=staff.apply_cadre, task=pending_task(application),
                          decision="approve", comment="属实")
    body = as_session(worker).get(f"/assistance/applications/{application.pk}").json()
    assert (body["status"], body["amount"]) == ("in_review", "5000.00")
    assert body["calculation"][-1] == "核定金额：5,000.00 元。"
    steps = [(row["step"], row["status"]) for row in body["timeline"]]
    assert steps == [("站段审核", "approved"), ("主席审批", "pending")]
    first = body["timeline"][0]
    assert first["decided_as"] == "甲车务段·帮扶干事"
    assert first["comment"] == "属实"
    assert first["decided_by"] == ""  # the worker sees the post, not the person
    staff_view = as_session(staff.apply_cadre).get(
        f"/assistance/applications/{application.pk}").json()
    assert staff_view["timeline"][0]["decided_by"] == "apply_cadre"


def test_returned_application_gets_more_material_and_is_resubmitted(
        worker, staff, submitted, as_token):
    application = submitted(worker, worker.member)
    first_case = application.case_id
    approvals.task_decide(actor=staff.apply_cadre, task=pending_task(application),
                          decision="return", comment="请补充住院发票")
    api = as_token(worker)
    detail = api.get(f"/assistance/applications/{application.pk}").json()
    assert detail["status"] == "returned"
    assert detail["timeline"][0]["comment"] == "请补充住院发票"
    assert upload(api, application.pk, "发票.pdf", PDF_BYTES, material="其他材料"
                  ).status_code == 201
    response = api.post(f"/assistance/applications/{application.pk}/resubmit", {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_review"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_REVIEW
    assert application.case_id != first_case
    assert application.attachments.count() == 2


def test_a_worker_withdraws_an_application_in_review(worker, submitted, as_session):
    application = submitted(worker, worker.member)
    response = as_session(worker).post(f"/assistance/applications/{application.pk}/withdraw",
                                       {"reason": "已解决"})
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert application.case.status == "withdrawn"
    again = as_session(worker).post(f"/assistance/applications/{application.pk}/withdraw", {})
    assert again.status_code == 409
    assert again.json()["code"] == "not_withdrawable"


@pytest.mark.parametrize("self_paid", ["abc", "-5"])
def test_invalid_facts_are_refused_with_the_fact_named(worker, illness, as_session, self_paid):
    response = as_session(worker).post("/assistance/applications", {
        "item_code": "yl-dbjz", "facts": {"self_paid": self_paid}})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_facts"
    assert "自付医疗费用" in response.json()["fields"]["self_paid"]
    assert not Application.objects.exists()


def test_amounts_are_decimal_strings(worker, illness, as_session):
    body = as_session(worker).post("/assistance/items/yl-dbjz/estimate",
                                   {"facts": {"self_paid": "2100.10"}}).json()
    assert Decimal(body["amount"]) == Decimal("50.05")


def test_search_by_id_number_or_phone_only_by_post(staff, union, new_worker, submitted,
                                                   as_token):
    """An ID number or phone in the URL is refused and not run (the access log keeps URLs); the
    POST search takes it in the body (issue 10, item 4)."""
    mine, theirs = new_worker(union.team_a), new_worker(union.team_a)
    application = submitted(staff.apply_cadre, mine.member)
    submitted(staff.apply_cadre, theirs.member)
    api = as_token(staff.apply_cadre)
    refused = api.get(f"/assistance/applications?q={mine.member.id_number}")
    assert refused.status_code == 400
    assert refused.json()["code"] == "use_post_search"
    assert "/api/v1/assistance/applications/search" in refused.json()["message"]
    for q in (mine.member.id_number, mine.member.phone):
        found = api.post("/assistance/applications/search", {"q": q})
        assert found.status_code == 200, found.content
        assert [a["id"] for a in found.json()["items"]] == [application.pk]
    # out of scope stays out of scope
    outside = as_token(staff.other_apply).post("/assistance/applications/search",
                                               {"q": mine.member.id_number})
    assert outside.json()["items"] == []
