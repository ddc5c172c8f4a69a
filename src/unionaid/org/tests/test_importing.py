"""Org tree import: every bad row named with its reason, all or nothing."""

from __future__ import annotations

import pytest

from conftest import make_role, make_staff
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied
from unionaid.org.importing import UnitRow, orgunits_import
from unionaid.org.models import OrgUnit

pytestmark = pytest.mark.django_db


def row(n, code, name, parent, level):
    return UnitRow(row_number=n, code=code, name=name, parent_code=parent, level=level)


GOOD = [
    row(2, "SA-W2", "甲二车间", "SA", "车间"),
    row(3, "SA-W2-T1", "甲二一班组", "SA-W2", "班组"),
    row(4, "SC", "丙工务段", "B", "站段"),
    row(5, "SC-W1", "丙车间", "SC", "车间"),
]


def messages(result) -> dict[int, str]:
    out: dict[int, str] = {}
    for error in result.errors:
        out[error.row_number] = out.get(error.row_number, "") + error.message
    return out


def test_a_dry_run_checks_and_writes_nothing(union):
    before = OrgUnit.objects.count()
    result = orgunits_import(actor=None, rows=GOOD, dry_run=True)
    assert result.ok
    assert result.created == 0
    assert OrgUnit.objects.count() == before


def test_a_real_run_creates_the_units_under_their_parents_parents_first(union):
    # the child's row comes before its parent's: order in the file doesn't matter
    rows = [GOOD[3], GOOD[2], GOOD[1], GOOD[0]]
    result = orgunits_import(actor=None, rows=rows, dry_run=False)
    assert result.ok, result.errors
    assert result.created == 4
    parent = OrgUnit.objects.get_parent
    team = OrgUnit.objects.get(code="SA-W2-T1")
    assert parent(team).code == "SA-W2"
    assert parent(parent(team)).pk == union.station_a.pk
    assert team.depth == 4
    assert parent(OrgUnit.objects.get(code="SC-W1")).code == "SC"
    assert AuditEvent.objects.filter(action="org.create").count() == 4
    assert AuditEvent.objects.get(action="org.import").changes == {"created": 4}
    # the tree is still a valid materialised path tree
    assert OrgUnit.objects.find_problems() == ([], [], [], [], [])


@pytest.mark.parametrize(("bad", "reason"), [
    (row(9, "SX", "戊段", "NOPE", "站段"), "找不到上级单位编码“NOPE”"),
    (row(9, "SA", "重名段", "B", "站段"), "单位编码“SA”已存在"),
    (row(9, "SA-W2", "重复车间", "SA", "车间"), "与第 2 行重复"),
    (row(9, "SX", "戊段", "B", "大队"), "层级“大队”不存在"),
    (row(9, "SX", "戊段", "B", "路局"), "不低于上级单位的层级“路局”"),
    (row(9, "SX", "戊段", "B", "班组"), "不相邻，应为“站段”"),
    (row(9, "SX", "", "B", "站段"), "请填写单位名称"),
    (row(9, "", "戊段", "B", "站段"), "请填写单位编码"),
    (row(9, "SX", "戊段", "", "站段"), "请填写上级单位编码"),
    (row(9, "SX", "戊段", "B", ""), "请填写层级"),
    (row(9, "SX", "戊段", "SX", "站段"), "不能是它自己的上级"),
    (row(9, "SX", "戊" * 101, "B", "站段"), "不能超过 100 个字符"),
])
def test_each_bad_row_is_named_with_its_reason_and_nothing_is_written(union, bad, reason):
    before = OrgUnit.objects.count()
    result = orgunits_import(actor=None, rows=[*GOOD, bad], dry_run=False)
    assert not result.ok
    assert reason in messages(result)[9]
    assert result.created == 0
    assert OrgUnit.objects.count() == before  # all or nothing
    assert not AuditEvent.objects.filter(action__in=["org.create", "org.import"]).exists()


def test_a_cycle_is_named_on_every_row_in_it(union):
    rows = [row(2, "X1", "一", "X2", "车间"), row(3, "X2", "二", "X1", "车间"),
            row(4, "X3", "三", "X2", "班组")]
    result = orgunits_import(actor=None, rows=rows, dry_run=True)
    found = messages(result)
    assert "循环" in found[2]
    assert "循环" in found[3]
    assert "第 3 行" in found[4]  # its parent's row is bad


def test_a_child_of_a_bad_row_is_reported_too(union):
    rows = [row(2, "SX", "戊段", "B", "大队"), row(3, "SX-W1", "戊车间", "SX", "车间")]
    result = orgunits_import(actor=None, rows=rows, dry_run=True)
    found = messages(result)
    assert "层级“大队”不存在" in found[2]
    assert "上级单位（第 2 行）有错误" in found[3]
    assert found[2].count("不存在") == 1  # each reason once, however many children


def test_a_closed_parent_is_refused(union):
    OrgUnit.objects.filter(pk=union.team_b.pk).update(is_closed=True)
    OrgUnit.objects.filter(pk=union.workshop_b.pk).update(is_closed=True)
    result = orgunits_import(actor=None, rows=[row(2, "SB-W1-X", "班", "SB-W1", "班组")],
                             dry_run=True)
    assert "已撤销" in messages(result)[2]


def test_every_bad_row_is_reported_not_only_the_first(union):
    rows = [row(2, "", "甲", "B", "站段"), row(3, "SY", "乙", "NOPE", "站段"), *GOOD]
    result = orgunits_import(actor=None, rows=rows, dry_run=True)
    assert set(messages(result)) == {2, 3}
    assert result.bad_rows == 2


def test_a_user_imports_only_under_units_they_manage(union, personas, roles):
    manager = make_staff("org_manager", union.station_a,
                         [make_role("station_org", ["org.view", "org.manage"])])
    rows = [row(2, "SA-W9", "甲九车间", "SA", "车间"), row(3, "SB-W9", "乙九车间", "SB", "车间")]
    result = orgunits_import(actor=manager, rows=rows, dry_run=False)
    assert set(messages(result)) == {3}
    assert "您无权管理上级单位“乙机务段”" in messages(result)[3]
    assert not OrgUnit.objects.filter(code="SA-W9").exists()
    result = orgunits_import(actor=manager, rows=rows[:1], dry_run=False)
    assert result.created == 1
    event = AuditEvent.objects.get(action="org.import")
    assert event.actor_id == manager.pk


def test_someone_without_org_manage_is_refused(union, personas):
    with pytest.raises(PermissionDenied):
        orgunits_import(actor=personas.security_admin, rows=GOOD, dry_run=True)


def test_a_level_may_be_given_by_its_number(union):
    result = orgunits_import(actor=None, rows=[row(2, "SX", "戊段", "B", "2")], dry_run=False)
    assert result.created == 1


def test_a_very_long_chain_of_parents_is_reported_not_a_crash(union):
    rows = [row(2, "C0", "链0", "B", "站段")]
    rows += [row(n + 3, f"C{n + 1}", f"链{n + 1}", f"C{n}", "车间") for n in range(3000)]
    # the deepest first: resolving it walks the whole chain
    result = orgunits_import(actor=None, rows=rows[::-1], dry_run=True)
    assert not result.ok
    assert "超过了 4 个层级" in " ".join(e.message for e in result.errors)
