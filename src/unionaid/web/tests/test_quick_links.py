# The archive fixtures come from its helpers (no conftest of their own), hence F811.
# ruff: noqa: F811
"""The home page's 常用功能: the daily-work links each role may use and no others, the to-do
count, and the worker's own way in (the portal)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import PASSWORD, make_role, make_staff
from unionaid.accounts import services as account_services
from unionaid.accounts.models import DataScope
from unionaid.archive.services.records import record_enrol
from unionaid.archive.tests.helpers_records import (  # noqa: F401 (fixtures)
    archive,
    clock,
    people,
    record_profile,
)
from unionaid.web import views as web_views

CADRE_PERMS = ["org.view", "members.view", "visits.view", "visits.record", "archive.view",
               "assistance.view", "assistance.apply"]
FINANCE_PERMS = ["org.view", "funds.view", "funds.manage", "funds.confirm"]

LINKS = {
    "todo": "approvals:todo",
    "visits": "visits:visit-list",
    "visit-new": "visits:visit-create",
    "archive": "archive:record-list",
    "applications": "assistance:application-list",
    "apply": "assistance:application-create",
    "funds": "funds:budget-list",
    "mine": "portal:application-list",
}


def shown(html: str) -> set[str]:
    return {key for key, name in LINKS.items() if f'href="{reverse(name)}"' in html}


@pytest.fixture
def cadre(union):
    return make_staff("ql_cadre", union.station_a, [make_role("ql_cadre", CADRE_PERMS)])


@pytest.fixture
def finance(union):
    return make_staff("ql_finance", union.bureau,
                      [make_role("ql_finance", FINANCE_PERMS, DataScope.ALL)])


def home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_cadre_gets_the_daily_work_links_and_not_the_funds(client, cadre):
    html = home(client, cadre)
    assert 'id="quick-links"' in html
    assert shown(html) == {"todo", "visits", "visit-new", "archive", "applications", "apply"}
    for label in ("我的待办", "走访记录", "新建走访", "困难职工档案", "帮扶申请", "代办申请"):
        assert label in html
    assert "预算与发放" not in html
    assert 'id="todo-count"' not in html  # nothing waiting


def test_finance_gets_the_to_do_and_the_funds_only(client, finance):
    html = home(client, finance)
    assert shown(html) == {"todo", "funds"}
    assert "预算与发放" in html
    assert "困难职工档案" not in html
    assert "新建走访" not in html


def test_a_view_only_cadre_cannot_file_or_record(client, union):
    viewer = make_staff("ql_viewer", union.station_a, [make_role(
        "ql_viewer", ["org.view", "members.view", "visits.view", "assistance.view"])])
    assert shown(home(client, viewer)) == {"todo", "visits", "applications"}


def test_a_worker_lands_on_their_portal_with_their_applications(client, worker):
    client.force_login(worker)
    response = client.get(reverse("web:home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:home")
    html = response.content.decode()
    assert "我的申请" in html
    assert shown(html) <= {"mine"}  # no staff work links on the worker's home


def test_a_cadre_who_is_also_a_member_gets_a_link_to_their_own_applications(
    client, union, make_member
):
    user = account_services.user_create(actor=None, username="ql_both", password=PASSWORD,
                                        member=make_member(union.team_a))
    position = account_services.position_create(
        actor=None, org_unit=union.station_a, name="帮扶干事",
        roles=[make_role("ql_both", CADRE_PERMS)])
    account_services.assignment_grant(actor=None, user=user, position=position)
    html = home(client, user)
    assert "mine" in shown(html)
    assert "我的申请" in html


def test_it_counts_the_pending_tasks_on_the_to_do_link(
    client, archive, make_member, monkeypatch
):
    for _ in range(2):
        member = make_member(archive.union.team_a)
        record_profile(archive, member, monthly="2500")
        record_enrol(actor=archive.filer, member=member, reason="配偶重病")
    # Each enrolment waits at the 车间 step, for the workshop officer.
    html = home(client, archive.workshop_officer)
    assert 'id="todo-count">2<' in html
    assert 'id="todo-count"' not in home(client, archive.filer)  # the 班组 post has none

    monkeypatch.setattr(web_views, "TODO_CAP", 1)
    html = home(client, archive.workshop_officer)
    assert 'id="todo-count">1+' in html


def test_the_quick_links_need_no_inline_styles(client, cadre):
    html = home(client, cadre)
    assert " style=" not in html
