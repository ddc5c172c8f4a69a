# The fixtures come from helpers_records (no conftest of our own), hence F811 as parameters.
# ruff: noqa: F811
"""Enrolment (建档) through the approval engine: category and refusal, one file per household,
the public notice counted in Chinese working days (国庆 2026 and an admin's holiday),
objections blocking approval, the outcomes, resubmission, withdrawal and the archive's facts
for the assistance rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from unionaid.approvals import services as approvals
from unionaid.approvals.models import ApprovalFlow, CaseStatus, WorkdayOverride
from unionaid.archive.facts import member_archive_facts
from unionaid.archive.flows import archive_flows_ensure
from unionaid.archive.models import HardshipRecord, Objection, RecordStatus
from unionaid.archive.services.common import ENROLMENT_KIND, EXIT_KIND
from unionaid.archive.services.objections import objection_record, objection_resolve
from unionaid.archive.services.records import (
    record_enrol,
    record_precheck,
    record_resubmit,
    record_withdraw,
)
from unionaid.archive.tests.helpers_records import (  # noqa: F401 (fixtures)
    approve_all,
    archive,
    at,
    clock,
    decide,
    open_case,
    pending_task,
    people,
    record_profile,
    row_locks,
    through_notice,
    through_workshop,
)
from unionaid.assistance import facts as assistance_facts
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.notifications.models import Notification


@pytest.fixture
def member(archive, make_member):
    return make_member(archive.union.team_a)


def enrol(archive, member, **household):
    record_profile(archive, member, **household)
    return record_enrol(actor=archive.filer, member=member, reason="配偶重病")


# -- enrolment ------------------------------------------------------------------------------

def test_enrolment_computes_the_category_and_starts_the_flow(archive, member):
    record = enrol(archive, member, monthly="2500")
    assert record.status == RecordStatus.PENDING
    assert record.category == record.computed_category == "deep"
    assert record.per_capita_monthly == Decimal("500.00")
    assert record.dibao_standard == Decimal("800.00")
    assert record.calculation["lines"][1] == "低保标准 800.00 元；500.00 < 800.00 × 1.00 → 深度困难"
    assert record.previous is None
    case = open_case(record)
    assert case.facts["category"] == "deep"
    assert case.facts["per_capita_monthly"] == 500
    assert case.flow_version.flow.name == "困难职工建档审批"
    task = pending_task(record)
    assert task.step.name == "车间工会审核"
    assert task.assigned_position.name == "车间工会干事"
    assert Notification.objects.filter(recipient=archive.workshop_officer).exists()
    assert AuditEvent.objects.filter(action="archive.enrol", target_id=str(record.pk)).exists()


def test_a_household_not_in_hardship_is_refused_with_the_calculation(archive, member):
    record_profile(archive, member, monthly="7000")
    with pytest.raises(ServiceError) as exc:
        record_enrol(actor=archive.filer, member=member)
    assert exc.value.code == "not_eligible"
    assert "人均月收入 =（家庭年可支配收入 84,000.00" in exc.value.message
    assert "2,000.00 ≥ 800.00 × 2.00" in exc.value.message
    assert not HardshipRecord.objects.exists()


def test_enrolment_needs_a_profile(archive, member):
    with pytest.raises(ServiceError) as exc:
        record_enrol(actor=archive.filer, member=member)
    assert exc.value.code == "no_profile"


def test_enrolment_needs_a_dibao_standard_for_the_year(archive, member, clock):
    record_profile(archive, member, monthly="2500")
    clock.move_to(at("2029-03-02"))
    with pytest.raises(ServiceError) as exc:
        record_enrol(actor=archive.filer, member=member)
    assert exc.value.code == "no_dibao_line"
    assert "2029" in exc.value.message


def test_one_file_per_household(archive, make_member):
    """Two railway workers married to each other: the second enrolment is refused."""
    from unionaid.members import services as member_services

    husband = make_member(archive.union.team_a, name="王建国")
    wife = make_member(archive.union.team_a, name="李秀英")
    member_services.household_member_add(actor=archive.filer, member=husband, name=wife.name,
                                         relation="spouse", id_number=wife.id_number)
    member_services.household_member_add(actor=archive.filer, member=wife, name=husband.name,
                                         relation="spouse", id_number=husband.id_number)
    enrol(archive, husband, monthly="2500")
    record_profile(archive, wife, monthly="2500")
    assert "household_has_record" in record_precheck(member=wife)["codes"]
    with pytest.raises(Conflict) as exc:
        record_enrol(actor=archive.filer, member=wife)
    assert exc.value.code == "household_has_record"
    assert "持档人：王**，建档审批中" in exc.value.message  # the holder is in the filer's scope
    assert "王建国" not in exc.value.message
    assert HardshipRecord.objects.filter(member=wife).count() == 0


def test_one_file_per_household_when_only_one_lists_the_other(archive, make_member):
    from unionaid.members import services as member_services

    worker = make_member(archive.union.team_a)
    son = make_member(archive.union.team_a)
    member_services.household_member_add(actor=archive.filer, member=worker, name=son.name,
                                         relation="child", id_number=son.id_number)
    enrol(archive, son, monthly="2500")
    record_profile(archive, worker, monthly="2500")
    with pytest.raises(Conflict) as exc:
        record_enrol(actor=archive.filer, member=worker)
    assert exc.value.code == "household_has_record"


def test_the_household_refusal_names_no_one_outside_the_actors_scope(archive, make_member):
    """A worker in 甲一班组 lists his wife, a worker of 乙机务段 who already holds a file: the
    甲 cadre is refused without learning her name or her file's status; someone who may see
    乙's archive is told who holds it."""
    from unionaid.archive.tests.helpers_lists import add_record
    from unionaid.members import services as member_services

    husband = make_member(archive.union.team_a, name="王建国")
    wife = make_member(archive.union.team_b, name="李秀英")
    member_services.household_member_add(actor=archive.filer, member=husband, name=wife.name,
                                         relation="spouse", id_number=wife.id_number)
    add_record(wife, status=RecordStatus.ACTIVE)
    record_profile(archive, husband, monthly="2500")
    with pytest.raises(Conflict) as exc:
        record_enrol(actor=archive.filer, member=husband)
    assert exc.value.code == "household_has_record"
    assert exc.value.message == "该职工的家庭成员已有困难职工档案，一户只能建一档。"
    for hidden in ("李", "在档", "持档人"):
        assert hidden not in exc.value.message
    for actor in (archive.filer, None):
        check = record_precheck(member=husband, actor=actor)
        assert check["codes"] == ["household_has_record"]
        assert "李" not in check["problems"][0]
    seen_by_all = record_precheck(member=husband, actor=archive.config_admin)["problems"][0]
    assert "持档人：李**，在档" in seen_by_all


def test_a_member_cannot_hold_two_open_records(archive, member):
    enrol(archive, member, monthly="2500")
    with pytest.raises(Conflict) as exc:
        record_enrol(actor=archive.filer, member=member)
    assert exc.value.code == "household_has_record"


def test_out_of_scope_cadre_cannot_enrol(archive, member):
    record_profile(archive, member, monthly="2500")
    with pytest.raises(NotFound):
        record_enrol(actor=archive.other_officer, member=member)
    assert not HardshipRecord.objects.exists()


def test_viewer_without_manage_is_refused(archive, member, union):
    from conftest import make_role, make_staff

    viewer = make_staff("viewer", union.team_a, [make_role("viewer", ["archive.view"])])
    record_profile(archive, member, monthly="2500")
    with pytest.raises(PermissionDenied):
        record_enrol(actor=viewer, member=member)


# -- the public notice: Chinese working days -------------------------------------------------

def test_notice_started_on_30_september_ends_after_national_day(archive, member, clock):
    """国庆 2026: 1–7 October off, Saturday 10 October a working day (调休). Five working
    days after Wednesday 30 September: 8, 9, 10, 12, 13 October."""
    record = enrol(archive, member, monthly="2500")
    clock.move_to(at("2026-09-30", 10))
    notice = through_workshop(archive, record)
    assert notice.step.name == "公示"
    assert notice.assigned_position.org_unit == archive.union.station_a
    assert timezone.localtime(notice.due_at) == at("2026-10-13", 18)
    clock.move_to(at("2026-10-13", 17, 59))
    with pytest.raises(Conflict) as exc:
        decide(archive.station_officer, record)
    assert exc.value.code == "notice_period"
    clock.move_to(at("2026-10-13", 18))
    decide(archive.station_officer, record)
    assert pending_task(record).step.name == "站段工会审批"


def test_an_admin_holiday_moves_the_notice_end_by_a_day(archive, member, clock):
    WorkdayOverride.objects.create(day=dt.date(2026, 10, 12), is_workday=False, note="地方假日")
    record = enrol(archive, member, monthly="2500")
    clock.move_to(at("2026-09-30", 10))
    notice = through_workshop(archive, record)
    assert timezone.localtime(notice.due_at) == at("2026-10-14", 18)


def test_notice_start_tells_the_post_holder_until_when(archive, member, clock):
    record = enrol(archive, member, monthly="2500")
    clock.move_to(at("2026-09-30", 10))
    through_workshop(archive, record)
    note = Notification.objects.filter(recipient=archive.station_officer).latest("pk")
    assert note.title.startswith("公示开始")
    assert "公示至 2026-10-13 18:00" in note.body


# -- objections -------------------------------------------------------------------------------

def test_objection_only_during_the_notice(archive, member):
    record = enrol(archive, member, monthly="2500")
    with pytest.raises(Conflict) as exc:
        objection_record(actor=archive.filer, record=record, raised_by_label="同事",
                         content="家中另有商铺出租")
    assert exc.value.code == "not_in_notice"


def test_an_open_objection_blocks_approval_until_resolved(archive, member, clock):
    record = enrol(archive, member, monthly="2500")
    notice = through_workshop(archive, record)
    objection = objection_record(actor=archive.station_officer, record=record,
                                 raised_by_label="匿名", content="家中另有商铺出租")
    assert objection.case_id == notice.case_id
    clock.move_to(notice.due_at)
    with pytest.raises(Conflict) as exc:
        decide(archive.station_officer, record)
    assert exc.value.code == "objection_open"
    objection_resolve(actor=archive.station_officer, objection=objection, upheld=False,
                      resolution="经核实，商铺为他人所有。")
    decide(archive.station_officer, record)
    decide(archive.station_officer, record)
    record.refresh_from_db()
    assert record.status == RecordStatus.ACTIVE
    event = AuditEvent.objects.get(action="archive.objection_record")
    assert "商铺" not in str(event.changes)


def test_an_upheld_objection_means_the_enrolment_must_be_rejected(archive, member, clock):
    record = enrol(archive, member, monthly="2500")
    notice = through_workshop(archive, record)
    objection = objection_record(actor=archive.filer, record=record, raised_by_label="邻居",
                                 content="有两套住房")
    objection_resolve(actor=archive.station_officer, objection=objection, upheld=True,
                      resolution="核实属实。")
    clock.move_to(notice.due_at)
    with pytest.raises(Conflict) as exc:
        decide(archive.station_officer, record)
    assert exc.value.code == "objection_upheld"
    decide(archive.station_officer, record, decision="reject", comment="公示期异议属实")
    record.refresh_from_db()
    assert record.status == RecordStatus.REJECTED
    assert open_case_count(record) == 0


def open_case_count(record):
    from unionaid.approvals.models import ApprovalCase

    return ApprovalCase.objects.filter(subject_id=record.pk, status=CaseStatus.IN_PROGRESS).count()


def test_objection_cannot_be_resolved_twice_nor_without_a_resolution(archive, member):
    record = enrol(archive, member, monthly="2500")
    through_workshop(archive, record)
    objection = objection_record(actor=archive.filer, record=record, content="异议")
    with pytest.raises(ServiceError) as exc:
        objection_resolve(actor=archive.station_officer, objection=objection, upheld=False,
                          resolution=" ")
    assert exc.value.code == "validation_error"
    objection_resolve(actor=archive.station_officer, objection=objection, upheld=False,
                      resolution="不属实")
    with pytest.raises(Conflict):
        objection_resolve(actor=archive.station_officer, objection=objection, upheld=True,
                          resolution="再议")
    assert Objection.objects.get().upheld is False


def test_approving_locks_the_record_so_an_objection_cannot_slip_past(archive, member,
                                                                     row_locks):
    """An approval locks the case, then the record (even at a step whose outcome does not
    touch the record); ``objection_record`` takes them in the same order. The two serialise,
    so the objection count an approval reads is never stale, and they cannot deadlock."""
    record = enrol(archive, member, monthly="2500")
    del row_locks[:]
    decide(archive.workshop_officer, record)  # not the last step: no handler outcome runs
    assert row_locks[:2] == ["ApprovalCase", "ApprovalTask"]
    assert "HardshipRecord" in row_locks
    del row_locks[:]
    objection_record(actor=archive.filer, record=record, content="异议")
    assert row_locks[:2] == ["ApprovalCase", "HardshipRecord"]


def test_out_of_scope_cadre_cannot_record_an_objection(archive, member):
    record = enrol(archive, member, monthly="2500")
    through_workshop(archive, record)
    with pytest.raises(NotFound):
        objection_record(actor=archive.other_officer, record=record, content="异议")


# -- outcomes ----------------------------------------------------------------------------------

def test_approval_makes_the_record_active_with_its_first_recheck(archive, member, clock):
    record = enrol(archive, member, monthly="2500")
    record = approve_all(archive, record, clock)
    assert record.status == RecordStatus.ACTIVE
    assert record.enrolled_on == timezone.localdate()
    assert record.next_recheck_on == dt.date(record.enrolled_on.year + 1,
                                             record.enrolled_on.month, record.enrolled_on.day)
    assert member_archive_facts(member) == {"hardship_category": "深度困难", "in_archive": True}
    values = assistance_facts.member_values(member)
    assert values["hardship_category"] == "深度困难"
    assert values["in_archive"] is True


def test_pending_enrolment_is_not_in_the_archive_yet(archive, member):
    enrol(archive, member, monthly="4000")
    assert member_archive_facts(member) == {"hardship_category": "", "in_archive": False}


def test_returned_enrolment_is_resubmitted_with_a_new_profile(archive, member, clock):
    record = enrol(archive, member, monthly="4000")
    assert record.category == "relative"
    decide(archive.workshop_officer, record, decision="return", comment="请补充医疗支出")
    record.refresh_from_db()
    assert record.status == RecordStatus.RETURNED
    with pytest.raises(ServiceError) as exc:
        record_resubmit(actor=archive.filer, record=record,
                        profile=record_profile(archive, member, monthly="7000"))
    assert exc.value.code == "not_eligible"
    record.refresh_from_db()
    assert record.status == RecordStatus.RETURNED
    profile = record_profile(archive, member, monthly="4000", rigid="40000")
    # the returned record holds the household's file itself: no conflict when sending it again
    assert "household_has_record" in record_precheck(member=member)["codes"]
    assert record_precheck(member=member, resubmitting=record)["codes"] == []
    record = record_resubmit(actor=archive.filer, record=record)
    assert record.status == RecordStatus.PENDING
    assert record.profile == profile
    assert record.category == "deep"
    assert open_case(record).facts["category"] == "deep"


def test_withdrawal_ends_the_enrolment_and_its_case(archive, member, row_locks):
    record = enrol(archive, member, monthly="2500")
    case = open_case(record)
    del row_locks[:]
    record = record_withdraw(actor=archive.filer, record=record, reason="本人放弃，已另有收入")
    assert record.status == RecordStatus.WITHDRAWN
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    # the case before the record, as the approval engine does (no deadlock on PostgreSQL)
    assert row_locks.index("ApprovalCase") < row_locks.index("HardshipRecord")
    event = AuditEvent.objects.get(action="archive.withdraw")
    assert event.changes["reason_chars"] == len("本人放弃，已另有收入")
    assert "本人放弃" not in str(event.changes)
    # the household may apply again
    again = record_enrol(actor=archive.filer, member=member)
    assert again.status == RecordStatus.PENDING
    assert again.previous is None  # a withdrawn application is not a previous enrolment


def test_a_rejected_application_is_not_a_previous_enrolment(archive, member):
    record = enrol(archive, member, monthly="2500")
    decide(archive.workshop_officer, record, decision="reject", comment="材料不实")
    record.refresh_from_db()
    assert record.status == RecordStatus.REJECTED
    again = record_enrol(actor=archive.filer, member=member, reason="补充材料后再次申请")
    assert again.previous is None
    assert open_case(again).facts["re_enrolment"] is False


def test_a_record_closed_before_approval_is_not_a_previous_enrolment(archive, member):
    from unionaid.archive.services.records import record_close

    record = enrol(archive, member, monthly="2500")
    record_close(actor=archive.filer, record=record, reason="transfer")
    again = record_enrol(actor=archive.filer, member=member)
    assert again.previous is None
    assert open_case(again).facts["re_enrolment"] is False


def test_the_filer_cannot_approve_their_own_enrolment(archive, member):
    record = enrol(archive, member, monthly="2500")
    from unionaid.accounts import services as account_services
    from unionaid.accounts.models import Position

    post = Position.objects.get(org_unit=archive.union.workshop_a, name="车间工会干事")
    account_services.assignment_grant(actor=None, user=archive.filer, position=post)
    with pytest.raises(PermissionDenied):
        approvals.task_decide(actor=archive.filer, task=pending_task(record), decision="approve")


# -- the default flows ----------------------------------------------------------------------

def test_default_flows_are_created_once_and_left_alone(archive, union):
    flows = ApprovalFlow.objects.filter(org_unit=union.bureau,
                                        subject_kind__in=[ENROLMENT_KIND, EXIT_KIND])
    assert flows.count() == 2
    version = flows.get(subject_kind=ENROLMENT_KIND).versions.get(is_current=True)
    steps = list(version.steps.order_by("order"))
    assert [s.name for s in steps] == ["车间工会审核", "公示", "站段工会审批"]
    assert [s.unit_depth for s in steps] == [3, 2, 2]
    assert steps[1].is_public_notice
    assert steps[1].notice_working_days == 5
    assert archive_flows_ensure(actor=None, org_unit=union.bureau) == []


def test_flows_need_archive_config(archive, union):
    with pytest.raises(PermissionDenied):
        archive_flows_ensure(actor=archive.filer, org_unit=union.station_a)
    created = archive_flows_ensure(actor=archive.config_admin, org_unit=union.station_a)
    assert len(created) == 2


def test_a_station_level_member_skips_the_workshop_step(archive, make_member):
    member = make_member(archive.union.station_a)
    record_profile(archive, member, actor=archive.station_officer, monthly="2500")
    record = record_enrol(actor=archive.station_officer, member=member)
    assert pending_task(record).step.name == "公示"
    skipped = record_skipped_steps(record)
    assert skipped == ["车间工会审核"]


def record_skipped_steps(record):
    from unionaid.approvals.models import ApprovalTask, TaskStatus

    return list(ApprovalTask.objects.filter(case__subject_id=record.pk,
                                            status=TaskStatus.SKIPPED)
                .values_list("step__name", flat=True))


def test_the_enrolment_subject_is_in_the_todo_label(archive, member):
    from unionaid.approvals.registry import subject_handler

    record = enrol(archive, member, monthly="2500")
    assert subject_handler(ENROLMENT_KIND).label(record.pk) == f"困难职工建档 · {member.name}"
    assert subject_handler(ENROLMENT_KIND).link(record.pk) == f"/archive/{record.pk}/"
