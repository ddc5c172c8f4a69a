"""unionaid match: two files in, MATCHES.csv out, no database."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from unionaid.matching import synthetic
from unionaid.matching.management.commands.match import OUTPUT_COLUMNS

SRC = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def lists(tmp_path_factory):
    return synthetic.cached(tmp_path_factory.mktemp("lists"), 600, 400, seed=5)


def read(path: Path) -> list[dict]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    with path.open(encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == OUTPUT_COLUMNS
        return list(reader)


def truth_of(lists) -> dict[int, str]:
    with lists["truth"].open(encoding="utf-8") as fh:
        return {int(r["external_row"]): r["member_key"] for r in csv.DictReader(fh)}


def test_it_writes_the_matches_with_data_row_numbers(lists, tmp_path):
    out, review = tmp_path / "matches.csv", tmp_path / "review.csv"
    call_command("match", str(lists["members"]), str(lists["external"]), out=str(out),
                 review=str(review))
    rows = read(out)
    truth = truth_of(lists)
    members_listed = sum(1 for key in truth.values() if key)
    assert len(rows) >= 0.98 * members_listed
    # external_row is the data row: row n of the file (header not counted) is truth row n
    wrong = [r for r in rows if truth[int(r["external_row"])] != r["member_key"]]
    assert wrong == []
    assert {r["method"] for r in rows} <= {"exact", "probabilistic"}
    assert all(0 <= float(r["score"]) <= 1 and r["reason"] for r in rows)
    assert [int(r["external_row"]) for r in rows] == sorted(int(r["external_row"]) for r in rows)
    read(review)  # written, with the same columns


def test_a_title_row_in_xlsx_does_not_shift_the_row_numbers(lists, tmp_path):
    out_csv, out_xlsx = tmp_path / "a.csv", tmp_path / "b.csv"
    call_command("match", str(lists["members"]), str(lists["external"]), out=str(out_csv))
    call_command("match", str(lists["members_xlsx"]), str(lists["external_xlsx"]),
                 out=str(out_xlsx))
    pairs = {(r["external_row"], r["member_key"]) for r in read(out_csv)}
    assert {(r["external_row"], r["member_key"]) for r in read(out_xlsx)} == pairs


def test_a_missing_file_is_a_clear_error(lists, tmp_path):
    with pytest.raises(CommandError, match="找不到外部名单文件"):
        call_command("match", str(lists["members"]), str(tmp_path / "nope.csv"),
                     out=str(tmp_path / "m.csv"))


def test_an_unreadable_file_is_a_clear_error(lists, tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"this is not a spreadsheet")
    with pytest.raises(CommandError) as exc:
        call_command("match", str(lists["members"]), str(bad), out=str(tmp_path / "m.csv"))
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(exc.value))
    assert not (tmp_path / "m.csv").exists()


def test_a_roll_without_a_member_key_column_is_a_clear_error(lists, tmp_path):
    roll = tmp_path / "roll.csv"
    with lists["members"].open(encoding="utf-8") as src, roll.open("w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            dst.write(line.replace("工号", "代码", 1) if i == 0 else line)
    with pytest.raises(CommandError, match="工号"):
        call_command("match", str(roll), str(lists["external"]), out=str(tmp_path / "m.csv"))
    # --member-key names the column
    call_command("match", str(roll), str(lists["external"]), out=str(tmp_path / "m.csv"),
                 member_key="代码")
    assert read(tmp_path / "m.csv")


def test_spark_is_refused_clearly(lists, tmp_path):
    with pytest.raises(CommandError, match="暂不支持 --engine spark"):
        call_command("match", str(lists["members"]), str(lists["external"]),
                     out=str(tmp_path / "m.csv"), engine="spark")


def run_cli(*args, env_extra):
    env = {**os.environ, "PYTHONPATH": str(SRC), "DJANGO_SETTINGS_MODULE": "config.settings",
           **env_extra}
    return subprocess.run([sys.executable, "-m", "unionaid.cli", "match", *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_it_runs_with_no_database_reachable(lists, tmp_path):
    out = tmp_path / "m.csv"
    done = run_cli(str(lists["members"]), str(lists["external"]), "--out", str(out),
                   env_extra={"DATABASE_URL": "postgres://nobody@127.0.0.1:9/nowhere"})
    assert done.returncode == 0, done.stderr
    assert "外部名单共 400 行" in done.stdout
    assert read(out)


def test_a_bad_file_exits_non_zero_with_a_chinese_message(lists, tmp_path):
    done = run_cli(str(lists["members"]), str(tmp_path / "missing.csv"), "--out",
                   str(tmp_path / "m.csv"),
                   env_extra={"DATABASE_URL": "postgres://nobody@127.0.0.1:9/nowhere"})
    assert done.returncode != 0
    assert "找不到外部名单文件" in done.stderr


def test_a_member_key_that_looks_like_a_formula_is_escaped(tmp_path):
    data = synthetic.build(50, 40, seed=9)
    data.members = [[f"=HYPERLINK({m[0]})", *m[1:]] for m in data.members]
    paths = synthetic.write(tmp_path, data)
    out = tmp_path / "m.csv"
    call_command("match", str(paths["members"]), str(paths["external"]), out=str(out))
    keys = {r["member_key"] for r in read(out)}
    assert keys
    assert all(k.startswith("'=HYPERLINK(") for k in keys)
