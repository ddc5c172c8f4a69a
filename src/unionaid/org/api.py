"""/api/v1/org: the org tree as the caller may see it, and its management (org.manage).

Endpoints parse input, call one selector or service, and shape the answer. A unit outside the
caller's view is "not found", whatever its id.
"""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema, Status

from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, InputSchema
from unionaid.org import selectors, services
from unionaid.org.models import OrgUnit

router = Router(tags=["org"])


def _decorate(units: list[OrgUnit], visible_paths: dict[str, int]) -> list[OrgUnit]:
    """Add ``level_name`` and ``parent_id`` (null when the parent is outside the caller's view,
    so that what a cadre sees is a proper forest and no hidden unit is named)."""
    levels = selectors.level_names()
    for unit in units:
        unit.level_name = levels.get(unit.depth, "")
        unit.parent_id = visible_paths.get(unit.path[: -OrgUnit.steplen]) if unit.depth > 1 else None
    return units


def _visible_parent_paths(user, units: list[OrgUnit]) -> dict[str, int]:
    parent_paths = {u.path[: -OrgUnit.steplen] for u in units if u.depth > 1}
    return dict(
        selectors.units_visible_to(user=user).filter(path__in=parent_paths)
        .values_list("path", "pk")
    )


# -- GET /units ---------------------------------------------------------------------------------

class OrgUnitListItemOut(Schema):
    id: int
    parent_id: int | None
    name: str
    code: str
    depth: int
    level_name: str
    is_closed: bool


@router.get("/units", response={200: list[OrgUnitListItemOut], **READ_ERRORS},
            summary="可见组织列表（平铺，按树序）")
def unit_list(request):
    units = list(selectors.units_visible_to(user=request.auth).order_by("path"))
    return _decorate(units, {u.path: u.pk for u in units})


# -- GET /units/{id} ----------------------------------------------------------------------------

class OrgUnitDetailOut(Schema):
    id: int
    parent_id: int | None
    name: str
    code: str
    region_code: str
    depth: int
    level_name: str
    is_closed: bool
    closed_at: dt.datetime | None


@router.get("/units/{unit_id}", response={200: OrgUnitDetailOut, **READ_ERRORS},
            summary="组织详情")
def unit_detail(request, unit_id: int):
    unit = selectors.unit_get_for_user(user=request.auth, pk=unit_id)
    return _decorate([unit], _visible_parent_paths(request.auth, [unit]))[0]


# -- GET /units/{id}/children -------------------------------------------------------------------

class OrgUnitChildOut(Schema):
    id: int
    parent_id: int | None
    name: str
    code: str
    depth: int
    level_name: str
    is_closed: bool


@router.get("/units/{unit_id}/children",
            response={200: list[OrgUnitChildOut], **READ_ERRORS}, summary="直属下级组织")
def unit_children(request, unit_id: int):
    unit = selectors.unit_get_for_user(user=request.auth, pk=unit_id)
    children = list(
        selectors.units_visible_to(user=request.auth)
        .filter(path__startswith=unit.path, depth=unit.depth + 1).order_by("path")
    )
    return _decorate(children, {unit.path: unit.pk})


# -- POST /units --------------------------------------------------------------------------------

class OrgUnitCreateIn(InputSchema):
    parent_id: int
    name: str = Field(..., max_length=100)
    code: str = Field(..., max_length=40)
    region_code: str = Field("", max_length=6)


class OrgUnitCreateOut(Schema):
    id: int
    parent_id: int | None
    name: str
    code: str
    region_code: str
    depth: int
    level_name: str


@router.post("/units", response={201: OrgUnitCreateOut, **WRITE_ERRORS}, summary="新建下级组织")
def unit_create(request, payload: OrgUnitCreateIn):
    parent = selectors.unit_get_for_user(user=request.auth, pk=payload.parent_id)
    unit = services.orgunit_create(
        actor=request.auth, parent=parent, name=payload.name, code=payload.code,
        region_code=payload.region_code,
    )
    return Status(201, _decorate([unit], {parent.path: parent.pk})[0])


# -- PATCH /units/{id} --------------------------------------------------------------------------

class OrgUnitRenameIn(InputSchema):
    name: str = Field(..., max_length=100)


class OrgUnitRenameOut(Schema):
    id: int
    name: str
    code: str


@router.patch("/units/{unit_id}", response={200: OrgUnitRenameOut, **WRITE_ERRORS},
              summary="组织更名")
def unit_rename(request, unit_id: int, payload: OrgUnitRenameIn):
    unit = selectors.unit_get_for_user(user=request.auth, pk=unit_id)
    return services.orgunit_rename(actor=request.auth, unit=unit, name=payload.name)


# -- POST /units/{id}/move ----------------------------------------------------------------------

class OrgUnitMoveIn(InputSchema):
    new_parent_id: int


class OrgUnitMoveOut(Schema):
    id: int
    parent_id: int | None
    name: str
    depth: int
    level_name: str


@router.post("/units/{unit_id}/move", response={200: OrgUnitMoveOut, **WRITE_ERRORS},
             summary="移动组织（连同下级）")
def unit_move(request, unit_id: int, payload: OrgUnitMoveIn):
    unit = selectors.unit_get_for_user(user=request.auth, pk=unit_id)
    new_parent = selectors.unit_get_for_user(user=request.auth, pk=payload.new_parent_id)
    moved = services.orgunit_move(actor=request.auth, unit=unit, new_parent=new_parent)
    return _decorate([moved], {new_parent.path: new_parent.pk})[0]


# -- POST /units/{id}/close ---------------------------------------------------------------------

class OrgUnitCloseOut(Schema):
    id: int
    name: str
    is_closed: bool
    closed_at: dt.datetime | None


@router.post("/units/{unit_id}/close", response={200: OrgUnitCloseOut, **WRITE_ERRORS},
             summary="撤销组织")
def unit_close(request, unit_id: int):
    unit = selectors.unit_get_for_user(user=request.auth, pk=unit_id)
    return services.orgunit_close(actor=request.auth, unit=unit)
