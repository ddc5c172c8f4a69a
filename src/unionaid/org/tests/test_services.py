from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from unionaid.accounts.access import clear_access_cache
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.members.models import Member
from unionaid.org import services
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import units_visible_to


def test_it_creates_a_child_and_journals_it(union, personas):
    unit = services.orgunit_create(
        actor=personas.bureau_admin, parent=union.team_a, name="甲一班组二组", code="SA-W1-T1-2"
    )
    assert OrgUnit.objects.get_parent(unit).pk == union.team_a.pk
    assert unit.depth == 5  # any depth
    assert AuditEvent.objects.filter(action="org.create", target_id=str(unit.pk)).exists()


def test_it_refuses_duplicate_codes_in_chinese(union, personas):
    with pytest.raises(Conflict) as exc:
        services.orgunit_create(actor=personas.bureau_admin, parent=union.bureau, name="x",
                                code="SA")
    assert exc.value.code == "duplicate_code"
    assert "已存在" in exc.value.message


def test_moving_a_subtree_moves_every_descendant(union, personas, make_member):
    member = make_member(union.team_a)
    services.orgunit_move(actor=personas.bureau_admin, unit=union.workshop_a,
                          new_parent=union.station_b)
    workshop = OrgUnit.objects.get(pk=union.workshop_a.pk)
    team = OrgUnit.objects.get(pk=union.team_a.pk)
    station_b = OrgUnit.objects.get(pk=union.station_b.pk)
    assert OrgUnit.objects.get_parent(workshop).pk == station_b.pk
    assert team.path.startswith(station_b.path)
    assert Member.objects.filter(org_unit__path__startswith=station_b.path, pk=member.pk).exists()
    assert AuditEvent.objects.filter(action="org.move").count() == 1


def test_it_refuses_to_move_a_unit_under_itself(union, personas):
    with pytest.raises(ServiceError) as exc:
        services.orgunit_move(actor=personas.bureau_admin, unit=union.station_a,
                              new_parent=union.team_a)
    assert exc.value.code == "move_into_self"


def test_closing_a_unit_with_members_is_refused_with_a_clear_error(union, personas, make_member):
    make_member(union.team_a)
    with pytest.raises(Conflict) as exc:
        services.orgunit_close(actor=personas.bureau_admin, unit=union.workshop_a)
    assert exc.value.code == "unit_has_members"
    assert "1 名职工" in exc.value.message
    assert not OrgUnit.objects.get(pk=union.workshop_a.pk).is_closed


def test_closing_an_empty_leaf_unit_works(union, personas):
    unit = services.orgunit_close(actor=personas.bureau_admin, unit=union.team_b)
    assert unit.is_closed
    assert AuditEvent.objects.filter(action="org.close", target_id=str(unit.pk)).exists()


def test_cadres_cannot_manage_the_tree(union, personas):
    with pytest.raises(PermissionDenied):
        services.orgunit_create(actor=personas.station_cadre, parent=union.station_a,
                                name="x", code="X1")


def test_subtree_queries_do_not_walk_the_tree(union, personas):
    clear_access_cache()  # a process that has not seen the user yet: rights computed
    with CaptureQueriesContext(connection) as ctx:
        units = list(units_visible_to(user=personas.station_cadre))
    assert {u.pk for u in units} == {union.station_a.pk, union.workshop_a.pk, union.team_a.pk}
    # One query for the user's grants (plus prefetch) and one for the subtree, however deep.
    assert len(ctx.captured_queries) <= 3
