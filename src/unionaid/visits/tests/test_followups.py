"""Follow-ups: created for a member with an owner who can act there, listed open-first with
overdue ones marked, done once."""
# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_role, make_staff, verified_login
from unionaid.accounts.models import DataScope
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, NotFound, ServiceError
from unionaid.visits.models import FollowUp, FollowUpStatus
from unionaid.visits.selectors.records import follow_up_owner_choices, follow_ups_for_user
from unionaid.visits.services import followups as services

from .helpers_records import rec, today  # noqa: F401


def create(rec, *, owner=None, days=3, title="回访"):
    return services.follow_up_create(actor=rec.visitor_a, member=rec.member, title=title,
                                     owner=owner or rec.visitor_a,
                                     due_on=today() + dt.timedelta(days=days))


def test_a_follow_up_is_created_and_journaled(rec):
    follow_up = create(rec, owner=rec.team_visitor)
    assert (follow_up.org_unit, follow_up.created_by, follow_up.status) == (
        rec.member.org_unit, rec.visitor_a, FollowUpStatus.OPEN)
    event = AuditEvent.objects.get(action="follow_up.create")
    assert event.changes["owner"] == rec.team_visitor.pk


def test_the_owner_must_be_able_to_act_for_the_member(rec):
    with pytest.raises(ServiceError) as exc:
        create(rec, owner=rec.visitor_b)
    assert "owner_id" in exc.value.fields
    with pytest.raises(ServiceError) as exc:
        create(rec, owner=rec.viewer_a)  # may look, may not record
    assert "owner_id" in exc.value.fields
    with pytest.raises(NotFound):
        services.follow_up_create(actor=rec.visitor_b, member=rec.member, title="x",
                                  owner=rec.visitor_b, due_on=today())
    assert not FollowUp.objects.exists()


def test_the_owner_choices_are_people_who_can_act_there(rec):
    owners = follow_up_owner_choices(unit=rec.member.org_unit)
    assert set(owners) == {rec.visitor_a, rec.team_visitor}


def test_the_owner_choices_take_the_same_few_queries_however_many_candidates(rec):
    unit = rec.member.org_unit
    with CaptureQueriesContext(connection) as few:
        assert len(follow_up_owner_choices(unit=unit)) == 2
    role = make_role("r_more", ["visits.view", "visits.record"])
    viewer = make_role("r_look", ["visits.view"], DataScope.ALL)
    for n in range(8):
        make_staff(f"extra_{n}", rec.union.workshop_a, [role])
        make_staff(f"looker_{n}", rec.union.station_b, [viewer])  # an all-units role, no record
    make_staff("everywhere", rec.union.station_b, [make_role("r_all", ["visits.record"],
                                                             DataScope.ALL)])
    make_staff("sideways", rec.union.workshop_b, [role])  # record rights elsewhere only
    with CaptureQueriesContext(connection) as many:
        owners = follow_up_owner_choices(unit=unit)
    assert len(many.captured_queries) == len(few.captured_queries) <= 2
    assert {u.username for u in owners} == (
        {"visitor_a", "team_visitor", "everywhere"} | {f"extra_{n}" for n in range(8)})
    assert [u.username for u in owners] == sorted(u.username for u in owners)


def test_my_follow_ups_come_open_first_with_overdue_marked(rec):
    late = create(rec, days=-2, title="逾期")
    soon = create(rec, days=5, title="近期")
    done = create(rec, days=-5, title="已办")
    services.follow_up_done(actor=rec.visitor_a, follow_up=done, note="已回访")
    create(rec, owner=rec.team_visitor, title="别人的")
    mine = list(follow_ups_for_user(user=rec.visitor_a))
    assert [f.title for f in mine] == ["逾期", "近期", "已办"]
    assert [f.is_overdue for f in mine] == [True, False, False]
    everyone = follow_ups_for_user(user=rec.visitor_a, mine=False)
    assert everyone.count() == 4
    assert follow_ups_for_user(user=rec.visitor_b, mine=False).count() == 0
    assert late.pk
    assert soon.pk


def test_done_once_then_a_repeat_changes_nothing(rec):
    follow_up = create(rec)
    with pytest.raises(ServiceError) as exc:
        services.follow_up_done(actor=rec.visitor_a, follow_up=follow_up, note="")
    assert "note" in exc.value.fields
    services.follow_up_done(actor=rec.team_visitor, follow_up=follow_up, note="已回访，情况稳定")
    again = services.follow_up_done(actor=rec.team_visitor, follow_up=follow_up, note="再次")
    assert again.done_note == "已回访，情况稳定"
    assert AuditEvent.objects.filter(action="follow_up.done").count() == 1


def test_the_journal_keeps_no_title_or_note_text(rec):
    follow_up = create(rec, title="陪同配偶复查肾功能")
    services.follow_up_done(actor=rec.visitor_a, follow_up=follow_up, note="已陪同复查，指标稳定")
    events = list(AuditEvent.objects.filter(action__startswith="follow_up.").order_by("id"))
    assert [e.action for e in events] == ["follow_up.create", "follow_up.done"]
    journaled = json.dumps([[e.target_label, e.changes] for e in events], ensure_ascii=False)
    assert "肾功能" not in journaled
    assert "指标稳定" not in journaled
    assert events[1].changes["note_length"] == len("已陪同复查，指标稳定")
    assert events[0].target_label == f"跟进事项 #{follow_up.pk}"


def test_a_cancelled_follow_up_cannot_be_done(rec):
    follow_up = create(rec)
    FollowUp.objects.filter(pk=follow_up.pk).update(status=FollowUpStatus.CANCELLED)
    with pytest.raises(Conflict):
        services.follow_up_done(actor=rec.visitor_a, follow_up=follow_up, note="x")


def test_a_cadre_out_of_scope_cannot_mark_it_done(rec):
    follow_up = create(rec)
    with pytest.raises(NotFound):
        services.follow_up_done(actor=rec.visitor_b, follow_up=follow_up, note="x")


def test_the_follow_up_page_lists_and_marks_done(client, rec):
    late = create(rec, days=-1, title="送医保材料")
    verified_login(client, rec.visitor_a)
    html = client.get("/visits/follow-ups/").content.decode()
    assert "送医保材料" in html
    assert "已逾期" in html
    response = client.post(f"/visits/follow-ups/{late.pk}/done/", {"note": "已送达"})
    assert response.status_code == 302
    late.refresh_from_db()
    assert (late.status, late.done_note) == (FollowUpStatus.DONE, "已送达")
    assert "送医保材料" not in client.get("/visits/follow-ups/").content.decode()
    assert "送医保材料" in client.get("/visits/follow-ups/?status=done").content.decode()


def test_the_follow_up_page_is_scoped(client, rec):
    follow_up = create(rec, title="送医保材料")
    verified_login(client, rec.visitor_b)
    assert "送医保材料" not in client.get("/visits/follow-ups/?show=all").content.decode()
    assert client.post(f"/visits/follow-ups/{follow_up.pk}/done/",
                       {"note": "x"}).status_code == 404
