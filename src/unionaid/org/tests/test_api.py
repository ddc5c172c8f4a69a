"""/api/v1/org: the visible part of the tree, and its management by the system admin."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import verified_login
from unionaid.audit.models import AuditEvent
from unionaid.core.testing.api import ApiClient
from unionaid.org.models import OrgUnit


@pytest.fixture
def admin_api(personas):
    return ApiClient(verified_login(Client(), personas.bureau_admin))


def test_a_station_cadre_sees_its_own_subtree_as_a_forest(personas, union, as_session):
    response = as_session(personas.station_cadre).get("/org/units")
    assert response.status_code == 200
    units = response.json()
    assert [u["id"] for u in units] == [union.station_a.pk, union.workshop_a.pk, union.team_a.pk]
    top, workshop, team = units
    assert top["parent_id"] is None  # the bureau is not visible, so not named
    assert workshop["parent_id"] == union.station_a.pk
    assert team == {"id": union.team_a.pk, "parent_id": union.workshop_a.pk, "name": "甲一班组",
                    "code": "SA-W1-T1", "depth": 4, "level_name": "班组", "is_closed": False}


def test_the_admin_sees_the_whole_tree(admin_api, union):
    units = admin_api.get("/org/units").json()
    assert len(units) == 7
    assert units[0]["parent_id"] is None
    assert {u["parent_id"] for u in units if u["depth"] == 2} == {union.bureau.pk}


def test_unit_detail_and_children_stay_in_scope(personas, union, as_session):
    api = as_session(personas.station_cadre)
    detail = api.get(f"/org/units/{union.workshop_a.pk}")
    assert detail.status_code == 200
    assert detail.json()["level_name"] == "车间"
    assert detail.json()["parent_id"] == union.station_a.pk
    children = api.get(f"/org/units/{union.station_a.pk}/children").json()
    assert [c["id"] for c in children] == [union.workshop_a.pk]
    for path in (f"/org/units/{union.station_b.pk}", f"/org/units/{union.bureau.pk}/children"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_admin_creates_renames_moves_and_closes_a_unit(admin_api, union):
    created = admin_api.post("/org/units", {"parent_id": union.workshop_a.pk, "name": "甲二班组",
                                            "code": "SA-W1-T2"})
    assert created.status_code == 201
    body = created.json()
    assert body["parent_id"] == union.workshop_a.pk
    assert body["level_name"] == "班组"
    unit_id = body["id"]

    renamed = admin_api.patch(f"/org/units/{unit_id}", {"name": "甲二班"})
    assert renamed.status_code == 200
    assert OrgUnit.objects.get(pk=unit_id).name == "甲二班"

    moved = admin_api.post(f"/org/units/{unit_id}/move", {"new_parent_id": union.workshop_b.pk})
    assert moved.status_code == 200
    assert moved.json()["parent_id"] == union.workshop_b.pk
    unit = OrgUnit.objects.get(pk=unit_id)
    assert unit.path[: -OrgUnit.steplen] == union.workshop_b.path

    closed = admin_api.post(f"/org/units/{unit_id}/close")
    assert closed.status_code == 200
    assert closed.json()["is_closed"] is True
    unit.refresh_from_db()
    assert unit.is_closed
    actions = list(AuditEvent.objects.filter(target_id=str(unit_id), target_type="org.orgunit")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["org.create", "org.rename", "org.move", "org.close"]


def test_a_cadre_without_org_manage_cannot_create_units(personas, union, as_session):
    response = as_session(personas.station_cadre).post(
        "/org/units", {"parent_id": union.station_a.pk, "name": "新车间", "code": "SA-W9"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "无权" in response.json()["message"]
    assert not OrgUnit.objects.filter(code="SA-W9").exists()


def test_closing_a_unit_with_members_is_a_conflict(admin_api, union, make_member):
    make_member(union.team_b)
    response = admin_api.post(f"/org/units/{union.team_b.pk}/close")
    assert response.status_code == 409
    assert response.json()["code"] == "unit_has_members"
    union.team_b.refresh_from_db()
    assert not union.team_b.is_closed


def test_duplicate_code_is_a_conflict_with_field_message(admin_api, union):
    response = admin_api.post("/org/units", {"parent_id": union.bureau.pk, "name": "重复",
                                             "code": "SA"})
    assert response.status_code == 409
    assert response.json()["fields"] == {"code": "单位编码已存在。"}
