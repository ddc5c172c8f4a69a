# The fixtures come from helpers_records (no conftest of our own), hence F811 as parameters.
# ruff: noqa: F811
"""The archive's record pages through the HTTP client: list, detail with the calculation and
the notice, enrolment with its preview, objections, exit, close, re-check; scope."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import verified_login
from unionaid.archive.models import HardshipRecord, Objection, RecordStatus
from unionaid.archive.services.common import EXIT_KIND
from unionaid.archive.services.records import record_enrol
from unionaid.archive.tests.helpers_records import (  # noqa: F401 (fixtures)
    approve_all,
    archive,
    at,
    clock,
    pending_task,
    people,
    record_profile,
    through_workshop,
)
from unionaid.audit.models import AuditEvent
from unionaid.visits.models import FollowUp


@pytest.fixture
def member(archive, make_member):
    return make_member(archive.union.team_a, name="张建华")


@pytest.fixture
def pending(archive, member):
    record_profile(archive, member, monthly="4000")
    return record_enrol(actor=archive.filer, member=member, reason="配偶长期患病")


@pytest.fixture
def active(archive, pending, clock):
    return approve_all(archive, pending, clock)


def login(client, user):
    return verified_login(client, user)


def test_list_shows_records_in_scope(client, archive, pending):
    response = login(client, archive.filer).get(reverse("archive:record-list"))
    assert response.status_code == 200
    assert "张建华" in response.content.decode()
    other = login(client, archive.other_officer).get(reverse("archive:record-list"))
    assert "张建华" not in other.content.decode()
    page = response.content.decode()  # the archive's other pages are one tap away
    for name in ("archive:watch", "archive:recheck-due", "archive:ledgers"):
        assert reverse(name) in page


def test_list_filters_by_category_and_status(client, archive, pending):
    url = reverse("archive:record-list")
    page = login(client, archive.filer)
    assert "张建华" in page.get(url, {"category": "relative"}).content.decode()
    assert "张建华" not in page.get(url, {"category": "deep"}).content.decode()
    assert "张建华" not in page.get(url, {"status": "active"}).content.decode()
    assert "张建华" not in page.get(url, {"recheck": "on"}).content.decode()


def test_detail_shows_the_calculation_and_the_notice_end(client, archive, pending, clock):
    clock.move_to(at("2026-09-30", 10))
    through_workshop(archive, pending)
    response = login(client, archive.filer).get(
        reverse("archive:record-detail", args=[pending.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert ("人均月收入 =（家庭年可支配收入 48,000.00 − 刚性支出 12,000.00）÷ 12 ÷ 3 人 "
            "= 1,000.00 元") in body
    assert "1,000.00 ≥ 800.00 × 1.00；1,000.00 &lt; 800.00 × 2.00 → 相对困难" in body
    assert "公示至 2026-10-13" in body
    assert 'id="objection-form"' in body
    assert pending.member.id_number not in body  # the ID number is masked


def test_out_of_scope_cadre_gets_404_on_every_record_page(client, archive, pending):
    page = login(client, archive.other_officer)
    for name in ("archive:record-detail", "archive:record-exit", "archive:record-close",
                 "archive:record-recheck"):
        assert page.get(reverse(name, args=[pending.pk])).status_code == 404
    assert page.post(reverse("archive:objection-create", args=[pending.pk]),
                     {"content": "x"}).status_code == 404
    assert page.get(reverse("archive:record-enrol", args=[pending.member_id])).status_code == 404
    assert AuditEvent.objects.filter(action="access.denied",
                                     target_type="archive.hardshiprecord").exists()


def test_a_user_without_archive_rights_gets_404(client, archive, pending, personas):
    response = login(client, personas.security_admin).get(reverse("archive:record-list"))
    assert response.status_code == 404


def test_enrol_page_previews_the_calculation_then_enrols(client, archive, make_member):
    member = make_member(archive.union.team_a)
    profile = record_profile(archive, member, monthly="2500")
    page = login(client, archive.filer)
    url = reverse("archive:record-enrol", args=[member.pk])
    preview = page.get(url)
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "低保标准 800.00 元；500.00 &lt; 800.00 × 1.00 → 深度困难" in body
    response = page.post(url, {"profile": profile.pk, "reason": "因病致困"})
    record = HardshipRecord.objects.get(member=member)
    assert response.status_code == 302
    assert response["Location"] == reverse("archive:record-detail", args=[record.pk])
    assert record.status == RecordStatus.PENDING
    assert record.category == "deep"


def test_enrol_page_without_a_profile_links_to_a_visit(client, archive, make_member):
    member = make_member(archive.union.team_a)
    response = login(client, archive.filer).get(reverse("archive:record-enrol", args=[member.pk]))
    body = response.content.decode()
    assert 'id="no-profile"' in body
    assert f"/visits/new/?member={member.pk}" in body


def test_enrol_refusal_is_shown_on_the_form(client, archive, make_member):
    member = make_member(archive.union.team_a)
    profile = record_profile(archive, member, monthly="9000")
    response = login(client, archive.filer).post(
        reverse("archive:record-enrol", args=[member.pk]), {"profile": profile.pk})
    assert response.status_code == 400
    assert "不符合建档条件" in response.content.decode()
    assert not HardshipRecord.objects.exists()


def test_enrol_search_finds_members_by_post(client, archive, member):
    page = login(client, archive.filer)
    response = page.post(reverse("archive:enrol-search"), {"q": "张建"})
    assert reverse("archive:record-enrol", args=[member.pk]) in response.content.decode()


def test_objection_is_recorded_and_resolved_on_the_page(client, archive, pending, clock):
    through_workshop(archive, pending)
    page = login(client, archive.station_officer)
    response = page.post(reverse("archive:objection-create", args=[pending.pk]),
                         {"raised_by_label": "同事", "content": "家中有两处房产"})
    assert response.status_code == 302
    objection = Objection.objects.get()
    detail = page.get(reverse("archive:record-detail", args=[pending.pk])).content.decode()
    assert "家中有两处房产" in detail
    assert reverse("archive:objection-resolve", args=[objection.pk]) in detail
    # the approver's to-do refuses approval meanwhile
    clock.move_to(pending_task(pending).due_at)
    page = login(client, archive.station_officer)  # sessions expire while time moves on
    task = pending_task(pending)
    refused = page.post(reverse("approvals:task-detail", args=[task.pk]),
                        {"decision": "approve", "comment": ""})
    assert refused.status_code == 409
    assert "未核实处理" in refused.content.decode()
    response = page.post(reverse("archive:objection-resolve", args=[objection.pk]),
                         {f"o{objection.pk}-upheld": "no",
                          f"o{objection.pk}-resolution": "房产为父母所有"})
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.upheld is False
    approved = page.post(reverse("approvals:task-detail", args=[task.pk]),
                         {"decision": "approve", "comment": ""})
    assert approved.status_code == 302


def test_objection_outside_the_notice_is_refused_on_the_page(client, archive, pending):
    response = login(client, archive.filer).post(
        reverse("archive:objection-create", args=[pending.pk]), {"content": "异议"})
    assert response.status_code == 409
    assert "只能在公示期内登记异议" in response.content.decode()


def test_exit_page_starts_the_exit_and_apply_link_is_shown(client, archive, active, clock):
    page = login(client, archive.filer)
    detail = page.get(reverse("archive:record-detail", args=[active.pk])).content.decode()
    assert 'id="apply-link"' not in detail  # the filer has no assistance.apply
    response = page.post(reverse("archive:record-exit", args=[active.pk]),
                         {"reason": "子女就业，家庭收入稳定"})
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.status == RecordStatus.EXITING
    approve_all(archive, active, clock, EXIT_KIND)
    page = login(client, archive.filer)  # sessions expire while time moves on
    detail = page.get(reverse("archive:record-detail", args=[active.pk])).content.decode()
    assert "已解困脱困" in detail
    assert "脱困后回访（第 6/6 次）" in detail
    assert FollowUp.objects.filter(hardship_record=active).count() == 6


def test_apply_link_for_cadres_who_may_file_applications(client, archive, active, union):
    from conftest import make_role, make_staff

    cadre = make_staff("apply_cadre", union.station_a,
                       [make_role("apply", ["archive.view", "assistance.apply",
                                            "assistance.view", "members.view"])])
    detail = login(client, cadre).get(reverse("archive:record-detail", args=[active.pk]))
    body = detail.content.decode()
    assert f"/assistance/applications/new/?member={active.member_id}" in body


def test_the_approvers_task_page_shows_the_facts_in_chinese(client, archive, pending):
    through_workshop(archive, pending)
    task = pending_task(pending)
    page = login(client, archive.station_officer).get(
        reverse("approvals:task-detail", args=[task.pk])).content.decode()
    assert "人均月收入（元）" in page
    assert "1,000.00" in page
    assert "相对困难" in page
    assert "per_capita_monthly" not in page
    assert "公示期至" in page  # a notice runs until a day
    assert "困难职工建档 · 张建华 · 张建华" not in page


def test_close_page_closes_at_once(client, archive, active):
    response = login(client, archive.filer).post(
        reverse("archive:record-close", args=[active.pk]),
        {"reason": "retirement", "on": "2026-10-09", "note": ""})
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.status == RecordStatus.CLOSED
    assert str(active.closed_on) == "2026-10-09"


def test_recheck_page_previews_and_saves(client, archive, active, member):
    profile = record_profile(archive, member, monthly="2500")
    page = login(client, archive.filer)
    url = reverse("archive:record-recheck", args=[active.pk])
    assert "深度困难" in page.get(url).content.decode()
    response = page.post(url, {"profile": profile.pk, "note": "入户复核"})
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.category == "deep"
    assert active.rechecks.get().outcome == "change"


def test_withdraw_from_the_page(client, archive, pending):
    response = login(client, archive.filer).post(
        reverse("archive:record-withdraw", args=[pending.pk]), {"reason": "本人放弃"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == RecordStatus.WITHDRAWN


def test_pages_have_no_inline_scripts_or_styles(client, archive, pending, member):
    import re

    through_workshop(archive, pending)
    page = login(client, archive.station_officer)
    for url in (reverse("archive:record-list"),
                reverse("archive:record-detail", args=[pending.pk]),
                reverse("archive:record-enrol", args=[member.pk]),
                reverse("archive:record-close", args=[pending.pk])):
        html = page.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert " style=" not in html, url
        assert not re.search(r"\son[a-z]+=", html), url


def test_the_approvers_task_page_links_to_the_record_and_its_calculation(client, archive,
                                                                         pending):
    through_workshop(archive, pending)
    task = pending_task(pending)
    page = login(client, archive.station_officer).get(
        reverse("approvals:task-detail", args=[task.pk])).content.decode()
    assert reverse("archive:record-detail", args=[pending.pk]) in page
    assert "查看档案与认定测算" in page


def test_an_objections_conclusion_is_chosen_not_preselected(client, archive, pending):
    through_workshop(archive, pending)
    page = login(client, archive.station_officer)
    page.post(reverse("archive:objection-create", args=[pending.pk]),
              {"raised_by_label": "同事", "content": "家中有两处房产"})
    objection = Objection.objects.get()
    detail = page.get(reverse("archive:record-detail", args=[pending.pk])).content.decode()
    assert '<option value="" selected>请选择核实结论</option>' in detail
    response = page.post(reverse("archive:objection-resolve", args=[objection.pk]),
                         {f"o{objection.pk}-resolution": "已核实"})
    assert response.status_code == 400
    objection.refresh_from_db()
    assert objection.resolved_at is None


def test_the_list_refuses_an_id_number_in_its_get_search(client, archive, pending):
    """The filter form is sent by GET: an ID number or phone would sit in the URL, so it is
    refused on the form and no search by it is run (issue 10, item 4)."""
    page = login(client, archive.filer)
    html = page.get(reverse("archive:record-list"), {"q": pending.member.id_number}).content
    assert "这里不能按身份证号或手机号查找" in html.decode()
