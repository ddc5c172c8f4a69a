"""Org tree pages (members/views/org.py), through the HTTP client: visible tree, unit detail, create/rename/move/close."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import verified_login
from unionaid.audit.models import AuditEvent
from unionaid.members.selectors import tree_for_user
from unionaid.org.models import OrgUnit


@pytest.fixture
def admin_client(client, personas):
    """The bureau's system admin (org.manage over everything), with a verified second factor."""
    return verified_login(client, personas.bureau_admin)


def fresh(unit) -> OrgUnit:
    return OrgUnit.objects.get(pk=unit.pk)


# -- tree and detail ----------------------------------------------------------------------------

def test_it_shows_a_cadre_only_their_part_of_the_tree(client, personas, union, make_member):
    make_member(union.team_a)
    make_member(union.team_a)
    client.force_login(personas.station_cadre)
    response = client.get(reverse("org:tree"))
    html = response.content.decode()
    assert response.status_code == 200
    for unit in (union.station_a, union.workshop_a, union.team_a):
        assert reverse("org:unit-detail", args=[unit.pk]) in html
    for unit in (union.bureau, union.station_b, union.team_b):
        assert reverse("org:unit-detail", args=[unit.pk]) not in html
    # Level names and indentation by depth relative to the top visible unit.
    assert "班组" in html
    assert "tree-indent-1" in html
    assert "tree-indent-3" in html
    assert "tree-indent-4" not in html


def test_it_limits_the_tree_to_the_chosen_depth(admin_client, union):
    html = admin_client.get(reverse("org:tree"), {"depth": 2}).content.decode()
    assert reverse("org:unit-detail", args=[union.station_b.pk]) in html
    assert reverse("org:unit-detail", args=[union.workshop_b.pk]) not in html


def test_it_returns_404_for_a_unit_outside_the_scope(client, personas, union):
    client.force_login(personas.team_cadre)
    for unit in (union.station_b, union.station_a, union.bureau):
        assert client.get(reverse("org:unit-detail", args=[unit.pk])).status_code == 404
    assert client.get(reverse("org:unit-detail", args=[union.team_a.pk])).status_code == 200


def test_it_lists_children_and_the_members_of_the_whole_subtree(
    client, personas, union, make_member
):
    deep = make_member(union.team_a)
    shallow = make_member(union.station_a)
    elsewhere = make_member(union.team_b)
    client.force_login(personas.station_cadre)
    html = client.get(reverse("org:unit-detail", args=[union.station_a.pk])).content.decode()
    assert reverse("org:unit-detail", args=[union.workshop_a.pk]) in html
    assert reverse("org:unit-detail", args=[union.team_a.pk]) not in html  # grandchild
    assert reverse("members:member-detail", args=[deep.pk]) in html
    assert reverse("members:member-detail", args=[shallow.pk]) in html
    assert reverse("members:member-detail", args=[elsewhere.pk]) not in html
    assert deep.id_number not in html
    assert deep.id_number_masked in html


def test_it_pages_the_unit_member_list_by_next_links(client, personas, union, make_member):
    members = [make_member(union.team_a) for _ in range(51)]
    client.force_login(personas.team_cadre)
    url = reverse("org:unit-detail", args=[union.team_a.pk])
    first = client.get(url).content.decode()
    assert sum(f'href="/members/{m.pk}/"' in first for m in members) == 50
    assert "?page=2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert sum(f'href="/members/{m.pk}/"' in second for m in members) == 1
    assert "?page=3" not in second


def test_it_hides_management_buttons_from_a_cadre_and_404s_the_forms(client, personas, union):
    client.force_login(personas.station_cadre)
    html = client.get(reverse("org:unit-detail", args=[union.workshop_a.pk])).content.decode()
    assert reverse("org:unit-rename", args=[union.workshop_a.pk]) not in html
    for name in ("org:unit-create-child", "org:unit-rename", "org:unit-move", "org:unit-close"):
        url = reverse(name, args=[union.workshop_a.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"name": "x", "code": "x"}).status_code == 404
    assert fresh(union.workshop_a).name == "甲车间"
    assert not AuditEvent.objects.filter(action__startswith="org.").exists()


# -- create, rename -----------------------------------------------------------------------------

def test_it_creates_a_child_unit_and_journals_it(admin_client, union):
    response = admin_client.post(
        reverse("org:unit-create-child", args=[union.workshop_a.pk]),
        {"name": "甲二班组", "code": "SA-W1-T2", "region_code": ""},
    )
    unit = OrgUnit.objects.get(code="SA-W1-T2")
    assert response.status_code == 302
    assert response["Location"] == reverse("org:unit-detail", args=[unit.pk])
    assert OrgUnit.objects.get_parent(unit) == union.workshop_a
    assert AuditEvent.objects.filter(action="org.create", target_id=str(unit.pk)).exists()


def test_it_keeps_typed_values_when_the_code_is_taken(admin_client, union):
    response = admin_client.post(
        reverse("org:unit-create-child", args=[union.workshop_a.pk]),
        {"name": "重复编码班组", "code": "SB"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "单位编码已存在" in html
    assert 'value="重复编码班组"' in html
    assert not OrgUnit.objects.filter(name="重复编码班组").exists()


def test_it_renames_a_unit_and_journals_it(admin_client, union):
    response = admin_client.post(
        reverse("org:unit-rename", args=[union.team_b.pk]), {"name": "乙一班组（新）"}
    )
    assert response.status_code == 302
    assert fresh(union.team_b).name == "乙一班组（新）"
    event = AuditEvent.objects.get(action="org.rename")
    assert event.changes == {"name": {"before": "乙一班组", "after": "乙一班组（新）"}}


def test_it_requires_the_second_factor_for_the_system_admin(client, personas, union):
    client.force_login(personas.bureau_admin)
    response = client.post(
        reverse("org:unit-rename", args=[union.team_b.pk]), {"name": "未验证更名"}
    )
    assert response.status_code == 302
    assert "/accounts/otp" in response["Location"]
    assert fresh(union.team_b).name == "乙一班组"


# -- move ---------------------------------------------------------------------------------------

def test_it_moves_a_subtree_under_a_new_parent_and_journals_it(
    admin_client, union, make_member
):
    member = make_member(union.team_a)
    url = reverse("org:unit-move", args=[union.workshop_a.pk])
    form_html = admin_client.get(url).content.decode()
    # The unit itself and its subtree are not offered as a new parent.
    assert f'value="{union.team_a.pk}"' not in form_html
    assert f'value="{union.station_b.pk}"' in form_html

    response = admin_client.post(url, {"new_parent": union.station_b.pk})
    assert response.status_code == 302
    workshop, team = fresh(union.workshop_a), fresh(union.team_a)
    station_b = fresh(union.station_b)
    assert OrgUnit.objects.get_parent(workshop) == station_b
    assert team.path.startswith(station_b.path)
    assert member.org_unit_id == team.pk
    event = AuditEvent.objects.get(action="org.move")
    assert event.target_id == str(union.workshop_a.pk)
    assert event.changes == {"parent": {"before": "甲车务段", "after": "乙机务段"}}


def test_it_refuses_to_move_a_unit_into_its_own_subtree(admin_client, union):
    response = admin_client.post(
        reverse("org:unit-move", args=[union.station_a.pk]), {"new_parent": union.team_a.pk}
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert fresh(union.team_a).path.startswith(fresh(union.station_a).path)
    assert not AuditEvent.objects.filter(action="org.move").exists()


# -- close --------------------------------------------------------------------------------------

def test_it_shows_the_chinese_error_when_closing_a_unit_with_members(
    admin_client, union, make_member
):
    make_member(union.team_b)
    response = admin_client.post(reverse("org:unit-close", args=[union.workshop_b.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "还有 1 名职工，请先将他们调至其他单位" in html
    assert not fresh(union.workshop_b).is_closed
    assert not AuditEvent.objects.filter(action="org.close").exists()


def test_it_closes_an_empty_unit_and_journals_it(admin_client, union):
    spare = OrgUnit.objects.add_child(fresh(union.team_b), create_kwargs={
        "name": "空班组", "code": "SB-EMPTY"})
    response = admin_client.post(reverse("org:unit-close", args=[spare.pk]))
    assert response.status_code == 302
    assert fresh(spare).is_closed
    assert AuditEvent.objects.filter(action="org.close", target_id=str(spare.pk)).exists()
    html = admin_client.get(reverse("org:unit-detail", args=[spare.pk])).content.decode()
    assert "已撤销" in html


# -- the tree's selector (moved from org with the pages) --------------------------------------

def test_tree_for_user_counts_members_without_a_query_per_unit(union, personas, make_member):
    make_member(union.team_a)
    make_member(union.team_a)
    assert personas.station_cadre.access  # the request's rights, found before the tree
    with CaptureQueriesContext(connection) as ctx:
        units = tree_for_user(user=personas.station_cadre)
    counts = {u.pk: u.member_count for u in units}
    assert counts[union.team_a.pk] == 2
    assert len(ctx.captured_queries) <= 4
