"""manage.py import_members: prints every bad row and exits non-zero; imports a good file."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from unionaid.audit.models import AuditEvent
from unionaid.cli import translate
from unionaid.members.models import Member
from unionaid.members.tests.io_support import bad_check_digit, person_row, write_csv, write_xlsx


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def run(*args):
    out = StringIO()
    call_command("import_members", *args, stdout=out)
    return out.getvalue()


def test_it_exits_non_zero_and_prints_each_bad_row(personas, people, tmp_path):
    rows = [person_row(people, "SA"),
            person_row(people, "SA", 身份证号=bad_check_digit(people.id_number())),
            person_row(people, "SB")]
    path = write_xlsx(tmp_path / "bad.xlsx", rows)
    out = StringIO()

    with pytest.raises(CommandError) as exc:
        call_command("import_members", str(path), "--as", "station_cadre", stdout=out)

    assert "第 3 行 [身份证号] 身份证号校验位错误" in out.getvalue()
    assert "第 4 行 [单位]" in out.getvalue()
    assert "第 2 行" not in out.getvalue()
    assert "没有导入任何数据" in str(exc.value)
    assert Member.objects.count() == 0


def test_it_imports_a_good_file(personas, people, tmp_path):
    path = write_csv(tmp_path / "ok.csv", [person_row(people, "SA-W1") for _ in range(3)])

    out = run(str(path), "--as", "station_cadre")

    assert "新增职工 3 人" in out
    assert Member.objects.count() == 3
    assert AuditEvent.objects.filter(action="member.import", actor=personas.station_cadre).count() == 1


def test_a_dry_run_checks_only(personas, people, tmp_path):
    path = write_csv(tmp_path / "ok.csv", [person_row(people, "SA")])

    out = run(str(path), "--dry-run", "--as", "station_cadre")

    assert "检查通过" in out
    assert Member.objects.count() == 0


def test_it_refuses_an_unknown_user_and_a_user_without_the_right(personas, people, tmp_path):
    path = write_csv(tmp_path / "ok.csv", [person_row(people, "SA")])

    with pytest.raises(CommandError, match="不存在"):
        run(str(path), "--as", "nobody")
    with pytest.raises(CommandError, match="权限"):
        run(str(path), "--as", "team_cadre")
    assert Member.objects.count() == 0


def test_unionaid_import_members_maps_to_the_command():
    assert translate(["import", "members", "f.xlsx", "--dry-run"]) == [
        "import_members", "f.xlsx", "--dry-run"]
    assert translate(["export", "members", "--as", "x"]) == ["export_members", "--as", "x"]


def test_the_limits_hold_unless_an_admin_lifts_them(personas, people, tmp_path, settings):
    settings.MEMBERS_IMPORT_MAX_ROWS = 2
    path = write_csv(tmp_path / "long.csv", [person_row(people, "SA") for _ in range(2)])

    with pytest.raises(CommandError, match="最多 2 行"):
        run(str(path), "--as", "station_cadre")
    assert Member.objects.count() == 0

    assert "新增职工 2 人" in run(str(path), "--as", "station_cadre", "--no-limits")
