# The fixtures come from helpers_records (no conftest of our own), hence F811 as parameters.
# ruff: noqa: F811
"""What the phone walkthrough of issue 4 asked of the record pages: the notice banner tells
when the notice is over, an active record leads to the worker's open visit needs (turned into
a pre-filled application with consent), a pending record offers withdrawal before closure,
and the list's filters fold away on a phone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import make_role, make_staff, verified_login
from unionaid.archive.services.records import record_enrol
from unionaid.archive.tests.helpers_records import (  # noqa: F401 (fixtures)
    approve_all,
    archive,
    clock,
    pending_task,
    people,
    record_profile,
    through_workshop,
)
from unionaid.visits.models import NeedKind, NeedStatus, Visit, VisitKind, VisitNeed


@pytest.fixture
def member(archive, make_member):
    return make_member(archive.union.team_a, name="张建华")


@pytest.fixture
def pending(archive, member):
    record_profile(archive, member, monthly="4000")
    return record_enrol(actor=archive.filer, member=member, reason="配偶长期患病")


def detail(client, user, record) -> str:
    return verified_login(client, user).get(
        reverse("archive:record-detail", args=[record.pk])).content.decode()


def test_the_notice_banner_says_when_the_notice_is_over(client, archive, pending, clock):
    task = through_workshop(archive, pending)
    during = detail(client, archive.station_officer, pending)
    assert "公示中，公示至" in during
    assert "公示期已满" not in during
    clock.move_to(task.due_at)
    after = detail(client, archive.station_officer, pending)  # sessions expire meanwhile
    assert "公示中，公示至" not in after
    end = timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")
    assert f"公示期已满（{end}）" in after
    assert "没有待核实的异议，可以办理公示节点。" in after


def test_the_ended_notice_counts_the_objections_still_open(client, archive, pending, clock):
    from unionaid.archive.services.objections import objection_record

    task = through_workshop(archive, pending)
    objection_record(actor=archive.station_officer, record=pending, raised_by_label="同事",
                     content="有房产")
    clock.move_to(task.due_at)
    assert "还有 1 条异议未核实处理" in detail(client, archive.station_officer, pending)


def test_a_pending_record_offers_withdrawal_before_closure(client, archive, pending):
    page = detail(client, archive.filer, pending)
    withdraw = page.index('id="withdraw-form"')
    close = page.index(reverse("archive:record-close", args=[pending.pk]))
    assert withdraw < close


@pytest.fixture
def apply_cadre(archive):
    role = make_role("apply_visit", ["archive.view", "assistance.apply", "assistance.view",
                                     "members.view", "visits.view", "visits.record"])
    return make_staff("apply_cadre", archive.union.station_a, [role])


def open_need(archive, member, *, status=NeedStatus.OPEN) -> VisitNeed:
    visit = Visit.objects.create(kind=VisitKind.HOME, member=member, org_unit=member.org_unit,
                                 visited_on=dt.date(2026, 9, 27), visitors="干事",
                                 recorded_by=archive.filer)
    return VisitNeed.objects.create(visit=visit, kind=NeedKind.MONEY, note="医疗费用负担重",
                                    status=status)


def test_an_active_record_leads_to_the_open_needs_as_applications(client, archive, pending,
                                                                 clock, member, apply_cadre):
    active = approve_all(archive, pending, clock)
    need = open_need(archive, member)
    done = open_need(archive, member, status=NeedStatus.CLOSED)
    page = detail(client, apply_cadre, active)
    assert 'id="apply"' in page
    assert 'id="apply-link" href="#apply"' in page
    assert reverse("visits:need-to-application", args=[need.pk]) in page
    assert reverse("visits:need-to-application", args=[done.pk]) not in page
    assert f"/assistance/applications/new/?member={member.pk}" in page  # other items


def test_without_open_needs_the_apply_link_goes_to_the_item_list(client, archive, pending,
                                                                 clock, member, apply_cadre):
    active = approve_all(archive, pending, clock)
    page = detail(client, apply_cadre, active)
    assert f'id="apply-link" href="/assistance/applications/new/?member={member.pk}"' in page
    assert "/visits/needs/" not in page


def test_needs_are_not_offered_to_a_cadre_who_may_not_record_visits(client, archive, pending,
                                                                    clock, member):
    active = approve_all(archive, pending, clock)
    open_need(archive, member)
    cadre = make_staff("apply_only", archive.union.station_a, [make_role(
        "apply_only", ["archive.view", "assistance.apply", "assistance.view", "members.view"])])
    page = detail(client, cadre, active)
    assert "/visits/needs/" not in page
    assert 'id="apply"' in page


def test_the_list_filters_fold_away_unless_in_use(client, archive, pending):
    page = verified_login(client, archive.filer)
    url = reverse("archive:record-list")
    html = page.get(url).content.decode()
    assert re.search(r'<form[^>]*class="[^"]*collapse d-md-flex"[^>]*id="record-filters"', html)
    html = page.get(url, {"status": "pending"}).content.decode()
    assert re.search(r'<form[^>]*class="[^"]*collapse d-md-flex show"', html)


def test_the_ledger_export_starts_with_a_readable_period(client, archive):
    """<input type="date"> reads only ISO dates: a localised 2026/01/01 showed an empty field
    and the export failed with two "required" errors."""
    page = verified_login(client, archive.filer).get(reverse("archive:ledgers"))
    html = page.content.decode()
    assert re.search(r'type="date" name="start" value="2026-01-01"', html)
    assert re.search(r'type="date" name="end" value="2026-09-28"', html)


def test_the_difficult_unit_form_starts_on_today(client, archive):
    html = verified_login(client, archive.filer).get(
        reverse("archive:difficult-units")).content.decode()
    assert re.search(r'type="date" name="since" value="2026-09-28"', html)
