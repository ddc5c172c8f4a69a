"""The access layer: rights come only from current assignments; scopes add up, never wider."""

from __future__ import annotations

import pytest
from django.utils import timezone

from conftest import PASSWORD, make_role, make_staff
from unionaid.accounts import services
from unionaid.accounts.access import compute_access
from unionaid.accounts.models import Assignment, DataScope
from unionaid.core.errors import PermissionDenied, ServiceError
from unionaid.members.models import Member
from unionaid.members.selectors import members_visible_to


@pytest.fixture
def spread(union, make_member):
    return {
        "team_a": make_member(union.team_a),
        "workshop_a": make_member(union.workshop_a),
        "station_a": make_member(union.station_a),
        "team_b": make_member(union.team_b),
    }


def visible(user, perm="members.view"):
    return set(members_visible_to(user=user, perm=perm).values_list("pk", flat=True))


def test_unit_and_below_sees_only_own_subtree(personas, spread):
    ids = visible(personas.team_cadre)
    assert ids == {spread["team_a"].pk}
    station = visible(personas.station_cadre)
    assert station == {spread["team_a"].pk, spread["workshop_a"].pk, spread["station_a"].pk}


def test_unit_scope_excludes_children(union, roles, spread):
    role = make_role("unit-only", ["members.view"], DataScope.UNIT)
    user = make_staff("unit_only", union.workshop_a, [role])
    assert visible(user) == {spread["workshop_a"].pk}


def test_scopes_of_several_roles_add_up_per_permission(union, spread):
    view_team = make_role("view-team", ["members.view"], DataScope.UNIT_AND_BELOW)
    reveal_workshop = make_role("reveal-unit", ["members.reveal"], DataScope.UNIT)
    user = make_staff("multi", union.team_a, [view_team])
    position = services.position_create(
        actor=None, org_unit=union.station_b, name="兼职", roles=[reveal_workshop]
    )
    services.assignment_grant(actor=None, user=user, position=position)
    # members.view comes only from the team grant; the station B grant adds nothing to it.
    assert visible(user) == {spread["team_a"].pk}
    # members.reveal comes only from station B, unit only (no member sits directly there).
    assert visible(user, "members.reveal") == set()
    access = compute_access(user)
    assert not access.covers_unit("members.reveal", union.team_b)
    assert access.covers_unit("members.reveal", union.station_b)


def test_no_assignment_means_no_rights(union):
    user = services.user_create(actor=None, username="nobody", password=PASSWORD)
    assert compute_access(user).permissions == frozenset()
    assert visible(user) == set()


def test_ended_and_future_assignments_give_nothing(union, roles, spread):
    user = make_staff("temp", union.station_a, [roles["cadre"]])
    assignment = Assignment.objects.get(user=user)
    services.assignment_end(actor=None, assignment=assignment)
    assert visible(user) == set()
    position = assignment.position
    services.assignment_grant(
        actor=None, user=user, position=position,
        starts_at=timezone.now() + timezone.timedelta(days=1),
    )
    assert visible(user) == set()


def test_worker_sees_only_self(worker, spread):
    assert visible(worker) == {worker.member_id}
    assert Member.objects.count() == 5


def test_all_scope_sees_everything(union, spread):
    role = make_role("everything", ["members.view"], DataScope.ALL)
    user = make_staff("all_seeing", union.team_b, [role])
    assert visible(user) == set(Member.objects.values_list("pk", flat=True))


def test_nobody_grants_themself(personas, union, roles):
    position = services.position_create(
        actor=personas.security_admin, org_unit=union.team_a, name="自授岗位", roles=[roles["cadre"]]
    )
    with pytest.raises(PermissionDenied) as exc:
        services.assignment_grant(
            actor=personas.security_admin, user=personas.security_admin, position=position
        )
    assert exc.value.code == "self_grant"


def test_nobody_grants_a_scope_wider_than_their_own(union, roles, personas):
    local_security = make_role("station-security", ["security.manage"], DataScope.UNIT_AND_BELOW)
    station_security = make_staff("station_security", union.station_a, [local_security])
    wide = make_role("wide", ["members.view"], DataScope.ALL)
    position = services.position_create(
        actor=station_security, org_unit=union.team_a, name="宽岗位", roles=[wide]
    )
    with pytest.raises(PermissionDenied) as exc:
        services.assignment_grant(actor=station_security, user=personas.team_cadre,
                                  position=position)
    assert exc.value.code == "scope_too_wide"
    # Outside their subtree they can't even create posts.
    with pytest.raises(PermissionDenied):
        services.position_create(
            actor=station_security, org_unit=union.team_b, name="越权岗位", roles=[roles["cadre"]]
        )


def test_three_admin_duties_never_in_one_role_or_one_user(personas, union, roles):
    with pytest.raises(ServiceError) as exc:
        services.role_save(actor=personas.security_admin, code="god", name="god",
                           permissions=["security.manage", "audit.view"], data_scope="all")
    assert exc.value.code == "separation_of_duties"
    position = services.position_create(
        actor=personas.security_admin, org_unit=union.bureau, name="审计岗", roles=[roles["audit"]]
    )
    with pytest.raises(ServiceError) as exc:
        services.assignment_grant(
            actor=personas.security_admin, user=personas.bureau_admin, position=position
        )
    assert exc.value.code == "separation_of_duties"


def test_only_security_admin_manages_assignments(personas, union, roles):
    position = services.position_create(
        actor=personas.security_admin, org_unit=union.team_a, name="新岗", roles=[roles["cadre"]]
    )
    for actor in (personas.bureau_admin, personas.audit_admin, personas.station_cadre):
        with pytest.raises(PermissionDenied):
            services.assignment_grant(actor=actor, user=personas.team_cadre, position=position)


def test_only_an_all_units_security_admin_edits_roles(union, roles, personas):
    local_security = make_role("station-security2", ["security.manage"], DataScope.UNIT_AND_BELOW)
    station_security = make_staff("station_security2", union.station_a, [local_security])
    with pytest.raises(PermissionDenied) as exc:
        services.role_save(actor=station_security, code="new-role", name="新角色",
                           permissions=["members.view"], data_scope="unit")
    assert exc.value.code == "roles_global_only"
    role = services.role_save(actor=personas.security_admin, code="new-role", name="新角色",
                              permissions=["members.view"], data_scope="unit")
    assert role.pk
