"""matching.synthetic: deterministic messy lists whose truth is known."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter

import pytest
from python_calamine import CalamineWorkbook

from unionaid.core.idcard import check_digit
from unionaid.matching import synthetic

N = 3000


@pytest.fixture(scope="module")
def data():
    return synthetic.build(N, N, seed=7)


def test_same_seed_same_lists_and_another_seed_others(data):
    again = synthetic.build(N, N, seed=7)
    assert again.members == data.members
    assert again.external == data.external
    assert again.truth == data.truth
    assert synthetic.build(200, 200, seed=8).external != synthetic.build(200, 200,
                                                                           seed=7).external


def test_the_mix_follows_the_proportions(data):
    kinds = Counter(kind for _, kind, _ in data.truth)
    assert kinds["member"] == round(N * synthetic.Mix().members)
    assert kinds["household"] == round(N * synthetic.Mix().households)
    assert kinds["namesake"] == round(N * synthetic.Mix().namesakes)
    assert sum(kinds.values()) == N
    # members appear once and only member rows carry a member key
    keys = [key for key, kind, _ in data.truth if key]
    assert len(keys) == len(set(keys)) == kinds["member"]
    assert all(bool(key) == (kind == "member") for key, kind, _ in data.truth)


def test_no_id_number_is_used_twice(data):
    roll = [m[2] for m in data.members]
    others = [row[1] for row, (_, kind, mess) in zip(data.external, data.truth, strict=True)
              if kind != "member" and row[1] and not re.search(r"typo|transposed|15|full|space|"
                                                               r"lower", mess)]
    assert len(set(roll)) == len(roll)
    assert not set(roll) & set(others)
    assert all(check_digit(n[:17]) == n[17] for n in roll)


def test_every_kind_of_mess_occurs(data):
    tags = Counter(t for _, _, mess in data.truth for t in mess.split(";") if t)
    for tag in ("id_missing", "id_typo", "id_transposed", "id_15", "id_fullwidth", "id_spaces",
                "id_lower_x", "name_spaces", "name_homophone", "birth_missing", "birth_serial",
                "phone_missing", "phone_changed", "address_missing", "spouse", "child", "twin"):
        assert tags[tag] > 0, tag
    ids = [row[1] for row in data.external]
    assert any(re.fullmatch(r"\d{15}", i) for i in ids)
    assert any(i.endswith("x") for i in ids)
    assert any("１" in i or "２" in i for i in ids)
    births = {row[2] for row in data.external}
    assert any(re.fullmatch(r"\d{8}", b) for b in births)
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d", b) for b in births)
    assert any(re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}", b) for b in births)
    assert any(re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", b) for b in births)
    assert any(re.fullmatch(r"\d{5}", b) for b in births)  # Excel serial
    phones = [row[4] for row in data.external]
    assert any(p.startswith("+86") for p in phones)
    assert any("-" in p for p in phones)
    assert any(" " in p for p in phones)


def test_mistyped_ids_fail_their_check_digit_and_stay_close(data):
    roll = {m[0]: m for m in data.members}
    for row, (key, _, mess) in zip(data.external, data.truth, strict=True):
        if "id_typo" in mess or "id_transposed" in mess:
            number = row[1]
            assert check_digit(number[:17]) != number[17]
            if not key:
                continue
            real = roll[key][2]
            assert sum(a != b for a, b in zip(number, real, strict=True)) in (1, 2)


def test_traps_share_what_they_should_and_differ_in_person(data):
    roll = {m[0]: m for m in data.members}
    by_phone = {m[5]: m for m in data.members}
    by_name = Counter(m[1] for m in data.members)
    households = [(row, mess) for row, (_, kind, mess) in zip(data.external, data.truth,
                                                                strict=True)
                  if kind == "household"]
    assert households
    for row, mess in households:
        if "phone_missing" in mess or "phone_changed" in mess:
            continue
        phone = re.sub(r"\D", "", row[4]).removeprefix("86")
        member = by_phone[phone]
        assert row[5] == member[7]          # same address
        assert row[0] != member[1]          # another person
        if row[1]:
            assert row[1][:6] == member[2][:6]  # same county
            assert row[1] != member[2]
    namesakes = [row for row, (_, kind, _) in zip(data.external, data.truth, strict=True)
                 if kind == "namesake"]
    assert namesakes
    assert all(by_name[row[0]] >= 1 for row in namesakes)
    assert len(roll) == N


def test_write_and_cached_files(tmp_path):
    paths = synthetic.cached(tmp_path, 300, 200, seed=3)
    with paths["external"].open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == synthetic.EXTERNAL_HEADER
    assert len(rows) == 201
    with paths["truth"].open(encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    assert [t["external_row"] for t in truth[:3]] == ["1", "2", "3"]
    assert truth[0].keys() == {"external_row", "member_key", "kind", "mess"}
    with paths["members"].open(encoding="utf-8") as fh:
        assert tuple(next(csv.reader(fh))) == synthetic.MEMBER_HEADER
    # small lists also come as .xlsx; the external one below a title row
    sheet = CalamineWorkbook.from_path(str(paths["external_xlsx"])).get_sheet_by_index(0)
    values = sheet.to_python()
    assert values[0][0].startswith("低保家庭名单")
    assert tuple(values[1]) == synthetic.EXTERNAL_HEADER
    assert len(values) == 202
    # built once: the second call reuses the files
    stamp = paths["external"].stat().st_mtime_ns
    assert synthetic.cached(tmp_path, 300, 200, seed=3) == paths
    assert paths["external"].stat().st_mtime_ns == stamp


def test_birth_dates_are_consistent_with_the_roll(data):
    roll = {m[0]: m for m in data.members}
    for row, (key, kind, mess) in zip(data.external, data.truth, strict=True):
        if kind == "member" and row[2] and "birth_serial" in mess:
            serial = dt.date(1899, 12, 30) + dt.timedelta(days=int(row[2]))
            assert serial.isoformat() == roll[key][3]
