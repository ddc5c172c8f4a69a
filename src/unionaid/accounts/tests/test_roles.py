"""Editing a role grants its new rights to everyone who holds it: the granting rules apply
(no self-grant, separation of the three admin duties, roles only by a global security admin),
and every refusal is journaled."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import make_role, make_staff, verified_login
from unionaid.accounts import services
from unionaid.accounts.access import compute_access
from unionaid.accounts.models import Assignment, DataScope, Role
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied, ServiceError
from unionaid.core.testing.api import ApiClient

SECURITY = ["org.view", "security.manage"]


def _edit(role: Role, permissions, data_scope=None) -> dict:
    return {"code": role.code, "name": role.name, "description": role.description,
            "data_scope": data_scope or role.data_scope, "permissions": permissions}


def _refusals(action="role.save"):
    return AuditEvent.objects.filter(action=action, outcome="denied")


# -- the attack of issue 10 ------------------------------------------------------------------

def test_a_security_admin_cannot_give_themself_member_rights_through_their_role(
    client, personas, union, make_member
):
    member = make_member(union.team_a)
    admin = personas.security_admin
    sec = verified_login(client, admin)
    role = Role.objects.get(code="security")
    response = sec.post(reverse("accounts:admin-role-edit", args=[role.pk]), _edit(
        role, [*SECURITY, "members.view", "members.reveal"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "不能为它增加权限或扩大数据范围（不能给自己授权）" in html
    role.refresh_from_db()
    assert role.permissions == SECURITY
    refusal = _refusals().get()
    assert (refusal.actor_id, refusal.target_id) == (admin.pk, str(role.pk))
    assert refusal.changes["reason"] == "self_grant"
    assert "members.reveal" in refusal.changes["permissions"]
    assert AuditEvent.objects.filter(action="role.save", outcome="ok",
                                     target_id=str(role.pk)).count() == 1  # its creation only

    # ... and so members stay out of reach, on the pages and through the API.
    assert not compute_access(admin).has_perm("members.view")
    assert member.name not in sec.get(reverse("members:member-list")).content.decode()
    assert sec.get(reverse("members:member-detail", args=[member.pk])).status_code == 404
    reveal = sec.post(reverse("members:member-reveal", args=[member.pk, "id_number"]))
    assert reveal.status_code == 404
    assert member.id_number not in reveal.content.decode()
    api = ApiClient(sec)
    assert api.get("/members").json()["items"] == []
    assert api.post(f"/members/{member.pk}/reveal", {"field": "id_number"}).status_code == 404


def test_a_role_widened_for_oneself_is_refused_in_the_service_too(personas):
    role = Role.objects.get(code="security")
    with pytest.raises(PermissionDenied) as exc:
        services.role_save(actor=personas.security_admin, code=role.code, name=role.name,
                           permissions=[*SECURITY, "members.view"], data_scope=role.data_scope,
                           role=role)
    assert exc.value.code == "self_grant"
    assert _refusals().count() == 1


# -- each rule -------------------------------------------------------------------------------

def test_a_wider_data_scope_on_ones_own_role_is_a_self_grant(union, personas):
    role = make_role("sec-unit", SECURITY, DataScope.UNIT)
    services.position_create(actor=None, org_unit=union.bureau, name="兼任", roles=[role])
    services.assignment_grant(actor=None, user=personas.security_admin,
                              position=role.positions.get())
    with pytest.raises(PermissionDenied) as exc:
        services.role_save(actor=personas.security_admin, code=role.code, name=role.name,
                           permissions=SECURITY, data_scope=DataScope.UNIT_AND_BELOW, role=role)
    assert exc.value.code == "self_grant"


def test_a_role_held_from_a_later_date_is_ones_own_too(union, personas):
    role = make_role("later", ["org.view"])
    position = services.position_create(actor=None, org_unit=union.bureau, name="将任",
                                         roles=[role])
    services.assignment_grant(actor=None, user=personas.security_admin, position=position,
                              starts_at=timezone.now() + timezone.timedelta(days=3))
    with pytest.raises(PermissionDenied) as exc:
        services.role_save(actor=personas.security_admin, code=role.code, name=role.name,
                           permissions=["org.view", "members.view"], data_scope=role.data_scope,
                           role=role)
    assert exc.value.code == "self_grant"


def test_ones_own_role_may_be_renamed_or_narrowed(personas):
    role = Role.objects.get(code="security")
    services.role_save(actor=personas.security_admin, code=role.code, name="安全管理员（改名）",
                       permissions=["security.manage"], data_scope=role.data_scope, role=role)
    role.refresh_from_db()
    assert (role.name, role.permissions) == ("安全管理员（改名）", ["security.manage"])
    assert not _refusals().exists()


def test_a_role_held_by_others_may_be_widened(sec_client, personas, roles):
    role = roles["cadre"]
    response = sec_client.post(reverse("accounts:admin-role-edit", args=[role.pk]),
                               _edit(role, [*role.permissions, "members.reveal"]))
    assert response.status_code == 302
    role.refresh_from_db()
    assert "members.reveal" in role.permissions
    assert compute_access(personas.team_cadre).has_perm("members.reveal")


def test_a_second_duty_for_any_holder_is_refused_and_journaled(sec_client, personas, union):
    shared = make_role("shared", ["org.view"])
    # The system admin also holds a plain post carrying the role.
    position = services.position_create(actor=None, org_unit=union.bureau, name="兼职",
                                        roles=[shared])
    services.assignment_grant(actor=None, user=personas.bureau_admin, position=position)
    response = sec_client.post(reverse("accounts:admin-role-edit", args=[shared.pk]),
                               _edit(shared, ["org.view", "audit.view"]))
    assert response.status_code == 200
    assert "三权分立" in response.content.decode()
    shared.refresh_from_db()
    assert shared.permissions == ["org.view"]
    assert _refusals().get().changes["reason"] == "separation_of_duties"


def test_a_duty_swapped_inside_a_role_is_not_counted_twice(personas):
    role = Role.objects.get(code="audit")  # held by the audit admin only
    services.role_save(actor=personas.security_admin, code=role.code, name=role.name,
                       permissions=["org.view", "system.config"], data_scope=role.data_scope,
                       role=role)
    assert compute_access(personas.audit_admin).duties == {"system"}


def _later_post(union, user, role, name):
    """``user`` holds a post carrying ``role`` from three days on."""
    position = services.position_create(actor=None, org_unit=union.bureau, name=name,
                                        roles=[role])
    services.assignment_grant(actor=None, user=user, position=position,
                              starts_at=timezone.now() + timezone.timedelta(days=3))


def test_a_duty_held_from_a_later_date_counts_when_a_role_is_widened(personas, union, roles):
    shared = make_role("shared", ["org.view"])
    position = services.position_create(actor=None, org_unit=union.bureau, name="兼职",
                                        roles=[shared])
    services.assignment_grant(actor=None, user=personas.team_cadre, position=position)
    _later_post(union, personas.team_cadre, roles["audit"], "将任审计")
    with pytest.raises(ServiceError) as exc:
        services.role_save(actor=personas.security_admin, code=shared.code, name=shared.name,
                           permissions=["org.view", "system.config"],
                           data_scope=shared.data_scope, role=shared)
    assert exc.value.code == "separation_of_duties"
    shared.refresh_from_db()
    assert shared.permissions == ["org.view"]
    assert _refusals().get().changes["reason"] == "separation_of_duties"


def test_a_duty_held_from_a_later_date_counts_when_a_post_is_granted(personas, union, roles):
    _later_post(union, personas.team_cadre, roles["audit"], "将任审计")
    position = services.position_create(actor=None, org_unit=union.bureau, name="系统岗",
                                        roles=[roles["system"]])
    with pytest.raises(ServiceError) as exc:
        services.assignment_grant(actor=personas.security_admin, user=personas.team_cadre,
                                  position=position)
    assert exc.value.code == "separation_of_duties"
    assert not Assignment.objects.filter(position=position).exists()
    assert _refusals("assignment.grant").get().changes["reason"] == "separation_of_duties"


def test_an_ended_duty_does_not_count(personas, union, roles):
    position = services.position_create(actor=None, org_unit=union.bureau, name="曾任审计",
                                        roles=[roles["audit"]])
    held = services.assignment_grant(actor=None, user=personas.team_cadre, position=position)
    services.assignment_end(actor=None, assignment=held)
    system = services.position_create(actor=None, org_unit=union.bureau, name="系统岗",
                                      roles=[roles["system"]])
    services.assignment_grant(actor=personas.security_admin, user=personas.team_cadre,
                              position=system)
    assert compute_access(personas.team_cadre).duties == {"system"}


def test_only_a_security_admin_of_all_units_edits_roles(union, roles):
    local = make_role("station-security", SECURITY, DataScope.UNIT_AND_BELOW)
    station_security = make_staff("station_security", union.station_a, [local])
    role = roles["cadre"]
    with pytest.raises(PermissionDenied) as exc:
        services.role_save(actor=station_security, code=role.code, name=role.name,
                           permissions=[*role.permissions, "members.reveal"],
                           data_scope=DataScope.ALL, role=role)
    assert exc.value.code == "roles_global_only"
    assert _refusals().get().actor_id == station_security.pk
    role.refresh_from_db()
    assert role.data_scope == DataScope.UNIT_AND_BELOW


def test_other_errors_are_not_journaled_as_refusals(personas):
    with pytest.raises(ServiceError) as exc:
        services.role_save(actor=personas.security_admin, code="x", name="x",
                           permissions=["no.such"], data_scope=DataScope.ALL)
    assert exc.value.code == "unknown_permission"
    assert not _refusals().exists()


# -- assignments journal their refusals the same way ---------------------------------------

def test_a_refused_assignment_is_journaled(personas, union, roles):
    position = services.position_create(actor=personas.security_admin, org_unit=union.team_a,
                                        name="自授岗位", roles=[roles["cadre"]])
    with pytest.raises(PermissionDenied):
        services.assignment_grant(actor=personas.security_admin, user=personas.security_admin,
                                  position=position)
    refusal = _refusals("assignment.grant").get()
    assert refusal.changes["reason"] == "self_grant"
    assert refusal.target_id == str(personas.security_admin.pk)
    assert refusal.changes["position_id"] == position.pk


@pytest.fixture
def sec_client(personas):
    return verified_login(Client(), personas.security_admin)


def test_a_refused_move_is_journaled_once(personas, union, roles):
    own = Assignment.objects.get(user=personas.security_admin)
    position = services.position_create(actor=personas.security_admin, org_unit=union.team_a,
                                        name="调往岗位", roles=[roles["cadre"]])
    with pytest.raises(PermissionDenied):
        services.assignment_move(actor=personas.security_admin, assignment=own,
                                 position=position)
    assert _refusals("assignment.move").get().changes["reason"] == "self_grant"
    assert not _refusals("assignment.grant").exists()  # rolled back with the move
    own.refresh_from_db()
    assert own.ends_at is None
