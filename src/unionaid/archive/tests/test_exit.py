# The fixtures come from helpers_records (no conftest of our own), hence F811 as parameters.
# ruff: noqa: F811
"""Dynamic management: exit (解困脱困) through its own flow and notice, follow-up visits,
re-enrolment keeping history, closure, re-checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from unionaid.approvals.models import CaseStatus, WorkdayOverride
from unionaid.archive.facts import member_archive_facts
from unionaid.archive.models import HardshipRecord, Recheck, RecordStatus
from unionaid.archive.selectors.records import record_history, record_list
from unionaid.archive.services.common import EXIT_KIND, add_months
from unionaid.archive.services.objections import objection_record, objection_resolve
from unionaid.archive.services.rechecks import recheck_record
from unionaid.archive.services.records import (
    record_close,
    record_enrol,
    record_exit_apply,
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
    through_workshop,
)
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, ServiceError
from unionaid.visits.models import FollowUp, FollowUpStatus


@pytest.fixture
def member(archive, make_member):
    return make_member(archive.union.team_a)


@pytest.fixture
def active(archive, member, clock):
    """An active record (deep), enrolled on Saturday 2026-10-10 (调休 working day) when its
    notice ended."""
    record_profile(archive, member, monthly="2500")
    record = record_enrol(actor=archive.filer, member=member)
    return approve_all(archive, record, clock)


def test_add_months_clamps_to_the_month_end():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 10, 13), 6) == dt.date(2027, 4, 13)
    assert add_months(dt.date(2026, 12, 15), 1) == dt.date(2027, 1, 15)


# -- exit -----------------------------------------------------------------------------------

def test_exit_goes_through_its_own_flow_and_creates_follow_ups(archive, member, active, clock):
    clock.move_to(at("2026-11-02"))
    record = record_exit_apply(actor=archive.filer, record=active, reason="配偶已就业，收入稳定")
    assert record.status == RecordStatus.EXITING
    assert record.exit_reason == "配偶已就业，收入稳定"
    applied = AuditEvent.objects.get(action="archive.exit_apply")
    assert applied.changes["reason_chars"] == len("配偶已就业，收入稳定")
    assert "配偶" not in str(applied.changes)  # the reason stays on the record, not in the journal
    assert open_case(record, EXIT_KIND).flow_version.flow.name == "困难职工解困脱困审批"
    assert member_archive_facts(member)["in_archive"] is True  # until the exit is approved
    record = approve_all(archive, record, clock, EXIT_KIND)
    assert record.status == RecordStatus.EXITED
    today = timezone.localdate()
    assert record.exited_on == today
    assert record.follow_up_until == add_months(today, 6)
    follow_ups = list(FollowUp.objects.filter(hardship_record=record).order_by("due_on"))
    assert [f.due_on for f in follow_ups] == [add_months(today, n) for n in range(1, 7)]
    assert {f.owner for f in follow_ups} == {archive.filer}  # who applied for the exit
    assert {f.member for f in follow_ups} == {member}
    assert follow_ups[0].title == "脱困后回访（第 1/6 次）"
    assert AuditEvent.objects.filter(action="follow_up.create").count() == 6
    assert member_archive_facts(member) == {"hardship_category": "", "in_archive": False}


def test_follow_up_months_come_from_the_rules(archive, active, clock):
    from unionaid.archive.models import CategoryRules

    CategoryRules.objects.create(org_unit=archive.union.station_a, follow_up_months=12)
    record = record_exit_apply(actor=archive.filer, record=active, reason="收入提高")
    approve_all(archive, record, clock, EXIT_KIND)
    assert FollowUp.objects.filter(hardship_record=record).count() == 12


def test_a_rejected_exit_keeps_the_record_active(archive, active):
    record = record_exit_apply(actor=archive.filer, record=active, reason="收入提高")
    decide(archive.workshop_officer, record, EXIT_KIND, decision="reject", comment="仍有大额医疗支出")
    record.refresh_from_db()
    assert record.status == RecordStatus.ACTIVE
    assert record.exit_reason == ""
    assert not FollowUp.objects.exists()


def test_an_exit_needs_a_reason_and_an_active_record(archive, member, active):
    with pytest.raises(ServiceError) as exc:
        record_exit_apply(actor=archive.filer, record=active, reason=" ")
    assert exc.value.code == "validation_error"
    record_exit_apply(actor=archive.filer, record=active, reason="收入提高")
    with pytest.raises(Conflict):
        record_exit_apply(actor=archive.filer, record=active, reason="再次申请")


def test_withdrawing_an_exit_returns_to_active(archive, active, row_locks):
    record = record_exit_apply(actor=archive.filer, record=active, reason="收入提高")
    case = open_case(record, EXIT_KIND)
    del row_locks[:]
    record = record_withdraw(actor=archive.filer, record=record, reason="家人再次住院")
    assert record.status == RecordStatus.ACTIVE
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert row_locks.index("ApprovalCase") < row_locks.index("HardshipRecord")
    event = AuditEvent.objects.get(action="archive.exit_withdraw")
    assert event.changes["reason_chars"] == len("家人再次住院")
    assert "住院" not in str(event.changes)


def test_a_case_started_between_the_two_locks_asks_for_a_retry(archive, active, monkeypatch):
    """Services lock the open cases, then the record. Should an exit application slip in
    between (its case was not locked), the withdrawal refuses instead of locking out of
    order."""
    from unionaid.archive.services import common

    real_lock = common.lock_record

    def exit_applied_meanwhile(record):
        monkeypatch.setattr(common, "lock_record", real_lock)
        record_exit_apply(actor=archive.filer, record=record, reason="收入提高")
        return real_lock(record)

    monkeypatch.setattr(common, "lock_record", exit_applied_meanwhile)
    with pytest.raises(Conflict) as exc:
        record_withdraw(actor=archive.filer, record=active)
    assert exc.value.code == "stale_record"


def test_objections_block_the_exit_notice_too(archive, active, clock):
    record = record_exit_apply(actor=archive.filer, record=active, reason="收入提高")
    notice = through_workshop(archive, record, EXIT_KIND)
    objection = objection_record(actor=archive.filer, record=record, raised_by_label="同事",
                                 content="家中仍有病人")
    clock.move_to(notice.due_at)
    with pytest.raises(Conflict) as exc:
        decide(archive.station_officer, record, EXIT_KIND)
    assert exc.value.code == "objection_open"
    objection_resolve(actor=archive.station_officer, objection=objection, upheld=False,
                      resolution="病人已康复")
    decide(archive.station_officer, record, EXIT_KIND)
    assert pending_task(record, EXIT_KIND).step.name == "站段工会审批"


# -- re-enrolment keeps history -------------------------------------------------------------

def test_re_enrolment_after_exit_keeps_the_old_record(archive, member, active, clock):
    old = record_exit_apply(actor=archive.filer, record=active, reason="收入提高")
    old = approve_all(archive, old, clock, EXIT_KIND)
    snapshot = HardshipRecord.objects.filter(pk=old.pk).values().get()
    clock.move_to(at("2027-03-01"))
    # chinese-calendar does not know 2027 yet: an admin has entered its holidays
    WorkdayOverride.objects.create(day=dt.date(2027, 1, 1), is_workday=False, note="元旦")
    record_profile(archive, member, monthly="4000")  # hardship returns: relative
    new = record_enrol(actor=archive.filer, member=member, reason="再次致困")
    assert new.pk != old.pk
    assert new.previous == old
    assert new.category == "relative"
    assert open_case(new).facts["re_enrolment"] is True
    assert HardshipRecord.objects.filter(pk=old.pk).values().get() == snapshot
    assert FollowUp.objects.filter(hardship_record=old).count() == 6
    history = record_history(member=member)
    assert [r.pk for r in history] == [old.pk, new.pk]
    assert [c.subject_kind for c in history[0].cases] == ["archive.enrolment", "archive.exit"]
    assert [c.status for c in history[0].cases] == [CaseStatus.APPROVED, CaseStatus.APPROVED]
    assert [c.subject_kind for c in history[1].cases] == ["archive.enrolment"]
    new = approve_all(archive, new, clock)
    assert new.status == RecordStatus.ACTIVE
    assert member_archive_facts(member) == {"hardship_category": "相对困难", "in_archive": True}


# -- closure ------------------------------------------------------------------------------------

def test_retirement_closes_at_once_without_a_flow(archive, active):
    record = record_close(actor=archive.filer, record=active, reason="retirement",
                          on=timezone.localdate())
    assert record.status == RecordStatus.CLOSED
    assert record.close_reason == "retirement"
    assert record.closed_on == timezone.localdate()
    event = AuditEvent.objects.get(action="archive.close")
    assert event.changes["reason"] == "retirement"
    with pytest.raises(Conflict):
        record_close(actor=archive.filer, record=record, reason="death")


def test_closing_a_pending_enrolment_withdraws_its_case(archive, member, row_locks):
    record_profile(archive, member, monthly="2500")
    record = record_enrol(actor=archive.filer, member=member)
    case = open_case(record)
    del row_locks[:]
    record_close(actor=archive.filer, record=record, reason="transfer")
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert row_locks.index("ApprovalCase") < row_locks.index("HardshipRecord")


def test_closing_during_the_follow_up_months_cancels_the_open_follow_ups(archive, member,
                                                                         active, clock):
    """Death or transfer after the exit: the exited record closes, the visits still planned
    are cancelled, the one already done stays done."""
    from unionaid.visits.services.followups import follow_up_done

    exited = approve_all(archive, record_exit_apply(actor=archive.filer, record=active,
                                                    reason="收入提高"), clock, EXIT_KIND)
    assert exited.status == RecordStatus.EXITED
    first, *rest = FollowUp.objects.filter(hardship_record=exited).order_by("due_on")
    follow_up_done(actor=archive.filer, follow_up=first, note="已回访，生活稳定")
    record = record_close(actor=archive.filer, record=exited, reason="death",
                          note="因病去世，家属告知")
    assert record.status == RecordStatus.CLOSED
    assert record.close_reason == "death"
    statuses = dict(FollowUp.objects.filter(hardship_record=record).values_list("pk", "status"))
    assert statuses[first.pk] == FollowUpStatus.DONE
    assert {statuses[f.pk] for f in rest} == {FollowUpStatus.CANCELLED}
    event = AuditEvent.objects.get(action="archive.close")
    assert event.changes["before"] == RecordStatus.EXITED
    assert sorted(event.changes["follow_ups_cancelled"]) == sorted(f.pk for f in rest)
    assert event.changes["note_chars"] == len("因病去世，家属告知")
    assert "去世" not in str(event.changes)


def test_an_exited_record_is_not_closed_once_the_member_is_back_in_the_archive(
        archive, member, active, clock):
    exited = approve_all(archive, record_exit_apply(actor=archive.filer, record=active,
                                                    reason="收入提高"), clock, EXIT_KIND)
    record_profile(archive, member, monthly="2500")
    newer = record_enrol(actor=archive.filer, member=member, reason="再次致困")
    assert newer.previous == exited
    with pytest.raises(Conflict) as exc:
        record_close(actor=archive.filer, record=exited, reason="death")
    assert exc.value.code == "re_enrolled"
    record_close(actor=archive.filer, record=newer, reason="death")
    newer.refresh_from_db()
    assert newer.status == RecordStatus.CLOSED
    # the visits still planned after the earlier exit are cancelled with it
    assert set(FollowUp.objects.filter(hardship_record=exited).values_list("status", flat=True)) \
        == {FollowUpStatus.CANCELLED}


def test_closing_for_another_reason_needs_a_note_and_no_future_date(archive, active):
    with pytest.raises(ServiceError) as exc:
        record_close(actor=archive.filer, record=active, reason="other")
    assert exc.value.fields == {"note": "请填写说明。"}
    with pytest.raises(ServiceError):
        record_close(actor=archive.filer, record=active, reason="death",
                     on=timezone.localdate() + dt.timedelta(days=1))
    with pytest.raises(ServiceError):
        record_close(actor=archive.filer, record=active, reason="moved")


# -- re-checks ------------------------------------------------------------------------------

def test_recheck_keeps_the_category(archive, member, active, clock):
    clock.move_to(at("2027-09-20"))
    record_profile(archive, member, monthly="2400")
    recheck = recheck_record(actor=archive.filer, record=active, note="年度复核")
    active.refresh_from_db()
    assert recheck.outcome == "keep"
    assert recheck.computed_category == "deep"
    assert active.last_recheck_on == dt.date(2027, 9, 20)
    assert active.next_recheck_on == dt.date(2028, 9, 20)
    assert active.per_capita_monthly == Decimal("500.00")  # the enrolment's calculation stays


def test_recheck_changes_the_category_and_its_calculation(archive, member, active):
    profile = record_profile(archive, member, monthly="4000")
    recheck = recheck_record(actor=archive.filer, record=active)
    active.refresh_from_db()
    assert recheck.outcome == "change"
    assert active.category == "relative"
    assert active.profile == profile
    assert active.per_capita_monthly == Decimal("1000.00")
    assert active.calculation["lines"][-1] == "认定：相对困难"
    event = AuditEvent.objects.get(action="archive.recheck")
    assert event.changes["before"] == "deep"
    assert event.changes["after"] == "relative"


def test_recheck_out_of_hardship_suggests_exit_without_exiting(archive, member, active):
    record_profile(archive, member, monthly="9000")
    recheck = recheck_record(actor=archive.filer, record=active)
    active.refresh_from_db()
    assert recheck.outcome == "exit"
    assert recheck.computed_category == ""
    assert active.status == RecordStatus.ACTIVE
    assert active.category == "deep"
    assert Recheck.objects.count() == 1


def test_records_due_for_recheck(archive, member, active, clock):
    assert list(record_list(user=archive.filer, recheck_due_by=timezone.localdate())) == []
    due = active.next_recheck_on
    assert list(record_list(user=archive.filer, recheck_due_by=due)) == [active]
    assert list(record_list(user=archive.other_officer, recheck_due_by=due)) == []


def test_only_active_records_are_rechecked(archive, member):
    record_profile(archive, member, monthly="2500")
    record = record_enrol(actor=archive.filer, member=member)
    with pytest.raises(Conflict):
        recheck_record(actor=archive.filer, record=record)
