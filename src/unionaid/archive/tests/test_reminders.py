"""Re-check and follow-up reminders: who is told, never twice, the due list and its page."""

from __future__ import annotations

import datetime as dt
from io import StringIO

from django.core.management import call_command
from django.test import Client

from conftest import verified_login
from unionaid.archive.models import HardshipRecord, RecordStatus
from unionaid.archive.selectors.lists import records_due_for_recheck
from unionaid.archive.services.reminders import recheck_remind
from unionaid.archive.tests.helpers_lists import TODAY, add_record, lists_fixture  # noqa: F401
from unionaid.audit.models import AuditEvent
from unionaid.notifications.models import Notification
from unionaid.visits.models import FollowUp, FollowUpStatus


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def inbox(user) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("link", flat=True))


def test_due_list_is_scoped_and_puts_the_overdue_first(lists, make_member):
    soon = add_record(make_member(lists.union.team_a), next_recheck_on=days(10))
    overdue = add_record(make_member(lists.union.team_a), next_recheck_on=days(-5))
    add_record(make_member(lists.union.team_a), next_recheck_on=days(40))
    add_record(make_member(lists.union.team_a), status=RecordStatus.EXITED,
               next_recheck_on=days(-5), exited_on=days(-30))
    other = add_record(make_member(lists.union.team_b), next_recheck_on=days(1))
    due = list(records_due_for_recheck(user=lists.cadre_a, today=TODAY))
    assert due == [overdue, soon]
    assert list(records_due_for_recheck(user=lists.cadre_b, today=TODAY)) == [other]
    assert len(records_due_for_recheck(user=lists.cadre_a, today=TODAY, within_days=60)) == 3


def test_reminders_go_to_the_nearest_managers_and_the_creator_once(lists, make_member):
    mine = add_record(make_member(lists.union.team_a), next_recheck_on=days(10),
                      created_by=lists.cadre_a)
    overdue = add_record(make_member(lists.union.team_a), next_recheck_on=days(-3))
    add_record(make_member(lists.union.team_a), next_recheck_on=days(45))
    station_b = add_record(make_member(lists.union.team_b), next_recheck_on=days(2))
    sent = recheck_remind(today=TODAY)
    assert sent == 4
    assert len(inbox(lists.workshop_cadre)) == 2  # the nearest post over team A
    assert inbox(lists.cadre_a) == [f"/archive/recheck/open/?record={mine.pk}&due={days(10)}"]
    assert len(inbox(lists.cadre_b)) == 1
    assert inbox(lists.bureau_officer) == []  # a nearer post covers every unit
    assert inbox(lists.registrar) == []
    title = Notification.objects.get(recipient=lists.workshop_cadre,
                                     link__contains=f"record={overdue.pk}").title
    assert "逾期" in title
    assert recheck_remind(today=TODAY) == 0
    assert recheck_remind(today=days(1)) == 0
    HardshipRecord.objects.filter(pk=station_b.pk).update(next_recheck_on=days(300))
    HardshipRecord.objects.filter(pk=mine.pk).update(next_recheck_on=days(12))
    assert recheck_remind(today=TODAY) == 2  # a new due date is a new reminder
    event = AuditEvent.objects.filter(action="archive.remind").order_by("id").first()
    assert event.changes["recheck"] == 4


def test_the_top_post_is_told_when_nobody_nearer_covers_the_unit(lists, make_member):
    record = add_record(make_member(lists.union.bureau), next_recheck_on=days(1))
    assert recheck_remind(today=TODAY) == 1
    assert inbox(lists.bureau_officer) == [
        f"/archive/recheck/open/?record={record.pk}&due={days(1)}"]


def test_follow_ups_due_remind_their_owner_once(lists, make_member):
    member = make_member(lists.union.team_a)

    def follow_up(due, status=FollowUpStatus.OPEN):
        return FollowUp.objects.create(member=member, org_unit=member.org_unit, title="回访",
                                       owner=lists.viewer_a, due_on=due, status=status,
                                       created_by=lists.cadre_a)

    late = follow_up(days(-1))
    follow_up(days(3))
    follow_up(days(-2), FollowUpStatus.DONE)
    assert recheck_remind(today=TODAY) == 1
    assert inbox(lists.viewer_a) == [f"/archive/recheck/open/?follow_up={late.pk}&due={days(-1)}"]
    assert recheck_remind(today=days(1)) == 0


def test_the_command_sends_the_reminders(lists, make_member):
    add_record(make_member(lists.union.team_a), next_recheck_on=days(5))
    out = StringIO()
    call_command("recheck_remind", "--date", TODAY.isoformat(), stdout=out)
    assert "1" in out.getvalue()
    assert Notification.objects.count() == 1


def test_the_due_page_and_the_reminder_link(lists, make_member):
    record = add_record(make_member(lists.union.team_a, name="李卫东"), next_recheck_on=days(-1))
    add_record(make_member(lists.union.team_b, name="赵大海"), next_recheck_on=days(1))
    client = verified_login(Client(), lists.cadre_a)
    body = client.get("/archive/recheck/").content.decode()
    assert "李卫东" in body
    assert "已逾期" in body
    assert "赵大海" not in body
    response = client.get(f"/archive/recheck/open/?record={record.pk}&due={days(-1)}")
    assert response.status_code == 302
    assert str(record.pk) in response["Location"]
    assert verified_login(Client(), lists.registrar).get("/archive/recheck/").status_code == 404


def test_a_follow_up_reminder_leads_to_the_follow_ups(lists):
    client = verified_login(Client(), lists.viewer_a)
    response = client.get(f"/archive/recheck/open/?follow_up=7&due={days(-1)}")
    assert response.status_code == 302
    assert response["Location"].endswith("#follow-up-7")
