"""normalise.py: every kind of mess a department's list carries, fed through the SQL macros."""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import pytest
from pypinyin import lazy_pinyin

from unionaid.core.idcard import IdNumberError, check_digit, normalize_id_number, parse_id_number
from unionaid.core.synthetic import SyntheticPeople
from unionaid.matching import normalise

FIELDS = ("member_key", "name", "id_number", "birth_date", "sex", "phone", "unit", "address")


@pytest.fixture
def con():
    connection = duckdb.connect()
    normalise.install(connection)
    yield connection
    connection.close()


def run(con, rows: list[dict], *, key: bool = False, fields=FIELDS) -> list[dict]:
    """Load ``rows`` (field -> raw text) as a source table, normalise, return schema-S dicts."""
    columns = ", ".join(f"{f} VARCHAR" for f in fields)
    con.execute(f"CREATE OR REPLACE TABLE src (row_no BIGINT, {columns})")
    for number, row in enumerate(rows, start=1):
        con.execute(f"INSERT INTO src VALUES (?, {', '.join('?' for _ in fields)})",
                    [number, *(row.get(f) for f in fields)])
    normalise.normalise_table(con, "src", "out", key=key)
    cur = con.cursor()
    result = cur.execute("SELECT * FROM out ORDER BY row_no")
    names = [d[0] for d in result.description]
    return [dict(zip(names, values, strict=True)) for values in result.fetchall()]


def one(con, **row) -> dict:
    return run(con, [row])[0]


ID = "110105197605160010"  # a valid number: 1976-05-16, male (sequence 001)
assert check_digit(ID[:17]) == ID[17]


def test_schema_is_the_contract(con):
    run(con, [{"name": "张伟"}])
    described = con.execute("DESCRIBE out").fetchall()
    assert [(c[0], c[1]) for c in described] == list(normalise.SCHEMA.items())


def test_install_is_idempotent(con):
    normalise.install(con)
    normalise.install(con)
    assert con.execute("SELECT count(*) FROM ua_pinyin WHERE ch = '张'").fetchone() == (1,)


# --- ID numbers ----------------------------------------------------------------------------


def test_full_width_digits_and_lower_case_x_are_fixed(con):
    first17 = "11010519760516007"
    number = first17 + check_digit(first17)
    assert number.endswith("X")
    full = "".join(chr(ord(c) + 0xFEE0) for c in first17) + "ｘ"
    assert one(con, name="王芳", id_number=full)["id18"] == number
    row = one(con, name="王芳", id_number=first17 + "x")
    assert row["id18"] == number
    assert row["id_ok"] is True
    assert row["problems"] == []


@pytest.mark.parametrize("raw", [
    "110105 19760516 0010", "110105-19760516-0010", " 110105197605160010 ",
    "110105\u300019760516\u30000010", "'110105197605160010", "110105－19760516－0010",
])
def test_spaces_and_dashes_inside_the_number_are_removed(con, raw):
    row = one(con, name="张伟", id_number=raw)
    assert row["id18"] == ID
    assert row["id_ok"] is True


def test_first_generation_15_digit_number_becomes_18(con):
    row = one(con, name="张伟", id_number="110105760516001")
    assert row["id18"] == "11010519760516001" + check_digit("11010519760516001")
    assert row["id18"] == normalize_id_number("110105760516001")
    assert row["id_ok"] is True
    assert row["birth"] == dt.date(1976, 5, 16)
    assert row["sex"] == "M"


def test_a_mistyped_digit_keeps_the_number_but_fails_the_check(con):
    typo = ID[:10] + "6" + ID[11:]   # 19760516 -> 19766516: month 65 as well as a bad check
    typo2 = ID[:15] + "2" + ID[16:]  # sequence digit changed: only the check digit fails
    rows = run(con, [{"name": "张伟", "id_number": typo}, {"name": "张伟", "id_number": typo2}])
    for row, raw in zip(rows, (typo, typo2), strict=True):
        assert row["id18"] == raw
        assert row["id_ok"] is False
        assert row["problems"] == ["id_check_digit"]
        assert row["birth"] is None  # not taken from a number that fails its check
        assert row["sex"] is None


def test_an_unreadable_number_is_reported(con):
    rows = run(con, [{"name": "张伟", "id_number": "11010519760516"},
                     {"name": "张伟", "id_number": "1101051976051600X1"},
                     {"name": "张伟", "id_number": "4.10105197605161E+17"}])
    assert [r["id18"] for r in rows] == [None, None, None]
    assert all(r["problems"] == ["id_unreadable"] for r in rows)


def test_sql_agrees_with_core_idcard_on_generated_numbers(con):
    people = SyntheticPeople(seed=12)
    rnd = random.Random(12)
    raws = []
    for _ in range(300):
        number = people.id_number()
        kind = rnd.random()
        if kind < 0.3:  # a digit mistyped
            i = rnd.randrange(17)
            number = number[:i] + str((int(number[i]) + rnd.randrange(1, 10)) % 10) + number[i + 1:]
        elif kind < 0.45:  # two digits transposed
            i = rnd.randrange(16)
            number = number[:i] + number[i + 1] + number[i] + number[i + 2:]
        elif kind < 0.6:  # first generation
            number = number[:6] + number[8:17]
        elif kind < 0.65:  # a region code starting with 0, a February 30th
            number = "0" + number[1:] if rnd.random() < 0.5 else number[:10] + "0230" + number[14:]
        raws.append(number)
    rows = run(con, [{"name": "张伟", "id_number": raw} for raw in raws])
    today = dt.datetime.now(dt.UTC).date()  # DuckDB's current_date
    for raw, row in zip(raws, rows, strict=True):
        assert row["id18"] == normalize_id_number(raw), raw
        try:
            info = parse_id_number(raw, today=today)
        except IdNumberError:
            info = None
        assert row["id_ok"] is (info is not None), raw
        if info is not None:
            assert (row["birth"], row["sex"]) == (info.birth_date, info.sex)
    assert 50 < sum(r["id_ok"] for r in rows) < 250  # both kinds were tried


def test_check_char_macro_agrees_with_python(con):
    rnd = random.Random(3)
    firsts = ["".join(str(rnd.randrange(10)) for _ in range(17)) for _ in range(200)]
    got = [con.execute("SELECT ua_check_char(?)", [f]).fetchone()[0] for f in firsts]
    assert got == [check_digit(f) for f in firsts]


def test_a_number_born_in_the_future_is_not_ok(con):
    future = f"110105{dt.date.today().year + 1}0101001"
    row = one(con, name="张伟", id_number=future + check_digit(future))
    assert row["id_ok"] is False


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    "19760516", "1976-05-16", "1976/5/16", "1976年5月16日", "1976.5.16", "1976-5-16",
    "27896", "27896.0", "1976-05-16T00:00:00", "1976-05-16 00:00:00", "1976-05-16T08:30:00Z",
    "１９７６年５月１６日", " 1976 年 5 月 16 日 ",
])
def test_birth_dates_in_every_form(con, raw):
    row = one(con, name="李四", birth_date=raw)
    assert row["birth"] == dt.date(1976, 5, 16)
    assert row["problems"] == []


def test_excel_serial_number_is_read_from_the_epoch_1899_12_30(con):
    assert one(con, name="李四", birth_date="36526")["birth"] == dt.date(2000, 1, 1)


@pytest.mark.parametrize("raw", ["1976-02-30", "19761340", "不详", "76.5.16", "0976-05-16",
                                 "1899-12-31", f"{dt.date.today().year + 1}-01-01"])
def test_unreadable_birth_date_is_reported(con, raw):
    row = one(con, name="李四", birth_date=raw)
    assert row["birth"] is None
    assert row["problems"] == ["birth_unreadable"]


def test_year_and_month_only_gives_the_first_of_the_month_unless_the_id_says(con):
    rows = run(con, [{"name": "李四", "birth_date": "1976年5月"},
                     {"name": "李四", "birth_date": "197605"},
                     {"name": "李四", "birth_date": "1976-05", "id_number": ID}])
    assert [r["birth"] for r in rows] == [dt.date(1976, 5, 1), dt.date(1976, 5, 1),
                                          dt.date(1976, 5, 16)]
    assert all(r["problems"] == [] for r in rows)


def test_year_and_month_disagreeing_with_the_id_gives_the_first_of_its_month(con):
    row = one(con, name="李四", birth_date="1980.3", id_number=ID)
    assert row["birth"] == dt.date(1980, 3, 1)
    assert row["problems"] == []


def test_a_bare_year_confirms_the_id_or_is_unreadable(con):
    rows = run(con, [{"name": "李四", "birth_date": "1976", "id_number": ID},
                     {"name": "李四", "birth_date": "1976年", "id_number": ID},
                     {"name": "李四", "birth_date": "1980", "id_number": ID},
                     {"name": "李四", "birth_date": "1976"}])
    assert [r["birth"] for r in rows] == [dt.date(1976, 5, 16), dt.date(1976, 5, 16),
                                          dt.date(1976, 5, 16), None]
    assert [r["problems"] for r in rows] == [[], [], ["birth_unreadable"], ["birth_unreadable"]]


@pytest.mark.parametrize("raw", ["9999", "1234.5"])
def test_short_numbers_are_no_excel_serials(con, raw):
    assert one(con, name="李四", birth_date=raw)["problems"] == ["birth_unreadable"]


def test_control_characters_are_removed_from_names_units_and_addresses(con):
    row = one(con, name="张\x00三", unit="某\x00机务段\x07", address="北京市\x1f朝阳区")
    assert (row["name"], row["unit"], row["address"]) == ("张三", "某机务段", "北京市朝阳区")


def test_birth_column_wins_over_the_id_and_the_id_fills_a_missing_one(con):
    rows = run(con, [{"name": "张伟", "id_number": ID, "birth_date": "1976-05-17"},
                     {"name": "张伟", "id_number": ID}])
    assert [r["birth"] for r in rows] == [dt.date(1976, 5, 17), dt.date(1976, 5, 16)]


def test_rows_without_any_id_take_birth_and_sex_from_their_columns(con):
    rows = run(con, [{"name": "李娜", "birth_date": "1980-01-02", "sex": "女"},
                     {"name": "王强", "birth_date": "19810203", "sex": "男"},
                     {"name": "赵敏"}])
    assert [(r["id18"], r["id_ok"], r["birth"], r["sex"]) for r in rows] == [
        (None, False, dt.date(1980, 1, 2), "F"),
        (None, False, dt.date(1981, 2, 3), "M"),
        (None, False, None, None),
    ]
    assert all(r["problems"] == [] for r in rows)


# --- sex -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "sex"), [
    ("男", "M"), ("女", "F"), (" 女 ", "F"), ("男性", "M"), ("M", "M"), ("f", "F"), ("1", "M"),
    ("2", "F"), ("女\u3000", "F"),
])
def test_sex_from_the_column(con, raw, sex):
    assert one(con, name="张伟", sex=raw)["sex"] == sex


def test_sex_from_the_id_when_the_column_is_empty_or_unknown(con):
    female17 = "11010519760516002"
    rows = run(con, [{"name": "张伟", "id_number": ID},
                     {"name": "王芳", "id_number": female17 + check_digit(female17)},
                     {"name": "王芳", "id_number": female17 + check_digit(female17), "sex": "未知"}])
    assert [r["sex"] for r in rows] == ["M", "F", "F"]


# --- phones --------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "phone"), [
    ("13812345678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("+8613812345678", "13812345678"),
    ("0086-138-1234-5678", "13812345678"),
    ("86 13812345678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("１３８１２３４５６７８", "13812345678"),
    ("13812345678/13987654321", "13812345678"),
    ("0351-1234567", "03511234567"),
    ("(0351)7654321", "03517654321"),
    ("+86 351 1234567", "03511234567"),
    ("7654321", "7654321"),
])
def test_phones(con, raw, phone):
    row = one(con, name="张伟", phone=raw)
    assert row["phone"] == phone
    assert row["problems"] == []


@pytest.mark.parametrize("raw", ["12345", "1381234567", "无", "23812345678"])
def test_unreadable_phone_is_reported(con, raw):
    row = one(con, name="张伟", phone=raw)
    assert row["phone"] is None
    assert row["problems"] == ["phone_unreadable"]


# --- names, pinyin, address, unit, key -----------------------------------------------------


@pytest.mark.parametrize("raw", ["张伟", " 张伟 ", "张 伟", "张\u3000伟", "\u3000张伟\u3000", "张\t伟\n"])
def test_names_lose_stray_spaces(con, raw):
    row = one(con, name=raw)
    assert row["name"] == "张伟"
    assert row["name_py"] == "zhang wei"


def test_homophones_have_the_same_pinyin(con):
    rows = run(con, [{"name": "张伟"}, {"name": "张玮"}, {"name": "章炜"},
                     {"name": "王静"}, {"name": "汪婧"}, {"name": "欧阳丽"}, {"name": "吕女"}])
    assert [r["name_py"] for r in rows] == [
        "zhang wei", "zhang wei", "zhang wei", "wang jing", "wang jing", "ou yang li", "lv nv"]


def test_traditional_characters_have_the_pinyin_of_the_simplified_ones(con):
    rows = run(con, [{"name": "張偉"}, {"name": "张伟"}, {"name": "陳麗華"}])
    assert [r["name_py"] for r in rows] == ["zhang wei", "zhang wei", "chen li hua"]


def test_polyphonic_characters_take_pypinyins_most_common_reading(con):
    # the same reading whatever the position, so the same character always agrees with itself
    rows = run(con, [{"name": "曾伟"}, {"name": "单芳"}, {"name": "乐乐"}])
    assert [r["name_py"] for r in rows] == ["ceng wei", "dan fang", "le le"]
    for char in "曾单解仇朴区查乐长重":
        assert con.execute("SELECT py FROM ua_pinyin WHERE ch = ?", [char]).fetchone()[0] == \
            lazy_pinyin(char)[0]


def test_minority_names_keep_one_kind_of_middle_dot(con):
    rows = run(con, [{"name": "买买提·艾力"}, {"name": "买买提•艾力"}, {"name": "买买提.艾力"},
                     {"name": "买买提・艾力"}])
    assert {r["name"] for r in rows} == {"买买提·艾力"}
    assert {r["name_py"] for r in rows} == {"mai mai ti ai li"}


def test_a_row_without_a_name_is_reported(con):
    rows = run(con, [{"name": "", "id_number": ID}, {"name": "\u3000", "id_number": ID}])
    assert [(r["name"], r["name_py"], r["problems"]) for r in rows] == [
        (None, None, ["name_missing"]), (None, None, ["name_missing"])]


def test_address_unit_and_member_key(con):
    rows = run(con, [{"member_key": " 00123 ", "name": "张伟", "unit": " 太原车务段 ",
                      "address": "太原市 小店区　平阳路１号"}], key=True)
    assert (rows[0]["member_key"], rows[0]["unit"], rows[0]["address"]) == (
        "00123", "太原车务段", "太原市小店区平阳路1号")
    assert run(con, [{"member_key": "00123", "name": "张伟"}])[0]["member_key"] is None


def test_missing_source_columns_count_as_empty(con):
    rows = run(con, [{"name": "张伟"}], fields=("name",))
    assert rows[0]["name_py"] == "zhang wei"
    assert (rows[0]["id18"], rows[0]["birth"], rows[0]["phone"], rows[0]["problems"]) == (
        None, None, None, [])


def test_row_problems_are_numbered_and_in_chinese(con):
    run(con, [{"name": "张伟", "id_number": ID}, {"name": "", "phone": "123"}])
    problems = normalise.row_problems(con, "out")
    assert [(p.row_number, p.column) for p in problems] == [(2, "姓名"), (2, "手机号")]
    assert problems[0].message == str(normalise.PROBLEM_MESSAGES["name_missing"])


def test_every_problem_code_has_a_message():
    assert set(normalise.PROBLEM_MESSAGES) == {
        "id_unreadable", "id_check_digit", "birth_unreadable", "phone_unreadable",
        "name_missing"} == set(normalise.PROBLEM_COLUMNS)
