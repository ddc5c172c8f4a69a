"""The delegation page (委托代办): create, list (given and received; running, to come, ended),
end — with the engine's rules: only approvers delegate, only to an approver of their unit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope
from unionaid.approvals.models import Delegation

from .test_views_todo import assert_no_inline_code

pytestmark = pytest.mark.django_db
URL = "/approvals/delegations/"


def form(to_username, *, days=3, reason="休假"):
    now = timezone.localtime()
    return {"to_username": to_username, "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M"),
            "reason": reason}


def test_the_todo_page_links_to_the_delegation_page(client, chain):
    client.force_login(chain.station_officer)
    assert URL in client.get("/approvals/todo/").content.decode()


def test_an_approver_creates_lists_and_ends_a_delegation(client, chain, deputy):
    client.force_login(chain.station_officer)
    page = client.get(URL)
    assert page.status_code == 200
    assert 'id="delegation-form"' in page.content.decode()
    assert_no_inline_code(page.content.decode())
    response = client.post(URL, form("deputy"))
    assert response.status_code == 302
    delegation = Delegation.objects.get()
    assert (delegation.from_user, delegation.to_user) == (chain.station_officer, deputy)
    html = client.get(URL).content.decode()
    assert "委托 deputy 代办" in html or f"委托 {deputy.display_name} 代办" in html
    assert "生效中" in html
    client.force_login(deputy)
    received = client.get(URL).content.decode()
    assert f"{chain.station_officer.display_name} 委托我代办" in received
    assert f"/approvals/delegations/{delegation.pk}/end/" not in received  # only the delegator
    assert client.post(f"{URL}{delegation.pk}/end/").status_code == 404
    client.force_login(chain.station_officer)
    assert client.post(f"{URL}{delegation.pk}/end/").status_code == 302
    delegation.refresh_from_db()
    assert delegation.ends_at <= timezone.now()
    assert "已结束" in client.get(URL).content.decode()


def test_a_delegate_at_another_level_is_refused_in_chinese(client, chain):
    client.force_login(chain.station_officer)
    response = client.post(URL, form("chairman"))
    assert response.status_code == 400
    assert "同一层级、同一单位" in response.content.decode()
    assert not Delegation.objects.exists()


def test_a_read_only_user_cannot_delegate(client, chain, union):
    """The auditor (审计人员): reads everything in the bureau, holds no deciding post."""
    role = make_role("auditor", ["org.view", "trace.view", "assistance.view"], DataScope.ALL)
    auditor = make_staff("auditor", union.bureau, [role], "审计")
    client.force_login(auditor)
    page = client.get(URL).content.decode()
    assert 'id="delegation-form"' not in page
    assert 'id="no-delegation"' in page
    response = client.post(URL, form("station_officer"))
    assert response.status_code == 403
    assert not Delegation.objects.exists()


def test_the_delegate_is_chosen_from_the_colleagues_who_may_decide_there(
        client, chain, deputy, union):
    """No login names to remember: the form lists the colleagues holding a deciding post in the
    approver's unit, by name and post — not the approver, not a read-only colleague there, not
    an approver of another unit or level."""
    role = make_role("auditor", ["org.view", "trace.view", "assistance.view"], DataScope.ALL)
    make_staff("station_auditor", union.station_a, [role], "审计")
    client.force_login(chain.station_officer)
    html = client.get(URL).content.decode()
    select = re.search(r'<select name="to_username"[^>]*>(.*?)</select>', html, re.S).group(1)
    offered = re.findall(r'<option value="([^"]+)"', select)
    assert offered == ["deputy"]
    assert f"{deputy.display_name}（甲车务段·副主席）" in select
