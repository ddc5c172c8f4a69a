"""Applications before approval: who files (self / 代办), drafts, the duplicate guard, the checks
of a submit (eligibility, materials, yearly caps) and who sees what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from unionaid.assistance import services
from unionaid.assistance.models import Application, ApplicationStatus
from unionaid.assistance.selectors import application_get_for_user, applications_visible_to
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError

from .helpers import PDF_BYTES, upload


def attach(actor, application, material="诊断证明"):
    return services.attachment_add(actor=actor, application=application, material=material,
                                   uploaded_file=upload("scan.pdf", PDF_BYTES))


def test_a_worker_files_a_draft_for_themself(worker, illness):
    application = services.application_create_draft(
        actor=worker, member=worker.member, item=illness, facts={"self_paid": "6000"},
        reason="住院治疗")
    assert application.status == ApplicationStatus.DRAFT
    assert application.on_behalf is False
    assert application.filed_by == worker
    assert application.facts == {"self_paid": "6000.00"}
    assert application.period.isdigit()
    event = AuditEvent.objects.get(action="application.create", target_id=str(application.pk))
    assert event.changes["on_behalf"] is False
    assert "6000" not in str(event.changes)  # fact values (health money) are not journaled


def test_a_cadre_files_on_a_workers_behalf_within_their_scope(staff, worker, illness):
    application = services.application_create_draft(
        actor=staff.apply_cadre, member=worker.member, item=illness)
    assert application.on_behalf is True
    assert application.filed_by == staff.apply_cadre


def test_nobody_files_for_a_member_outside_their_assistance_scope(
        staff, personas, worker, new_worker, union, illness):
    with pytest.raises(NotFound):
        services.application_create_draft(actor=staff.other_apply, member=worker.member,
                                          item=illness)
    other = new_worker(union.team_a)
    with pytest.raises(NotFound):
        services.application_create_draft(actor=other, member=worker.member, item=illness)
    # a cadre who sees the member but may not file for them is told so
    with pytest.raises(PermissionDenied):
        services.application_create_draft(actor=personas.station_cadre, member=worker.member,
                                          item=illness)
    assert not Application.objects.exists()


def test_the_same_member_item_and_period_cannot_be_filed_twice(worker, staff, illness):
    first = services.application_create_draft(actor=worker, member=worker.member, item=illness)
    with pytest.raises(Conflict) as exc:
        services.application_create_draft(actor=staff.apply_cadre, member=worker.member,
                                          item=illness)
    assert exc.value.code == "duplicate_application"
    assert "不能重复申请" in exc.value.message
    services.application_withdraw(actor=worker, application=first)
    again = services.application_create_draft(actor=worker, member=worker.member, item=illness)
    assert again.pk != first.pk


def test_the_database_itself_refuses_a_second_live_application(worker, illness):
    first = services.application_create_draft(actor=worker, member=worker.member, item=illness)
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(member=first.member, item=illness, org_unit=first.org_unit,
                                   period=first.period, filed_by=worker)


def test_a_draft_is_updated_and_keeps_what_is_valid(worker, illness):
    application = services.application_create_draft(actor=worker, member=worker.member,
                                                     item=illness)
    with pytest.raises(ServiceError) as exc:
        services.application_update_draft(actor=worker, application=application,
                                          facts={"self_paid": "不知道"})
    assert exc.value.fields["self_paid"].startswith("“自付医疗费用”的填写不正确")
    services.application_update_draft(actor=worker, application=application,
                                      facts={"self_paid": "8800"}, reason="化疗")
    application.refresh_from_db()
    assert application.facts == {"self_paid": "8800.00"}
    assert application.reason == "化疗"


def test_submit_refuses_until_every_required_material_is_there(worker, illness, flow):
    application = services.application_create_draft(
        actor=worker, member=worker.member, item=illness, facts={"self_paid": "6000"})
    with pytest.raises(ServiceError) as exc:
        services.application_submit(actor=worker, application=application)
    assert exc.value.code == "materials_missing"
    assert exc.value.message == "请上传以下材料：诊断证明。"  # 身份证 is optional
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT


def test_submit_refuses_an_ineligible_member_with_the_items_message(
        worker, make_item, flow):
    item = make_item(eligibility=[{"rule": "self_paid > 3000",
                                   "message": "自付医疗费用须超过 3,000 元。"},
                                  {"rule": "household_size >= 3", "message": "须为三口以上之家。"}])
    application = services.application_create_draft(
        actor=worker, member=worker.member, item=item, facts={"self_paid": "2800"})
    attach(worker, application)
    with pytest.raises(ServiceError) as exc:
        services.application_submit(actor=worker, application=application)
    assert exc.value.code == "not_eligible"
    assert exc.value.message == "自付医疗费用须超过 3,000 元；须为三口以上之家。"
    assert exc.value.fields["__all__"] == ["自付医疗费用须超过 3,000 元。", "须为三口以上之家。"]


def test_submit_refuses_a_zero_amount(worker, illness, flow):
    application = services.application_create_draft(
        actor=worker, member=worker.member, item=illness, facts={"self_paid": "1500"})
    attach(worker, application)
    with pytest.raises(ServiceError) as exc:
        services.application_submit(actor=worker, application=application)
    assert exc.value.code == "amount_zero"


def test_a_worker_sees_only_their_own_applications(worker, new_worker, staff, union, illness):
    mine = services.application_create_draft(actor=worker, member=worker.member, item=illness)
    neighbour = new_worker(union.team_a)
    theirs = services.application_create_draft(actor=neighbour, member=neighbour.member,
                                               item=illness)
    assert list(applications_visible_to(user=worker)) == [mine]
    assert application_get_for_user(user=worker, pk=mine.pk) == mine
    with pytest.raises(NotFound):
        application_get_for_user(user=worker, pk=theirs.pk)
    assert AuditEvent.objects.filter(action="access.denied", target_id=str(theirs.pk),
                                     actor_id=worker.pk).exists()
    assert set(applications_visible_to(user=staff.apply_cadre)) == {mine, theirs}
    assert list(applications_visible_to(user=staff.other_apply)) == []
    with pytest.raises(NotFound):
        application_get_for_user(user=staff.other_apply, pk=mine.pk)


def test_only_a_cadre_may_ask_for_fast_track_and_must_say_why(worker, staff, illness, flow):
    application = services.application_create_draft(
        actor=worker, member=worker.member, item=illness, facts={"self_paid": "6000"})
    attach(worker, application)
    with pytest.raises(PermissionDenied):
        services.application_submit(actor=worker, application=application, fast_track=True,
                                    fast_track_reason="急")
    with pytest.raises(ServiceError) as exc:
        services.application_submit(actor=staff.apply_cadre, application=application,
                                    fast_track=True)
    assert exc.value.code == "fast_track_reason"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT


def test_withdrawing_a_draft_is_journaled_and_final(worker, illness):
    application = services.application_create_draft(actor=worker, member=worker.member,
                                                     item=illness)
    services.application_withdraw(actor=worker, application=application, reason="不需要了")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert AuditEvent.objects.filter(action="application.withdraw",
                                     target_id=str(application.pk)).exists()
    with pytest.raises(Conflict):
        services.application_withdraw(actor=worker, application=application)
    with pytest.raises(Conflict):
        services.application_update_draft(actor=worker, application=application, reason="x")


def test_precheck_shows_the_amount_and_every_problem_without_writing(worker, illness):
    application = services.application_create_draft(
        actor=worker, member=worker.member, item=illness, facts={"self_paid": "12000"})
    result = services.application_precheck(application=application)
    assert result["amount"] == Decimal("5000.00")
    assert result["calculation"][-1] == "核定金额：5,000.00 元。"
    assert result["problems"] == ["请上传以下材料：诊断证明。"]
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT
    assert application.amount == 0
