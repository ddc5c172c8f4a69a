"""Writes to the org tree."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.audit.services import audit_record
from unionaid.core.access import access_for
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.org.guards import run_close_guards
from unionaid.org.models import OrgLevel, OrgUnit


def _require_manage(actor, unit: OrgUnit) -> None:
    if not access_for(actor).covers_unit("org.manage", unit):
        raise PermissionDenied(_("您无权管理“%(unit)s”。") % {"unit": unit.name})


def _validate(name: str, code: str) -> tuple[str, str]:
    name, code = (name or "").strip(), (code or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("请填写单位名称。")
    if not code:
        errors["code"] = _("请填写单位编码。")
    if errors:
        raise ServiceError(next(iter(errors.values())), code="validation_error", fields=errors)
    if OrgUnit.objects.filter(code=code).exists():
        raise Conflict(_("单位编码“%(code)s”已存在。") % {"code": code}, code="duplicate_code",
                       fields={"code": _("单位编码已存在。")})
    return name, code


@transaction.atomic
def orgunit_create_root(*, actor, name: str, code: str, region_code: str = "") -> OrgUnit:
    """Create a root unit. Only for set-up commands (the demo, a first install)."""
    name, code = _validate(name, code)
    unit = OrgUnit.objects.add_root(
        create_kwargs={"name": name, "code": code, "region_code": region_code}
    )
    audit_record(actor=actor, action="org.create", target=unit, org_unit_path=unit.path)
    return unit


@transaction.atomic
def orgunit_create(*, actor, parent: OrgUnit, name: str, code: str, region_code: str = "") -> OrgUnit:
    _require_manage(actor, parent)
    parent = OrgUnit.objects.select_for_update().get(pk=parent.pk)
    if parent.is_closed:
        raise ServiceError(_("上级单位已撤销。"), code="unit_closed")
    name, code = _validate(name, code)
    unit = OrgUnit.objects.add_child(
        parent,
        create_kwargs={"name": name, "code": code,
                       "region_code": region_code or parent.region_code},
    )
    audit_record(actor=actor, action="org.create", target=unit, org_unit_path=unit.path,
                 changes={"parent": {"before": None, "after": parent.name}})
    return unit


@transaction.atomic
def orgunit_rename(*, actor, unit: OrgUnit, name: str) -> OrgUnit:
    _require_manage(actor, unit)
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("请填写单位名称。"), code="validation_error",
                           fields={"name": _("请填写单位名称。")})
    before = unit.name
    OrgUnit.objects.filter(pk=unit.pk).update(name=name)
    unit.name = name
    audit_record(actor=actor, action="org.rename", target=unit, org_unit_path=unit.path,
                 changes={"name": {"before": before, "after": name}})
    return unit


@transaction.atomic
def orgunit_move(*, actor, unit: OrgUnit, new_parent: OrgUnit) -> OrgUnit:
    """Move a unit and its whole subtree under ``new_parent`` (paths rewritten in bulk)."""
    _require_manage(actor, unit)
    _require_manage(actor, new_parent)
    unit = OrgUnit.objects.get(pk=unit.pk)
    new_parent = OrgUnit.objects.get(pk=new_parent.pk)
    if unit.depth == 1:
        raise ServiceError(_("不能移动根单位。"), code="cannot_move_root")
    if new_parent.path.startswith(unit.path):
        raise ServiceError(_("不能把单位移动到它自己或其下级单位之下。"), code="move_into_self")
    if new_parent.is_closed:
        raise ServiceError(_("目标上级单位已撤销。"), code="unit_closed")
    old_parent = OrgUnit.objects.get_parent(unit)
    OrgUnit.objects.move(unit, new_parent, pos="sorted-child")
    unit.refresh_from_db()
    audit_record(actor=actor, action="org.move", target=unit, org_unit_path=unit.path,
                 changes={"parent": {"before": old_parent.name, "after": new_parent.name}})
    return unit


@transaction.atomic
def orgunit_close(*, actor, unit: OrgUnit) -> OrgUnit:
    """Close a unit. What the close guards name (members, open sub-units, people in posts:
    ``org/guards.py``) must be moved or closed first."""
    _require_manage(actor, unit)
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    if unit.is_closed:
        return unit
    run_close_guards(unit)
    unit.is_closed = True
    unit.closed_at = timezone.now()
    unit.save(update_fields=["is_closed", "closed_at"])
    audit_record(actor=actor, action="org.close", target=unit, org_unit_path=unit.path)
    return unit


@transaction.atomic
def orglevel_set(*, actor, depth: int, name: str) -> OrgLevel:
    if not access_for(actor).has_perm("system.config"):
        raise PermissionDenied()
    level, _created = OrgLevel.objects.update_or_create(depth=depth, defaults={"name": name})
    audit_record(actor=actor, action="org.level_set", target=level,
                 changes={"depth": depth, "name": name})
    return level


@transaction.atomic
def orglevels_define(*, actor, names: list[str]) -> list[OrgLevel]:
    """Name the depths of a new tree, top-down (路局, 站段, 车间, 班组). Only for first-run set-up
    (``actor=None``) or a system admin, and only while no unit exists: renaming the depths of
    a tree in use is ``orglevel_set``."""
    if actor is not None and not access_for(actor).has_perm("system.config"):
        raise PermissionDenied()
    if OrgUnit.objects.exists():
        raise Conflict(_("组织机构已建立，不能重新定义层级。"), code="tree_exists")
    OrgLevel.objects.all().delete()
    levels = OrgLevel.objects.bulk_create(
        [OrgLevel(depth=depth, name=name) for depth, name in enumerate(names, start=1)])
    audit_record(actor=actor, action="org.levels_define", target_type="org.orglevel",
                 target_label="levels", changes={"levels": list(names)})
    return levels
