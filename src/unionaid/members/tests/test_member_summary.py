# The fixtures come from the archive and visits helpers (no conftest of their own), hence F811.
# ruff: noqa: F811
"""The member page's 帮扶概况, through the HTTP client: each part (archive record, watch lists,
last visit, this year's assistance) only for those whose rights reach the member, the values
right, no causes, and a fixed number of queries whatever the member's history.

The archive helpers freeze the clock at Monday 2026-09-28 (Beijing); "this year" is 2026.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import PASSWORD, make_role, make_staff
from unionaid.accounts import services as account_services
from unionaid.archive.models import HardshipRecord, RecordStatus
from unionaid.archive.services.common import EXIT_KIND
from unionaid.archive.services.records import record_enrol, record_exit_apply
from unionaid.archive.services.watch import watch_add
from unionaid.archive.tests.helpers_records import (  # noqa: F401 (fixtures)
    SHANGHAI,
    approve_all,
    archive,
    at,
    clock,
    people,
    record_profile,
    through_workshop,
)
from unionaid.assistance.models import Application, ApplicationStatus
from unionaid.audit.models import AuditEvent
from unionaid.members.models import ConsentKind
from unionaid.members.services import consent_grant
from unionaid.visits.services.visits import visit_submit
from unionaid.visits.tests.helpers_records import (  # noqa: F401 (fixtures)
    catalog,
    healthy,
    household,
    new_uuid,
    visit_data,
)

SUMMARY_PERMS = ["org.view", "members.view", "archive.view", "visits.view", "assistance.view"]


@pytest.fixture
def viewers(archive):
    """Station A posts with different rights, and one whose summary rights lie in station B."""
    union = archive.union
    full = make_role("summary_full", SUMMARY_PERMS)
    no_archive = make_role("summary_no_archive",
                           ["org.view", "members.view", "visits.view", "assistance.view"])
    members_only = make_role("summary_members", ["org.view", "members.view"])
    elsewhere = make_staff("summary_elsewhere", union.station_a, [members_only])
    post_b = account_services.position_create(
        actor=None, org_unit=union.station_b, name="乙站段查看", roles=[full])
    account_services.assignment_grant(actor=None, user=elsewhere, position=post_b)
    return {
        "full": make_staff("summary_full", union.station_a, [full]),
        "no_archive": make_staff("summary_no_archive", union.station_a, [no_archive]),
        "members_only": make_staff("summary_members", union.station_a, [members_only]),
        "elsewhere": elsewhere,
    }


@pytest.fixture
def member(archive, make_member):
    return make_member(archive.union.team_a)


def enrol(archive, member):
    record_profile(archive, member, monthly="2500")  # 2500 / 3 < 800 → 深度困难
    return record_enrol(actor=archive.filer, member=member, reason="配偶重病")


def visit(archive, member, day: str, visitors: str = "张干事、李干事", **changes):
    data = visit_data(member, visited_on=day, visitors=visitors, profile=healthy(),
                      consent={}, needs=[])
    data.update(changes)
    saved, _created = visit_submit(actor=archive.filer, client_uuid=new_uuid(), data=data)
    return saved


def application(member, item, *, status, amount, submitted: str | None, period: str, filed_by):
    submitted_at = (dt.datetime.combine(dt.date.fromisoformat(submitted), dt.time(10),
                                        tzinfo=SHANGHAI) if submitted else None)
    return Application.objects.create(
        member=member, item=item, org_unit=member.org_unit, period=period, filed_by=filed_by,
        amount=Decimal(amount), status=status, submitted_at=submitted_at)


def page(client, user, member):
    client.force_login(user)
    return client.get(reverse("members:member-detail", args=[member.pk]))


# -- values ---------------------------------------------------------------------------------------

def test_it_shows_where_the_worker_stands_to_a_cadre_with_every_right(
    client, archive, viewers, member, catalog, clock
):
    record = approve_all(archive, enrol(archive, member), clock)
    watch_add(actor=archive.station_officer, member=member, kind="gig", reason="外卖骑手")
    watch_add(actor=archive.station_officer, member=member, kind="edge", reason="收入不稳")
    visit(archive, member, "2026-08-01", visitors="王干事")
    latest = visit(archive, member, "2026-09-20")
    item, other = catalog["illness"], catalog["living"]
    apps = {
        "approved": application(member, item, status=ApplicationStatus.APPROVED, amount="1000",
                                submitted="2026-03-02", period="2026-1", filed_by=archive.filer),
        "paid": application(member, other, status=ApplicationStatus.PAID, amount="500.50",
                            submitted="2026-01-05", period="2026", filed_by=archive.filer),
        "last_year": application(member, item, status=ApplicationStatus.PAID, amount="9999",
                                 submitted="2025-12-30", period="2025",
                                 filed_by=archive.filer),
        "in_review": application(member, item, status=ApplicationStatus.IN_REVIEW,
                                 amount="300", submitted="2026-09-01", period="2026-2",
                                 filed_by=archive.filer),
        "rejected": application(member, item, status=ApplicationStatus.REJECTED, amount="700",
                                submitted="2026-04-01", period="2026-3",
                                filed_by=archive.filer),
        "draft": application(member, other, status=ApplicationStatus.DRAFT, amount="2000",
                             submitted=None, period="2026-4", filed_by=archive.filer),
    }

    response = page(client, viewers["full"], member)
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary["archive"]["record"] == record
    assert summary["archive"]["watch"] == ["边缘困难职工", "新就业形态劳动者"]
    assert summary["visits"]["last_visit"] == latest
    part = summary["assistance"]
    assert (part["year"], part["granted_count"], part["granted_total"], part["in_review"]) == (
        2026, 2, Decimal("1500.50"), 1)
    assert [a.pk for a in part["rows"]] == [apps["in_review"].pk, apps["approved"].pk,
                                            apps["paid"].pk]

    html = response.content.decode()
    assert 'id="member-summary"' in html
    assert "深度困难" in html
    assert "在档" in html
    assert f"建档日期 {record.enrolled_on:%Y-%m-%d}" in html
    assert reverse("archive:record-detail", args=[record.pk]) in html
    assert "公示中" not in html
    assert "边缘困难职工" in html
    assert "新就业形态劳动者" in html
    assert "2026-09-20" in html
    assert "张干事、李干事" in html
    assert "王干事" not in html  # only the latest visit
    assert reverse("visits:visit-detail", args=[latest.pk]) in html
    assert reverse("visits:profile-history", args=[member.pk]) in html
    assert "2026 年已核准 2 笔，合计 1,500.50 元" in html
    assert "审批中 1 件" in html
    for key in ("approved", "paid", "in_review"):
        assert reverse("assistance:application-detail", args=[apps[key].pk]) in html
    for key in ("last_year", "rejected", "draft"):
        assert reverse("assistance:application-detail", args=[apps[key].pk]) not in html


def test_it_shows_an_enrolment_in_its_public_notice(client, archive, viewers, member):
    record = enrol(archive, member)
    notice = through_workshop(archive, record)
    html = page(client, viewers["full"], member).content.decode()
    assert "公示中" in html
    assert f"公示至 {notice.due_at.astimezone(SHANGHAI):%Y-%m-%d}" in html
    assert "建档审批中" in html
    assert f"申请日期 {record.applied_at.astimezone(SHANGHAI):%Y-%m-%d}" in html
    assert "建档日期" not in html


def test_it_shows_an_exit_with_its_follow_up_months(client, archive, viewers, member, clock):
    active = approve_all(archive, enrol(archive, member), clock)
    clock.move_to(at("2026-11-02"))
    exiting = record_exit_apply(actor=archive.filer, record=active, reason="配偶已就业")
    exited = approve_all(archive, exiting, clock, EXIT_KIND)
    assert exited.status == RecordStatus.EXITED
    html = page(client, viewers["full"], member).content.decode()
    assert "已解困脱困" in html
    assert (f"脱困日期 {exited.exited_on:%Y-%m-%d}，回访 6 个月"
            f"（至 {exited.follow_up_until:%Y-%m-%d}）") in html


def test_it_shows_the_current_record_not_a_withdrawn_or_older_one(
    client, archive, viewers, member
):
    record = enrol(archive, member)
    HardshipRecord.objects.filter(pk=record.pk).update(status=RecordStatus.WITHDRAWN)
    response = page(client, viewers["full"], member)
    # No record in the archive and on no list: the archive part says nothing.
    assert response.context["summary"]["archive"] is None
    assert 'id="summary-archive"' not in response.content.decode()
    # The visits and assistance parts still show (empty).
    html = response.content.decode()
    assert "尚无走访记录" in html
    assert "2026 年已核准 0 笔，合计 0.00 元" in html


def test_it_never_shows_causes_or_health_details_on_the_member_page(
    client, archive, viewers, member, registrar
):
    """Even with the member's health consent in force: causes stay on the record's page."""
    consent_grant(actor=registrar, member=member, kind=ConsentKind.HEALTH)
    record = enrol(archive, member)
    HardshipRecord.objects.filter(pk=record.pk).update(causes="illness,disability")
    visit(archive, member, "2026-09-20", profile=household())
    html = page(client, viewers["full"], member).content.decode()
    assert 'id="summary-archive"' in html
    assert "因病" not in html
    assert "因残" not in html
    assert "尿毒症" not in html


# -- who sees which part -------------------------------------------------------------------------

def test_a_cadre_without_archive_view_sees_no_archive_part(
    client, archive, viewers, member, clock
):
    approve_all(archive, enrol(archive, member), clock)
    watch_add(actor=archive.station_officer, member=member, kind="gig", reason="外卖骑手")
    visit(archive, member, "2026-09-20")
    response = page(client, viewers["no_archive"], member)
    assert response.status_code == 200
    assert response.context["summary"]["archive"] is None
    html = response.content.decode()
    assert 'id="member-summary"' in html
    assert 'id="summary-archive"' not in html
    assert 'id="summary-watch"' not in html
    assert "深度困难" not in html
    assert "新就业形态劳动者" not in html
    assert 'id="summary-visits"' in html
    assert "2026-09-20" in html
    assert 'id="summary-assistance"' in html


def test_rights_held_over_another_station_do_not_reach_the_member(
    client, archive, viewers, member, clock
):
    approve_all(archive, enrol(archive, member), clock)
    visit(archive, member, "2026-09-20")
    response = page(client, viewers["elsewhere"], member)
    assert response.status_code == 200  # members.view over station A
    summary = response.context["summary"]
    assert {"archive", "visits", "assistance"} <= set(summary)  # and whatever else registers
    assert set(summary.values()) == {None}
    html = response.content.decode()
    assert 'id="member-summary"' not in html
    assert "深度困难" not in html
    assert "2026-09-20" not in html


def test_a_cadre_with_members_view_only_sees_no_panel(client, archive, viewers, member, clock):
    approve_all(archive, enrol(archive, member), clock)
    html = page(client, viewers["members_only"], member).content.decode()
    assert 'id="member-summary"' not in html
    assert "帮扶概况" not in html


def test_an_out_of_scope_member_is_still_not_found(client, archive, member, clock):
    approve_all(archive, enrol(archive, member), clock)
    response = page(client, archive.other_officer, member)  # 站段 B
    assert response.status_code == 404
    assert "深度困难" not in response.content.decode()
    assert AuditEvent.objects.filter(action="access.denied", target_id=str(member.pk)).exists()


def test_a_worker_sees_their_own_assistance_with_portal_links(
    client, archive, member, catalog
):
    worker = account_services.user_create(actor=None, username="summary_worker",
                                          password=PASSWORD, member=member)
    own = application(member, catalog["living"], status=ApplicationStatus.PAID, amount="2000",
                      submitted="2026-02-01", period="2026", filed_by=worker)
    enrol(archive, member)
    response = page(client, worker, member)
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary["archive"] is None
    assert summary["visits"] is None
    assert summary["assistance"]["granted_total"] == Decimal("2000")
    html = response.content.decode()
    assert reverse("portal:application-detail", args=[own.pk]) in html
    assert reverse("assistance:application-detail", args=[own.pk]) not in html
    assert "建档审批中" not in html


# -- a fixed number of queries -------------------------------------------------------------------

def _count_queries(client, user, member) -> int:
    client.force_login(user)
    url = reverse("members:member-detail", args=[member.pk])
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_page_runs_a_fixed_number_of_queries_whatever_the_history(
    client, archive, viewers, make_member, catalog, clock, django_assert_max_num_queries
):
    small, large = make_member(archive.union.team_a), make_member(archive.union.team_a)
    for who in (small, large):
        approve_all(archive, enrol(archive, who), clock)
        visit(archive, who, "2026-09-01")
        application(who, catalog["living"], status=ApplicationStatus.PAID, amount="100",
                    submitted="2026-02-01", period="p0", filed_by=archive.filer)
    watch_add(actor=archive.station_officer, member=large, kind="gig", reason="骑手")
    watch_add(actor=archive.station_officer, member=large, kind="edge", reason="收入不稳")
    for n in range(1, 6):
        visit(archive, large, f"2026-08-{n:02d}")
    for n in range(1, 12):
        status = ApplicationStatus.IN_REVIEW if n % 2 else ApplicationStatus.APPROVED
        application(large, catalog["illness"], status=status, amount="10",
                    submitted="2026-03-01", period=f"p{n}", filed_by=archive.filer)

    user = viewers["full"]
    assert _count_queries(client, user, small) == _count_queries(client, user, large)
    with django_assert_max_num_queries(20):
        client.get(reverse("members:member-detail", args=[large.pk]))


def test_the_enrol_button_shows_only_while_the_worker_has_no_open_file(client, archive, member):
    enrol_url = reverse("archive:record-enrol", args=[member.pk])
    assert enrol_url in page(client, archive.filer, member).content.decode()
    enrol(archive, member)  # in progress: reached from the panel, not enrolled twice
    assert enrol_url not in page(client, archive.filer, member).content.decode()
