"""The security admin's pages: users, roles, posts, assignments, and their effect on access."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD, make_role, make_staff, verified_login
from unionaid.accounts import services
from unionaid.accounts.models import Assignment, DataScope, Position, Role, User
from unionaid.audit.models import AuditEvent


@pytest.fixture
def sec(client, personas):
    return verified_login(client, personas.security_admin)


@pytest.fixture
def station_sec(union, roles):
    """A security admin whose grant covers only 站段 A."""
    role = make_role("station-security", ["security.manage", "org.view"])
    user = make_staff("station_sec", union.station_a, [role])
    return verified_login(Client(), user)


def _logged_in(user) -> Client:
    other = Client()
    other.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert other.session.get("_auth_user_id") == str(user.pk)
    return other


@pytest.mark.parametrize("name", ["admin-users", "admin-roles", "admin-positions",
                                  "admin-assignments", "admin-user-create"])
def test_the_admin_pages_do_not_exist_for_other_users(client, personas, name):
    client.force_login(personas.team_cadre)
    assert client.get(reverse(f"accounts:{name}")).status_code == 404
    verified_login(client, personas.audit_admin)
    assert client.get(reverse(f"accounts:{name}")).status_code == 404


@pytest.mark.parametrize("name", ["admin-users", "admin-roles", "admin-positions",
                                  "admin-assignments", "admin-user-create"])
def test_the_admin_pages_render_for_the_security_admin(sec, name):
    response = sec.get(reverse(f"accounts:{name}"))
    assert response.status_code == 200
    assert 'name="viewport"' in response.content.decode()


def test_it_lists_and_searches_users(sec, personas):
    html = sec.get(reverse("accounts:admin-users")).content.decode()
    assert "team_cadre" in html
    assert "other_cadre" in html
    html = sec.get(reverse("accounts:admin-users"), {"q": "team"}).content.decode()
    assert "team_cadre" in html
    assert "other_cadre" not in html


def test_it_creates_a_user_only_with_a_strong_password(sec):
    url = reverse("accounts:admin-user-create")
    response = sec.post(url, {"username": "new_cadre", "full_name": "王测试",
                              "password": "abcdefgh", "password2": "abcdefgh"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "至少三类" in html
    assert 'value="new_cadre"' in html  # what was typed stays
    assert not User.objects.filter(username="new_cadre").exists()

    response = sec.post(url, {"username": "new_cadre", "full_name": "王测试",
                              "password": "Good-pass-2026", "password2": "Good-pass-2026"})
    user = User.objects.get(username="new_cadre")
    assert response["Location"] == reverse("accounts:admin-user-detail", args=[user.pk])
    assert user.check_password("Good-pass-2026")
    assert user.first_name == "王测试"
    assert AuditEvent.objects.filter(action="user.create", target_id=str(user.pk)).exists()


def test_a_duplicate_user_name_is_refused_in_chinese(sec):
    response = sec.post(reverse("accounts:admin-user-create"), {
        "username": "TEAM_CADRE", "password": "Good-pass-2026", "password2": "Good-pass-2026"})
    assert "用户名已存在" in response.content.decode()


def test_disabling_a_user_ends_their_session_at_once(sec, personas):
    victim = _logged_in(personas.team_cadre)
    assert victim.get("/").status_code == 200
    response = sec.post(reverse("accounts:admin-user-active", args=[personas.team_cadre.pk]),
                        {"active": "0"})
    assert response.status_code == 302
    after = victim.get("/")
    assert after.status_code == 302
    assert after["Location"].startswith(reverse("accounts:login"))
    assert after.wsgi_request.user.is_anonymous
    assert AuditEvent.objects.filter(action="user.disable",
                                     target_id=str(personas.team_cadre.pk)).exists()
    # and they cannot log in again
    again = Client().post("/accounts/login/", {"username": "team_cadre", "password": PASSWORD})
    assert again.status_code == 200


def test_a_security_admin_cannot_disable_themself(sec, personas):
    me = personas.security_admin
    response = sec.post(reverse("accounts:admin-user-active", args=[me.pk]), {"active": "0"},
                        follow=True)
    assert "不能停用或启用自己的账号" in response.content.decode()
    me.refresh_from_db()
    assert me.is_active


def test_a_role_mixing_two_admin_duties_is_refused_in_chinese(sec):
    response = sec.post(reverse("accounts:admin-role-create"), {
        "code": "super", "name": "超级管理员", "data_scope": DataScope.ALL,
        "permissions": ["security.manage", "audit.view"],
    })
    assert response.status_code == 200
    assert "三权分立" in response.content.decode()
    assert 'value="super"' in response.content.decode()
    assert not Role.objects.filter(code="super").exists()


def test_it_creates_and_edits_a_role_with_permission_checkboxes(sec):
    response = sec.post(reverse("accounts:admin-role-create"), {
        "code": "visitor", "name": "走访员", "data_scope": DataScope.UNIT,
        "permissions": ["members.view", "org.view"],
    })
    assert response.status_code == 302
    role = Role.objects.get(code="visitor")
    assert role.permissions == ["members.view", "org.view"]
    page = sec.get(reverse("accounts:admin-role-edit", args=[role.pk])).content.decode()
    assert 'value="members.change"' in page
    assert "checked" in page

    sec.post(reverse("accounts:admin-role-edit", args=[role.pk]), {
        "code": "ignored", "name": "走访员", "data_scope": DataScope.UNIT_AND_BELOW,
        "permissions": ["members.view", "members.change", "org.view"],
    })
    role.refresh_from_db()
    assert role.code == "visitor"
    assert role.data_scope == DataScope.UNIT_AND_BELOW
    assert "members.change" in role.permissions
    assert AuditEvent.objects.filter(action="role.save", target_id=str(role.pk)).count() == 2


def test_it_creates_a_post_with_roles_in_a_unit(sec, union, roles):
    response = sec.post(reverse("accounts:admin-positions"), {
        "org_unit": union.workshop_a.pk, "name": "车间帮扶干事", "roles": [roles["cadre"].pk],
    })
    assert response.status_code == 302
    position = Position.objects.get(org_unit=union.workshop_a, name="车间帮扶干事")
    assert list(position.roles.all()) == [roles["cadre"]]
    assert AuditEvent.objects.filter(action="position.create",
                                     target_id=str(position.pk)).exists()
    html = sec.get(reverse("accounts:admin-positions"),
                   {"unit": union.workshop_a.pk}).content.decode()
    assert "车间帮扶干事" in html


def test_a_station_security_admin_manages_only_their_station(station_sec, personas, union,
                                                            roles):
    other_post = Assignment.objects.get(user=personas.other_cadre)
    assert station_sec.get(reverse("accounts:admin-user-detail",
                                   args=[personas.other_cadre.pk])).status_code == 404
    assert station_sec.post(reverse("accounts:admin-assignment-end",
                                    args=[other_post.pk])).status_code == 404
    assert station_sec.get(reverse("accounts:admin-user-detail",
                                   args=[personas.team_cadre.pk])).status_code == 200
    html = station_sec.get(reverse("accounts:admin-users")).content.decode()
    assert "team_cadre" in html
    assert "other_cadre" not in html
    response = station_sec.post(reverse("accounts:admin-positions"), {
        "org_unit": union.station_b.pk, "name": "越权岗位", "roles": [roles["cadre"].pk]})
    assert response.status_code == 200
    assert not Position.objects.filter(name="越权岗位").exists()
    other_post.refresh_from_db()
    assert other_post.ends_at is None


def test_granting_a_post_through_the_page(sec, personas, union, roles):
    position = services.position_create(actor=None, org_unit=union.team_b, name="乙班组干事",
                                        roles=[roles["cadre"]])
    response = sec.post(reverse("accounts:admin-assignments"), {
        "username": "team_cadre", "position": position.pk, "note": "兼任"})
    assert response.status_code == 302
    assert Assignment.objects.current().filter(user=personas.team_cadre,
                                               position=position).exists()
    assert AuditEvent.objects.filter(action="assignment.grant",
                                     target_id=str(personas.team_cadre.pk)).exists()


def test_granting_a_second_admin_duty_is_refused_in_chinese(sec, personas, union, roles):
    position = services.position_create(actor=None, org_unit=union.bureau, name="审计岗",
                                        roles=[roles["audit"]])
    response = sec.post(reverse("accounts:admin-assignments"), {
        "username": "bureau_admin", "position": position.pk})
    assert response.status_code == 200
    assert "三权分立" in response.content.decode()
    assert not Assignment.objects.filter(position=position).exists()


def test_granting_to_an_unknown_user_keeps_the_form(sec, union, roles):
    position = services.position_create(actor=None, org_unit=union.team_b, name="乙岗",
                                        roles=[roles["cadre"]])
    response = sec.post(reverse("accounts:admin-assignments"),
                        {"username": "nobody", "position": position.pk})
    assert "找不到该用户" in response.content.decode()


def test_ending_an_assignment_removes_access_on_the_next_request(sec, personas, union, roles):
    """A second security admin who also holds a cadre post: ending the security post takes
    the admin pages away at once, while the session (other post) stays."""
    sec2 = make_staff("sec2", union.bureau, [roles["security"]])
    extra = services.position_create(actor=None, org_unit=union.team_a, name="sec2-cadre",
                                     roles=[roles["cadre"]])
    services.assignment_grant(actor=None, user=sec2, position=extra)
    sec2_client = verified_login(Client(), sec2)
    assert sec2_client.get(reverse("accounts:admin-users")).status_code == 200

    security_post = Assignment.objects.get(user=sec2, position__org_unit=union.bureau)
    response = sec.post(reverse("accounts:admin-assignment-end", args=[security_post.pk]))
    assert response.status_code == 302
    assert sec2_client.get(reverse("accounts:admin-users")).status_code == 404
    assert sec2_client.get("/").status_code == 200  # still logged in through the other post
    security_post.refresh_from_db()
    assert security_post.ends_at is not None


def test_ending_the_last_assignment_logs_the_user_out(sec, personas):
    victim = _logged_in(personas.team_cadre)
    assert victim.get("/").status_code == 200
    post = Assignment.objects.get(user=personas.team_cadre)
    sec.post(reverse("accounts:admin-assignment-end", args=[post.pk]))
    response = victim.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    event = AuditEvent.objects.get(action="assignment.end")
    assert event.changes["sessions_ended"] is True


def test_moving_a_post_ends_the_old_and_starts_the_new(sec, personas, union, roles):
    new_post = services.position_create(actor=None, org_unit=union.workshop_a,
                                        name="车间干事", roles=[roles["cadre"]])
    old = Assignment.objects.get(user=personas.team_cadre)
    detail = reverse("accounts:admin-user-detail", args=[personas.team_cadre.pk])
    response = sec.post(reverse("accounts:admin-assignment-move", args=[old.pk]),
                        {"position": new_post.pk, "back": detail})
    assert response["Location"] == detail
    old.refresh_from_db()
    assert old.ends_at is not None
    current = Assignment.objects.current().get(user=personas.team_cadre)
    assert current.position == new_post
    html = sec.get(detail).content.decode()
    assert "车间干事" in html
    assert "在任" in html
