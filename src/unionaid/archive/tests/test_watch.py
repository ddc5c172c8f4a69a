"""Watch lists (动态管理清单): the rules, hand entries, idempotent refresh, rights and scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from unionaid.archive.models import (
    CategoryRules,
    DibaoStandard,
    RecordStatus,
    WatchEntry,
    WatchKind,
    WatchSource,
)
from unionaid.archive.selectors.lists import watch_counts, watch_entries_visible_to
from unionaid.archive.services.watch import (
    difficult_unit_add,
    difficult_unit_remove,
    watch_add,
    watch_remove,
    watchlists_refresh,
)
from unionaid.archive.tests.helpers_lists import TODAY, add_profile, add_record, lists_fixture  # noqa: F401
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.members.models import EmploymentForm, Member, MembershipStatus


def active(kind, **filters):
    return WatchEntry.objects.filter(kind=kind, removed_at__isnull=True, **filters)


def edge_ids():
    return set(active(WatchKind.EDGE).values_list("member_id", flat=True))


# -- the edge-of-hardship rule -------------------------------------------------------------------

def test_edge_lists_members_below_the_edge_multiple_but_not_exactly_at_it(lists, make_member):
    team_a = lists.union.team_a
    below = make_member(team_a)
    add_profile(below, "1999.99")  # 2.5 × 800 = 2000
    at_edge = make_member(team_a)
    add_profile(at_edge, "2000.00")
    above = make_member(team_a)
    add_profile(above, "2600")
    unprofiled = make_member(team_a)
    result = watchlists_refresh(today=TODAY)
    assert edge_ids() == {below.pk}
    assert result["edge"]["added"] == 1
    entry = active(WatchKind.EDGE).get()
    assert entry.source == WatchSource.RULE
    assert entry.org_unit_id == team_a.pk
    assert "2000.00" in entry.reason
    assert unprofiled.pk not in edge_ids()


def test_edge_reads_the_latest_profile_only(lists, make_member):
    member = make_member(lists.union.team_a)
    add_profile(member, "900", taken_on=dt.date(2025, 1, 1))
    add_profile(member, "3000", taken_on=dt.date(2026, 2, 1))
    recovered = make_member(lists.union.team_a)
    add_profile(recovered, "3000", taken_on=dt.date(2025, 1, 1))
    add_profile(recovered, "900", taken_on=dt.date(2026, 2, 1))
    watchlists_refresh(today=TODAY)
    assert edge_ids() == {recovered.pk}


def test_edge_leaves_out_open_records_and_inactive_members(lists, make_member):
    in_archive = make_member(lists.union.team_a)
    add_record(in_archive, per_capita="1000")
    exited = make_member(lists.union.team_a)
    add_record(exited, status=RecordStatus.EXITED, per_capita="1000",
               exited_on=dt.date(2026, 1, 1))
    retired = make_member(lists.union.team_a)
    add_profile(retired, "1000")
    Member.objects.filter(pk=retired.pk).update(membership_status=MembershipStatus.RETIRED)
    watchlists_refresh(today=TODAY)
    assert edge_ids() == {exited.pk}


def test_edge_uses_the_units_own_multiplier(lists, make_member):
    CategoryRules.objects.create(org_unit=lists.union.station_b, edge_multiplier=Decimal("3.00"))
    member_b = make_member(lists.union.team_b)
    add_profile(member_b, "2200")  # < 3 × 800
    member_a = make_member(lists.union.team_a)
    add_profile(member_a, "2200")  # ≥ 2.5 × 800
    watchlists_refresh(today=TODAY)
    assert edge_ids() == {member_b.pk}


def test_members_whose_unit_has_no_line_are_skipped_and_counted(lists, make_member):
    DibaoStandard.objects.filter(year=2026).delete()
    DibaoStandard.objects.create(org_unit=lists.union.station_a, region="甲市", year=2026,
                                 monthly_amount=Decimal("800"))
    member_a = make_member(lists.union.team_a)
    add_profile(member_a, "1000")
    for _n in range(2):
        add_profile(make_member(lists.union.team_b), "1000")
    result = watchlists_refresh(today=TODAY)
    assert edge_ids() == {member_a.pk}
    assert result["edge_skipped_no_line"] == 2


def test_a_rule_entry_leaves_when_the_rule_no_longer_matches(lists, make_member):
    member = make_member(lists.union.team_a)
    add_profile(member, "1000", taken_on=dt.date(2026, 1, 1))
    watchlists_refresh(today=TODAY)
    add_profile(member, "5000", taken_on=dt.date(2026, 5, 1))
    result = watchlists_refresh(today=TODAY)
    assert result["edge"]["removed"] == 1
    entry = WatchEntry.objects.get(member=member, kind=WatchKind.EDGE)
    assert entry.removed_at is not None  # history kept


def test_a_rule_entry_follows_a_member_who_moved(lists, make_member):
    member = make_member(lists.union.team_a)
    add_profile(member, "1000")
    watchlists_refresh(today=TODAY)
    Member.objects.filter(pk=member.pk).update(org_unit=lists.union.team_b)
    result = watchlists_refresh(today=TODAY)
    assert result["edge"]["moved"] == 1
    assert active(WatchKind.EDGE).get().org_unit_id == lists.union.team_b.pk


# -- gig workers and firms in difficulty ---------------------------------------------------------

def test_gig_workers_are_listed_by_employment_form(lists, make_member):
    rider = make_member(lists.union.team_a, employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
    make_member(lists.union.team_a)
    watchlists_refresh(today=TODAY)
    assert set(active(WatchKind.GIG).values_list("member_id", flat=True)) == {rider.pk}


def test_marking_a_unit_in_difficulty_lists_its_subtree_at_once(lists, make_member):
    in_team = make_member(lists.union.team_a)
    in_workshop = make_member(lists.union.workshop_a)
    make_member(lists.union.station_a)
    make_member(lists.union.team_b)
    marked = difficult_unit_add(actor=lists.cadre_a, unit=lists.union.workshop_a,
                                since=dt.date(2026, 1, 1), note="停产半年")
    listed = set(active(WatchKind.FIRM_DIFFICULTY).values_list("member_id", flat=True))
    assert listed == {in_team.pk, in_workshop.pk}
    assert AuditEvent.objects.filter(action="difficult_unit.add").count() == 1
    difficult_unit_remove(actor=lists.cadre_a, marked=marked, reason="恢复生产")
    assert not active(WatchKind.FIRM_DIFFICULTY).exists()
    assert WatchEntry.objects.filter(kind=WatchKind.FIRM_DIFFICULTY).count() == 2


def test_marking_a_unit_touches_only_its_subtree(lists, make_member):
    """Marking 甲车间 brings the list in step for 甲车间's members only: an entry elsewhere
    that tonight's refresh would remove is left for that refresh."""
    in_team = make_member(lists.union.team_a)
    elsewhere = make_member(lists.union.team_b)
    stale = WatchEntry.objects.create(member=elsewhere, org_unit=lists.union.team_b,
                                      kind=WatchKind.FIRM_DIFFICULTY, source=WatchSource.RULE,
                                      reason="所在单位“乙车间”为困难企业")
    marked = difficult_unit_add(actor=lists.cadre_a, unit=lists.union.workshop_a,
                                since=dt.date(2026, 1, 1))
    assert active(WatchKind.FIRM_DIFFICULTY, member=in_team).exists()
    stale.refresh_from_db()
    assert stale.removed_at is None
    difficult_unit_remove(actor=lists.cadre_a, marked=marked, reason="恢复生产")
    assert not active(WatchKind.FIRM_DIFFICULTY, member=in_team).exists()
    stale.refresh_from_db()
    assert stale.removed_at is None
    watchlists_refresh(today=TODAY)  # the whole tree: now the stale entry goes
    stale.refresh_from_db()
    assert stale.removed_at is not None


def test_lifting_a_nested_mark_keeps_members_an_ancestor_mark_covers(lists, make_member):
    in_team = make_member(lists.union.team_a)
    difficult_unit_add(actor=lists.cadre_a, unit=lists.union.station_a, since=dt.date(2026, 1, 1))
    inner = difficult_unit_add(actor=lists.cadre_a, unit=lists.union.workshop_a,
                               since=dt.date(2026, 2, 1))
    difficult_unit_remove(actor=lists.cadre_a, marked=inner, reason="并入站段统一认定")
    entry = active(WatchKind.FIRM_DIFFICULTY, member=in_team).get()
    assert "甲车务段" in entry.reason
    event = AuditEvent.objects.get(action="difficult_unit.remove")
    assert event.changes["reason_chars"] == len("并入站段统一认定")
    assert "并入" not in str(event.changes)


def test_only_a_manager_of_the_unit_marks_it(lists):
    with pytest.raises(PermissionDenied):
        difficult_unit_add(actor=lists.cadre_b, unit=lists.union.workshop_a,
                           since=dt.date(2026, 1, 1))
    difficult_unit_add(actor=lists.cadre_a, unit=lists.union.workshop_a, since=dt.date(2026, 1, 1))
    with pytest.raises(Conflict):
        difficult_unit_add(actor=lists.cadre_a, unit=lists.union.workshop_a,
                           since=dt.date(2026, 1, 1))


# -- hand entries and idempotence ----------------------------------------------------------------

def test_hand_entries_survive_a_refresh(lists, make_member):
    model_worker = make_member(lists.union.team_a)
    watch_add(actor=lists.cadre_a, member=model_worker, kind=WatchKind.MODEL_WORKER,
              reason="全国劳模，配偶重病")
    watched = make_member(lists.union.team_a)  # not below the edge, watched by hand
    add_profile(watched, "5000")
    watch_add(actor=lists.cadre_a, member=watched, kind=WatchKind.EDGE, reason="即将下岗")
    matching = make_member(lists.union.team_a)  # matches the rule and is already on by hand
    add_profile(matching, "1000")
    watch_add(actor=lists.cadre_a, member=matching, kind=WatchKind.EDGE, reason="走访发现")
    watchlists_refresh(today=TODAY)
    watchlists_refresh(today=TODAY)
    assert active(WatchKind.MODEL_WORKER, member=model_worker).exists()
    assert active(WatchKind.EDGE, member=watched, source=WatchSource.MANUAL).exists()
    assert list(active(WatchKind.EDGE, member=matching).values_list("source", flat=True)) == [
        WatchSource.MANUAL]


def test_refresh_is_idempotent_and_audits_counts_only(lists, make_member):
    add_profile(make_member(lists.union.team_a), "1000")
    make_member(lists.union.team_b, employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
    first = watchlists_refresh(today=TODAY)
    rows = WatchEntry.objects.count()
    second = watchlists_refresh(actor=lists.bureau_officer, today=TODAY)
    assert first["edge"]["added"] == 1
    assert first["gig"]["added"] == 1
    for kind in ("edge", "gig", "firm_difficulty"):
        assert second[kind]["added"] == 0
        assert second[kind]["removed"] == 0
    assert WatchEntry.objects.count() == rows
    events = AuditEvent.objects.filter(action="watch.refresh").order_by("id")
    assert events.count() == 2
    assert events.last().actor_id == lists.bureau_officer.pk
    assert set(events.last().changes) == {"year", "edge", "gig", "firm_difficulty",
                                          "edge_skipped_no_line"}


def test_manual_only_lists_are_not_refreshed(lists):
    with pytest.raises(ServiceError) as exc:
        watchlists_refresh(today=TODAY, kinds=[WatchKind.MODEL_WORKER])
    assert exc.value.code == "manual_only"


def test_refresh_by_a_person_needs_archive_manage_over_every_unit(lists):
    """The refresh rewrites the lists of the whole tree: a station's manager may not start
    it (the nightly command does it for everyone)."""
    for person in (lists.viewer_a, lists.cadre_a, lists.cadre_b):
        with pytest.raises(PermissionDenied) as exc:
            watchlists_refresh(actor=person, today=TODAY)
        assert exc.value.code == "refresh_not_allowed"
    assert not AuditEvent.objects.filter(action="watch.refresh").exists()
    watchlists_refresh(actor=lists.bureau_officer, today=TODAY)
    assert AuditEvent.objects.filter(action="watch.refresh").count() == 1


def test_watch_add_checks_rights_reason_and_duplicates(lists, make_member):
    member = make_member(lists.union.team_a)
    with pytest.raises(PermissionDenied):
        watch_add(actor=lists.cadre_b, member=member, kind=WatchKind.OTHER, reason="x")
    with pytest.raises(ServiceError) as exc:
        watch_add(actor=lists.cadre_a, member=member, kind=WatchKind.OTHER, reason=" ")
    assert exc.value.code == "reason_required"
    watch_add(actor=lists.cadre_a, member=member, kind=WatchKind.OTHER, reason="独居")
    with pytest.raises(Conflict):
        watch_add(actor=lists.workshop_cadre, member=member, kind=WatchKind.OTHER, reason="又一次")
    event = AuditEvent.objects.get(action="watch.add")
    assert event.changes["kind"] == "other"
    assert event.changes["reason_chars"] == len("独居")
    assert "独居" not in str(event.changes)  # free text stays out of the journal


def test_watch_remove_keeps_history_and_is_idempotent(lists, make_member):
    member = make_member(lists.union.team_a)
    entry = watch_add(actor=lists.cadre_a, member=member, kind=WatchKind.OTHER, reason="独居")
    with pytest.raises(PermissionDenied):
        watch_remove(actor=lists.cadre_b, entry=entry, reason="x")
    watch_remove(actor=lists.cadre_a, entry=entry, reason="已搬去与子女同住")
    watch_remove(actor=lists.cadre_a, entry=entry, reason="再次")
    entry.refresh_from_db()
    assert entry.removed_at is not None
    event = AuditEvent.objects.get(action="watch.remove")
    assert event.changes["reason_chars"] == len("已搬去与子女同住")
    assert "子女" not in str(event.changes)
    watch_add(actor=lists.cadre_a, member=member, kind=WatchKind.OTHER, reason="又独居了")
    assert WatchEntry.objects.filter(member=member).count() == 2


# -- scope ---------------------------------------------------------------------------------------

def test_readers_see_only_their_subtree(lists, make_member):
    rider_a = make_member(lists.union.team_a, employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
    make_member(lists.union.team_b, employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
    watchlists_refresh(today=TODAY)
    seen = watch_entries_visible_to(user=lists.viewer_a, kind=WatchKind.GIG)
    assert [e.member_id for e in seen] == [rider_a.pk]
    assert watch_counts(user=lists.cadre_b)[WatchKind.GIG] == 1
    assert watch_counts(user=lists.bureau_officer)[WatchKind.GIG] == 2
    assert watch_counts(user=lists.registrar)[WatchKind.GIG] == 0  # no archive.view


def test_the_command_refreshes_one_or_all_lists(lists, make_member):
    from io import StringIO

    from django.core.management import call_command

    add_profile(make_member(lists.union.team_a), "1000")
    make_member(lists.union.team_a, employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
    out = StringIO()
    call_command("watch_refresh", "--date", "2026-06-01", "--kind", "gig", stdout=out)
    assert "新就业形态劳动者：符合 1 人，新增 1" in out.getvalue()
    assert not active(WatchKind.EDGE).exists()
    call_command("watch_refresh", "--date", "2026-06-01", stdout=StringIO())
    assert active(WatchKind.EDGE).count() == 1
