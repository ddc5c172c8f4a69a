"""Importing an org tree (组织机构导入), all or nothing.

The edges read a file (``web/setup_files.py``) into ``UnitRow``s; ``orgunits_import`` checks
every row and reports each bad one by its row number with a Chinese reason, then, in a real run
with no bad row, creates the units parents first, in one transaction.

A row names its unit's code, name, parent's code and level (层级). The parent is a unit already
in the tree or another row of the file. A unit's level must be the one just below its parent's:
level names are names of depths (``OrgLevel``), so a 班组 can't hang directly under a 站段.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from unionaid.audit.services import audit_record
from unionaid.core.access import access_for
from unionaid.core.errors import Conflict, PermissionDenied
from unionaid.core.spreadsheets import RowProblem
from unionaid.org.models import OrgLevel, OrgUnit

MANAGE = "org.manage"
NAME_MAX = OrgUnit._meta.get_field("name").max_length
CODE_MAX = OrgUnit._meta.get_field("code").max_length


@dataclass(frozen=True, slots=True)
class UnitRow:
    row_number: int
    code: str
    name: str
    parent_code: str
    level: str


@dataclass
class UnitImportResult:
    dry_run: bool
    total: int = 0
    created: int = 0
    errors: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> int:
        return len({e.row_number for e in self.errors})


@dataclass
class _Checked:
    row: UnitRow
    depth: int = 0
    ok: bool = True
    done: bool = False


class _Checker:
    def __init__(self, actor, rows: list[UnitRow]):
        self.actor = actor
        self.access = access_for(actor) if actor is not None else None
        self.levels = dict(OrgLevel.objects.values_list("depth", "name"))
        self.level_depth = {name: depth for depth, name in self.levels.items()}
        self.existing = {
            u.code: u for u in OrgUnit.objects.only("pk", "code", "name", "path", "depth",
                                                     "is_closed")
        }
        self.rows = rows
        self.errors: list[RowProblem] = []
        self.by_code: dict[str, _Checked] = {}
        self.checked: list[_Checked] = []

    def fail(self, item: _Checked, column: str, message: str) -> None:
        item.ok = False
        self.errors.append(RowProblem(item.row.row_number, column, message))

    def level_list(self) -> str:
        return "、".join(self.levels[d] for d in sorted(self.levels))

    def _level(self, raw: str) -> int | None:
        if raw in self.level_depth:
            return self.level_depth[raw]
        if raw.isdigit() and int(raw) in self.levels:
            return int(raw)
        return None

    def run(self) -> list[_Checked]:
        # 1. each row on its own: required cells, lengths, codes unique in the file and the tree
        for row in self.rows:
            item = _Checked(row)
            self.checked.append(item)
            if not row.code:
                self.fail(item, _("单位编码"), _("请填写单位编码。"))
            elif len(row.code) > CODE_MAX:
                self.fail(item, _("单位编码"), _("单位编码不能超过 %(n)d 个字符。") % {"n": CODE_MAX})
            elif row.code in self.existing:
                self.fail(item, _("单位编码"), _("单位编码“%(code)s”已存在于组织机构中。")
                          % {"code": row.code})
            elif row.code in self.by_code:
                self.fail(item, _("单位编码"), _("单位编码“%(code)s”与第 %(row)d 行重复。")
                          % {"code": row.code, "row": self.by_code[row.code].row.row_number})
            else:
                self.by_code[row.code] = item
            if not row.name:
                self.fail(item, _("单位名称"), _("请填写单位名称。"))
            elif len(row.name) > NAME_MAX:
                self.fail(item, _("单位名称"), _("单位名称不能超过 %(n)d 个字符。") % {"n": NAME_MAX})
            if not row.level:
                self.fail(item, _("层级"), _("请填写层级。"))
            elif self._level(row.level) is None:
                self.fail(item, _("层级"), _("层级“%(level)s”不存在，应为：%(levels)s。")
                          % {"level": row.level, "levels": self.level_list()})
            if not row.parent_code:
                self.fail(item, _("上级单位编码"),
                          _("请填写上级单位编码（根单位在初始化时已建立）。"))
            elif row.parent_code == row.code:
                self.fail(item, _("上级单位编码"), _("单位不能是它自己的上级（循环）。"))
        # 2. the parent chain of every row: found, not closed, no cycle, levels one apart
        for item in self.checked:
            self._place(item, [])
        return self.checked

    def _place(self, item: _Checked, chain: list[str]) -> int | None:
        """The depth of ``item``'s unit, or None if it can't be placed (errors recorded once)."""
        if item.done:
            return item.depth or None
        depth = self._depth(item, chain)
        item.done = True
        item.depth = depth if (depth and item.ok) else 0
        return item.depth or None

    def _depth(self, item: _Checked, chain: list[str]) -> int | None:
        row = item.row
        if not row.parent_code or row.parent_code == row.code:
            return None
        parent_depth = self._parent_depth(item, [*chain, row.code])
        if parent_depth is None:
            return None
        level_depth = self._level(row.level) if row.level else None
        if level_depth is None:
            return None
        if level_depth <= parent_depth:
            self.fail(item, _("层级"), _("层级“%(level)s”不低于上级单位的层级“%(parent)s”。")
                      % {"level": row.level, "parent": self.levels.get(parent_depth, parent_depth)})
            return None
        if level_depth != parent_depth + 1:
            self.fail(item, _("层级"),
                      _("层级“%(level)s”与上级单位的层级“%(parent)s”不相邻，应为“%(expected)s”。")
                      % {"level": row.level, "parent": self.levels.get(parent_depth, parent_depth),
                         "expected": self.levels.get(parent_depth + 1, parent_depth + 1)})
            return None
        return level_depth

    def _parent_depth(self, item: _Checked, chain: list[str]) -> int | None:
        code = item.row.parent_code
        unit = self.existing.get(code)
        if unit is not None:
            if unit.is_closed:
                self.fail(item, _("上级单位编码"), _("上级单位“%(unit)s”已撤销。") % {"unit": unit.name})
                return None
            if self.access is not None and not self.access.covers_unit(MANAGE, unit):
                self.fail(item, _("上级单位编码"), _("您无权管理上级单位“%(unit)s”。")
                          % {"unit": unit.name})
                return None
            return unit.depth
        parent = self.by_code.get(code)
        if parent is None:
            self.fail(item, _("上级单位编码"), _("找不到上级单位编码“%(code)s”：组织机构和本文件中都没有。")
                      % {"code": code})
            return None
        if code in chain:
            members = chain[chain.index(code):]
            loop = " → ".join([*members, code])
            for member in members:
                looped = self.by_code[member]
                if not looped.done:
                    self.fail(looped, _("上级单位编码"),
                              _("上级单位编码形成循环：%(loop)s。") % {"loop": loop})
                    looped.done = True
            return None
        if len(chain) > len(self.levels):  # deeper than any tree may be: stop here
            self.fail(item, _("上级单位编码"), _("上级单位一级套一级超过了 %(n)d 个层级，请检查上级单位编码。")
                      % {"n": len(self.levels)})
            return None
        depth = self._place(parent, chain)
        if depth is None:
            if item.ok:
                self.fail(item, _("上级单位编码"), _("上级单位（第 %(row)d 行）有错误，本行无法导入。")
                          % {"row": parent.row.row_number})
            return None
        return depth


def orgunits_import(*, actor, rows: list[UnitRow], dry_run: bool) -> UnitImportResult:
    """Check ``rows``; unless ``dry_run`` or any row is bad, create every unit in one
    transaction. ``actor=None`` only for the server-side command (``unionaid import_org``
    without ``--as``): the operator at the server's console has the whole tree."""
    if actor is not None and not access_for(actor).has_perm(MANAGE):
        raise PermissionDenied(_("您无权管理组织机构。"))
    result = UnitImportResult(dry_run=dry_run, total=len(rows))
    checker = _Checker(actor, rows)
    checked = checker.run()
    result.errors = sorted(checker.errors, key=lambda e: e.row_number)
    if result.errors or dry_run:
        return result
    result.created = _write(actor=actor, checked=checked)
    return result


@transaction.atomic
def _write(*, actor, checked: list[_Checked]) -> int:
    codes = [item.row.code for item in checked]
    if OrgUnit.objects.filter(code__in=codes).exists():  # added by someone since the check
        raise Conflict(_("导入期间组织机构已被修改，请重新检查文件。"), code="tree_changed")
    parents: dict[str, int] = {}
    created = 0
    # Parents first; siblings in code order, so each sorted insert lands at the end.
    for item in sorted(checked, key=lambda i: (i.depth, i.row.code)):
        row = item.row
        parent_pk = parents.get(row.parent_code)
        # Fetched afresh: treebeard places a child from its parent's current child count.
        parent = (OrgUnit.objects.get(pk=parent_pk) if parent_pk is not None
                  else OrgUnit.objects.select_for_update().get(code=row.parent_code))
        if parent.is_closed:
            raise Conflict(_("导入期间组织机构已被修改，请重新检查文件。"), code="tree_changed")
        unit = OrgUnit.objects.add_child(parent, create_kwargs={
            "name": row.name, "code": row.code, "region_code": parent.region_code})
        parents[row.code] = unit.pk
        audit_record(actor=actor, action="org.create", target=unit, org_unit_path=unit.path,
                     changes={"parent": {"before": None, "after": parent.name},
                              "by": "import"})
        created += 1
    audit_record(actor=actor, action="org.import", target_type="org.orgunit",
                 target_label="import", changes={"created": created})
    return created
