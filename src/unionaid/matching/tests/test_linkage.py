"""matching.linkage on schema-S tables built by hand: each stage, the traps, the check-digit
rule, the review band and the reasons. One linkage run (module fixture) over a few hundred
background rows plus one crafted row per case keeps the suite fast."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest
from pypinyin import lazy_pinyin

from unionaid.core.idcard import check_digit
from unionaid.core.synthetic import SyntheticPeople
from unionaid.matching.linkage import LinkSettings, link

SCHEMA_S = ("row_no", "member_key", "name", "name_py", "id18", "id_ok", "birth", "sex", "phone",
            "address", "unit", "problems")


def valid_id(region: str, birth: dt.date, seq: str) -> str:
    body = f"{region}{birth:%Y%m%d}{seq}"
    return body + check_digit(body)


def mistype(number: str, pos: int) -> str:
    """One digit changed: fails the check digit."""
    return number[:pos] + str((int(number[pos]) + 3) % 10) + number[pos + 1:]


def person(name, id18=None, birth=None, sex=None, phone=None, address=None, member_key=None,
           id_ok=None, **extra):
    if birth is None and id18 and id_ok is not False:
        birth = dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    if id_ok is None and id18:
        id_ok = check_digit(id18[:17]) == id18[17]
    return {"member_key": member_key, "name": name, "name_py": " ".join(lazy_pinyin(name)),
            "id18": id18, "id_ok": id_ok, "birth": birth, "sex": sex, "phone": phone,
            "address": address, "unit": None, "problems": [], **extra}


def make_table(con, name: str, rows: list[dict]) -> None:
    columns = list(SCHEMA_S) + [c for c in rows[0] if c not in SCHEMA_S]
    data = {c: [r.get(c) for r in rows] for c in columns if c != "row_no"}
    data["row_no"] = list(range(1, len(rows) + 1))
    types = {"problems": pa.list_(pa.string()), "id_ok": pa.bool_(), "birth": pa.date32()}
    arrow = pa.table({c: pa.array(data[c], type=types.get(c, pa.string()))
                      if c != "row_no" else pa.array(data[c], type=pa.int64())
                      for c in columns})
    con.register(f"{name}_arrow", arrow)
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")


def background(seed: int, count: int, prefix: str) -> list[dict]:
    people = SyntheticPeople(seed)
    rows = []
    for i, p in enumerate(people.people(count)):
        rows.append(person(p["name"], p["id_number"], p["birth_date"], p["sex"], p["phone"],
                           f"太原市{prefix}路{i}号", member_key=f"{prefix}{i:05d}"))
    return rows


ALICE = valid_id("140105", dt.date(1976, 5, 16), "023")   # 张伟, the member
TWIN = valid_id("140105", dt.date(1976, 5, 16), "021")    # another valid number, same county/day
BOB = valid_id("140106", dt.date(1980, 2, 3), "115")
CAROL = valid_id("140107", dt.date(1985, 9, 9), "226")
DAVE = valid_id("140108", dt.date(1990, 1, 20), "337")
ERIN = valid_id("140109", dt.date(1970, 7, 7), "448")
FRANK = valid_id("140110", dt.date(1982, 3, 4), "559")
GRACE = valid_id("140121", dt.date(1979, 11, 30), "662")
HELEN = valid_id("140122", dt.date(1986, 11, 18), "748")

MEMBERS = {
    "alice": person("张伟", ALICE, sex="M", phone="16200000001", address="太原市小店区迎泽大街1号",
                    member_key="M-ALICE"),
    "bob": person("李静", BOB, sex="F", phone="16200000002", address="太原市迎泽区并州路2号",
                  member_key="M-BOB"),
    "carol": person("王丽", CAROL, sex="F", phone="16200000003", address="太原市杏花岭区五一路3号",
                    member_key="M-CAROL"),
    "dave": person("赵军", DAVE, sex="M", phone="16200000004", address="太原市尖草坪区解放路4号",
                   member_key="M-DAVE"),
    "erin": person("刘芳", ERIN, sex="F", phone="16200000005", address="太原市万柏林区府西街5号",
                   member_key="M-ERIN"),
    "frank": person("陈明", FRANK, sex="M", phone="16200000006", address="太原市晋源区长风街6号",
                    member_key="M-FRANK"),
    "grace": person("杨婷", GRACE, sex="F", phone="16200000007", address="太原市清徐县学府街7号",
                    member_key="M-GRACE"),
    "helen": person("李雯", HELEN, sex="F", phone="16200000008", address="太原市阳曲县康乐街8号",
                    member_key="M-HELEN"),
}

EXTERNAL = {
    # exact ID
    "exact": person("张伟", ALICE, sex="M"),
    # exact ID, another name: the householder's number on a family member's row -> review
    "exact_other_name": person("周敏", BOB, sex="F"),
    # no ID: same name and birth date (deterministic pass)
    "name_birth": person("王丽", None, CAROL and dt.date(1985, 9, 9), "F", "16200000003"),
    # mistyped ID (fails the check digit), homophone name, no birth column -> probabilistic
    "typo": person("赵君", mistype(DAVE, 15), None, "M", "16200000004",
                   "太原市尖草坪区解放路4号", id_ok=False),
    # homophone, no ID, same birth and phone -> probabilistic
    "homophone": person("刘方", None, dt.date(1970, 7, 7), "F", "16200000005",
                        "太原市万柏林区府西街5号"),
    # the member's twin: same county and birth date, valid ID two digits away, same phone and
    # address, another given name -> must not match
    "twin": person("张玮", TWIN, sex="M", phone="16200000001", address="太原市小店区迎泽大街1号"),
    # a household member without ID: same phone and address, another name and birth date
    "household": person("张丽", None, dt.date(2001, 3, 1), "F", "16200000001",
                        "太原市小店区迎泽大街1号"),
    # a namesake: same name, same birth year, another date, no ID, another phone
    "namesake": person("陈明", None, dt.date(1982, 8, 19), "M", "16299999999",
                       "太原市小店区体育路9号"),
    # a namesake with a valid ID of the same birth date (both valid, different) -> no match
    "namesake_same_day": person("杨婷", valid_id("141102", dt.date(1979, 11, 30), "664"),
                                sex="F", phone="16299999998"),
}


EXTERNAL["twin_same_sound"] = person(  # 李文 and 李雯 read the same: a twin brother, no ID
    "李文", None, dt.date(1986, 11, 18), "M", None, "太原市阳曲县康乐街8号")


@pytest.fixture(scope="module")
def linked():
    con = duckdb.connect()
    members = list(MEMBERS.values()) + background(11, 400, "bg")
    external = list(EXTERNAL.values()) + background(12, 300, "ext")
    for row in external:
        row["member_key"] = None
    make_table(con, "members", members)
    make_table(con, "external", external)
    stages = []
    result = link(con, "members", "external",
                  progress=lambda stage, done, total: stages.append((stage, done, total)))
    rows = {name: i for i, name in enumerate(EXTERNAL, start=1)}

    def fetch(table):
        out = {}
        for r in con.execute(f"SELECT external_row, member_key, score, method, reason "
                             f"FROM {table}").fetchall():
            out[r[0]] = {"member_key": r[1], "score": r[2], "method": r[3], "reason": r[4]}
        return out

    return {"con": con, "result": result, "rows": rows, "matches": fetch(result.matches),
            "review": fetch(result.review), "stages": stages}


def match_of(linked, case):
    return linked["matches"].get(linked["rows"][case])


def test_it_matches_the_same_id_number_exactly(linked):
    m = match_of(linked, "exact")
    assert m["member_key"] == "M-ALICE"
    assert m["method"] == "exact"
    assert m["score"] == 1.0
    assert m["reason"].startswith("身份证号一致、姓名一致")


def test_same_id_with_another_name_goes_to_review(linked):
    row = linked["rows"]["exact_other_name"]
    assert row not in linked["matches"]
    review = linked["review"][row]
    assert review["member_key"] == "M-BOB"
    assert 0.5 <= review["score"] < 0.95
    assert "姓名不同" in review["reason"]


def test_it_matches_name_and_birth_date_without_id(linked):
    m = match_of(linked, "name_birth")
    assert m["member_key"] == "M-CAROL"
    assert m["method"] == "exact"
    assert m["reason"] == "姓名一致、出生日期一致、性别一致、手机号一致；对方无身份证号"


def test_a_mistyped_id_that_fails_its_check_digit_is_a_typo(linked):
    m = match_of(linked, "typo")
    assert m["member_key"] == "M-DAVE"
    assert m["method"] == "probabilistic"
    assert m["score"] >= 0.95
    assert "身份证号差一位（对方校验位不符，判为录入错误）" in m["reason"]
    assert m["reason"].startswith("姓名拼音一致（同音字）、出生日期一致")


def test_a_homophone_name_matches_probabilistically(linked):
    m = match_of(linked, "homophone")
    assert m["member_key"] == "M-ERIN"
    assert m["method"] == "probabilistic"
    assert 0.95 <= m["score"] <= 1.0
    assert m["reason"] == ("姓名拼音一致（同音字）、出生日期一致、性别一致、手机号一致、住址一致；"
                           "对方无身份证号")


@pytest.mark.parametrize("case", ["twin", "household", "namesake", "namesake_same_day",
                                  "twin_same_sound"])
def test_traps_do_not_match(linked, case):
    row = linked["rows"][case]
    assert row not in linked["matches"]
    assert row not in linked["review"]


def test_valid_ids_a_digit_or_two_apart_are_different_people():
    # the twin's number is two digits from the member's, both valid: plain edit distance would
    # call it a typo; the check digit says two people, even with name and birth agreeing
    assert sum(a != b for a, b in zip(ALICE, TWIN, strict=True)) == 2
    con = duckdb.connect()
    make_table(con, "members", [MEMBERS["alice"], *background(21, 200, "bg")])
    make_table(con, "external", [person("张伟", TWIN, sex="M", phone="16200000001"),
                                 person("张伟", mistype(ALICE, 16), sex="M", id_ok=False),
                                 *background(22, 200, "ext")])
    result = link(con, "members", "external")
    keys = dict(con.execute(f"SELECT external_row, member_key FROM {result.matches}").fetchall())
    assert 1 not in keys
    assert keys[2] == "M-ALICE"


def test_background_strangers_do_not_match(linked):
    crafted = len(EXTERNAL)
    assert [r for r in linked["matches"] if r > crafted] == []


def test_one_member_per_external_row_and_counts(linked):
    con, result = linked["con"], linked["result"]
    dupes = con.execute(f"SELECT count(*) - count(DISTINCT external_row) FROM "
                        f"(SELECT external_row FROM {result.matches} UNION ALL "
                        f"SELECT external_row FROM {result.review})").fetchone()[0]
    assert dupes == 0
    c = result.counts
    assert c["external"] == len(EXTERNAL) + 300
    assert c["exact"] + c["probabilistic"] == len(linked["matches"])
    assert c["review"] == len(linked["review"])
    assert c["exact"] + c["probabilistic"] + c["review"] + c["unmatched"] == c["external"]
    assert con.execute(f"SELECT min(score) >= 0 AND max(score) <= 1 FROM {result.matches}"
                       ).fetchone()[0]


def test_it_reports_progress_by_stage(linked):
    stages = [s for s, _, _ in linked["stages"]]
    assert stages[0] == "prepare"
    assert "probabilistic" in stages
    assert linked["stages"][-1] == ("finish", 5, 5)


def test_the_thresholds_set_the_review_band():
    con = duckdb.connect()
    make_table(con, "members", [MEMBERS["carol"], MEMBERS["alice"]])
    make_table(con, "external", [EXTERNAL["name_birth"], EXTERNAL["exact"]])
    strict = LinkSettings(match_threshold=0.995, review_threshold=0.9, probabilistic=False)
    result = link(con, "members", "external", settings=strict)
    matches = con.execute(f"SELECT external_row, member_key FROM {result.matches}").fetchall()
    review = con.execute(f"SELECT external_row, member_key, score FROM {result.review}"
                         ).fetchall()
    assert matches == [(2, "M-ALICE")]
    assert review == [(1, "M-CAROL", 0.99)]
    assert result.counts["review"] == 1


def test_it_joins_on_id_key_when_given():
    con = duckdb.connect()
    make_table(con, "members", [{**MEMBERS["bob"], "id18": None, "id_ok": None,
                                 "id_key": "h:abc"}])
    make_table(con, "external", [person("李静", None, None, "F", id_key="h:abc"),
                                 person("李静", None, None, "F", id_key="h:zzz")])
    result = link(con, "members", "external", settings=LinkSettings(probabilistic=False))
    rows = con.execute(f"SELECT external_row, member_key, method FROM {result.matches}"
                       ).fetchall()
    assert rows == [(1, "M-BOB", "exact")]


def test_it_refuses_a_table_name_that_is_not_one():
    con = duckdb.connect()
    with pytest.raises(ValueError, match="not a table name"):
        link(con, "members; DROP TABLE x", "external")


def test_repeated_row_numbers_from_several_sheets_are_kept_apart():
    con = duckdb.connect()
    make_table(con, "members", [MEMBERS["alice"], MEMBERS["bob"]])
    make_table(con, "external", [person("李静", BOB, sex="F"), person("张伟", ALICE, sex="M")])
    con.execute("UPDATE external SET row_no = 1")  # row 1 of sheet 1 and row 1 of sheet 2
    result = link(con, "members", "external", settings=LinkSettings(probabilistic=False))
    rows = con.execute(f"SELECT external_row, member_key FROM {result.matches} "
                       "ORDER BY member_key").fetchall()
    assert rows == [(1, "M-ALICE"), (1, "M-BOB")]


def test_a_name_and_birth_date_two_members_share_is_not_enough():
    con = duckdb.connect()
    born = dt.date(1988, 4, 4)
    one = person("王伟", valid_id("140105", born, "011"), sex="M", phone="16211111111",
                 member_key="M-ONE")
    two = person("王伟", valid_id("140106", born, "013"), sex="M", phone="16222222222",
                 member_key="M-TWO")
    make_table(con, "members", [one, two])
    make_table(con, "external", [person("王伟", None, born, "M"),                 # which one?
                                 person("王伟", None, born, "M", "16222222222")])  # the phone says
    result = link(con, "members", "external", settings=LinkSettings(probabilistic=False))
    rows = con.execute(f"SELECT external_row, member_key, reason FROM {result.matches}"
                       ).fetchall()
    assert rows == [(2, "M-TWO", "姓名一致、出生日期一致、性别一致、手机号一致；对方无身份证号")]


def test_the_same_lists_give_the_same_result_every_time():
    def run():
        con = duckdb.connect()
        members = list(MEMBERS.values()) + background(31, 400, "bg")
        external = list(EXTERNAL.values()) + background(32, 300, "ext")
        make_table(con, "members", members)
        make_table(con, "external", external)
        # a sample of the roll for u, as on a large roll
        result = link(con, "members", "external", settings=LinkSettings(u_sample_members=150))
        return con.execute(f"SELECT * FROM {result.matches} UNION ALL "
                           f"SELECT * FROM {result.review} ORDER BY ALL").fetchall()

    assert run() == run()
