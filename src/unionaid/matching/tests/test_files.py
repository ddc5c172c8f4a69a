"""files.py: reading other departments' lists (.csv in three encodings, .xlsx, .xls)."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import openpyxl
import pytest
import xlsxwriter

from unionaid.core.errors import ServiceError
from unionaid.core.spreadsheets import ReadLimits, SpreadsheetTooLarge
from unionaid.matching import files, normalise
from unionaid.members.roster_files import normalise_header

from .xls_writer import write_xls

HEADER = ["姓名", "身份证号", "出生日期", "性别", "联系电话", "家庭住址", "所在单位", "备注"]
ROWS = [
    ["张伟", "110105197605160010", "1976-05-16", "男", "13812345678", "太原市小店区1号", "车务段", "甲"],
    ["李娜", "", "1980/1/2", "女", "+86 139 1234 5678", "太原市迎泽区2号", "机务段", ""],
]


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def table_rows(con, table: str) -> list[dict]:
    result = con.cursor().execute(f"SELECT * FROM {table} ORDER BY row_no")
    names = [d[0] for d in result.description]
    return [dict(zip(names, values, strict=True)) for values in result.fetchall()]


def write_csv(path, rows, encoding="utf-8", delimiter=","):
    text = "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


# --- CSV -----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_reads_the_same(con, tmp_path, encoding):
    path = write_csv(tmp_path / "list.csv", [HEADER, *ROWS], encoding)
    loaded = files.load_file(con, path, "ext")
    assert loaded.rows == 2
    assert loaded.header_row == 1
    assert loaded.columns == {"name": "姓名", "id_number": "身份证号", "birth_date": "出生日期",
                              "sex": "性别", "phone": "联系电话", "address": "家庭住址",
                              "unit": "所在单位"}
    assert loaded.extra_columns == ["备注"]
    rows = table_rows(con, "ext")
    assert [(r["row_no"], r["sheet_row"], r["name"], r["id_number"], r["phone"]) for r in rows] == [
        (1, 2, "张伟", "110105197605160010", "13812345678"),
        (2, 3, "李娜", None, "+86 139 1234 5678"),
    ]
    assert json.loads(rows[0]["extra"]) == {"备注": "甲"}
    assert not list(tmp_path.glob("unionaid-list-*"))  # no temporary file beside it


def test_excel_unicode_text_utf16_tab_separated(con, tmp_path):
    path = write_csv(tmp_path / "list.csv", [HEADER, *ROWS], "utf-16", delimiter="\t")
    files.load_file(con, path, "ext")
    assert [r["name"] for r in table_rows(con, "ext")] == ["张伟", "李娜"]


def test_gb18030_transcoding_leaves_no_temporary_file(con, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = write_csv(tmp_path / "list.csv", [HEADER, *ROWS], "gb18030")
    files.load_file(con, path, "ext")
    assert [p.name for p in tmp_path.iterdir()] == ["list.csv"]


def test_header_below_a_title_row_and_row_numbers_exclude_it(con, tmp_path):
    path = write_csv(tmp_path / "list.csv", [["2026年低保户名单"], ["制表单位：民政局"],
                                              HEADER, *ROWS])
    loaded = files.load_file(con, path, "ext")
    assert loaded.header_row == 3
    rows = table_rows(con, "ext")
    assert [(r["row_no"], r["sheet_row"], r["name"]) for r in rows] == [
        (1, 4, "张伟"), (2, 5, "李娜")]


def test_tab_separated_and_blank_rows(con, tmp_path):
    path = write_csv(tmp_path / "list.csv", [HEADER, ROWS[0], [""] * len(HEADER), ROWS[1]],
                     delimiter="\t")
    files.load_file(con, path, "ext")
    rows = table_rows(con, "ext")
    assert [(r["row_no"], r["name"]) for r in rows] == [(1, "张伟"), (3, "李娜")]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_empty_lines_count_as_rows(con, tmp_path, newline):
    path = tmp_path / "list.csv"
    lines = ["", "名单", "", ",".join(HEADER), ",".join(ROWS[0]), "", "", ",".join(ROWS[1]), "", ""]
    path.write_text(newline.join(lines), encoding="gb18030")
    loaded = files.load_file(con, path, "ext")
    assert loaded.header_row == 4
    rows = table_rows(con, "ext")
    assert [(r["row_no"], r["sheet_row"], r["name"]) for r in rows] == [
        (1, 5, "张伟"), (4, 8, "李娜")]


@pytest.mark.parametrize(("header", "field"), [
    ("公民身份号码", "id_number"), ("证件号码", "id_number"), ("身份证号码", "id_number"),
    ("出生年月", "birth_date"), ("手机号", "phone"), ("联系方式", "phone"), ("单位", "unit"),
    ("住址", "address"), ("地址", "address"), ("工号", "member_key"), ("编号", "member_key"),
    ("member_id", "member_key"), ("自付金额", "amount"), ("金额", "amount"), ("日期", "date"),
    ("就诊日期", "date"), ("身份证号*", "id_number"), ("身份证号（18位）", "id_number"),
    ("联系 电话", "phone"),
])
def test_header_synonyms(con, tmp_path, header, field):
    name_header = "姓名"
    other = "出生日期" if field != "birth_date" else "身份证号"
    path = write_csv(tmp_path / "list.csv", [[name_header, other, header], ["张伟", "x", "v"]])
    loaded = files.load_file(con, path, "ext")
    assert loaded.columns[field] == normalise_header(header)
    assert table_rows(con, "ext")[0][field] == "v"


def test_custom_mapping_for_unrecognised_headers(con, tmp_path):
    path = write_csv(tmp_path / "list.csv", [["人员名称", "证照号", "救助类别"],
                                              ["张伟", "110105197605160010", "A类"]])
    with pytest.raises(ServiceError):
        files.load_file(con, path, "ext")
    loaded = files.load_file(con, path, "ext", mapping={"人员名称": "name", "证照号": "id_number"})
    assert loaded.columns == {"name": "人员名称", "id_number": "证照号"}
    row = table_rows(con, "ext")[0]
    assert (row["name"], row["id_number"], json.loads(row["extra"])) == (
        "张伟", "110105197605160010", {"救助类别": "A类"})


def test_a_mapping_to_an_unknown_field_is_refused(con, tmp_path):
    path = write_csv(tmp_path / "list.csv", [HEADER, *ROWS])
    with pytest.raises(ServiceError, match="未知字段"):
        files.load_file(con, path, "ext", mapping={"人员名称": "salary"})


def test_key_column_names_the_member_key(con, tmp_path):
    path = write_csv(tmp_path / "members.csv", [["人员代码", "姓名", "身份证号"],
                                                 ["A-001", "张伟", "110105197605160010"]])
    loaded = files.load_file(con, path, "members", key_column="人员代码")
    assert loaded.columns["member_key"] == "人员代码"
    assert table_rows(con, "members")[0]["member_key"] == "A-001"


def test_key_column_wins_over_a_recognised_key_header(con, tmp_path):
    path = write_csv(tmp_path / "members.csv", [["工号", "姓名", "身份证号", "会员卡号"],
                                                 ["7", "张伟", "110105197605160010", "K7"]])
    loaded = files.load_file(con, path, "members", key_column="会员卡号")
    assert loaded.columns["member_key"] == "会员卡号"
    assert loaded.extra_columns == ["工号"]
    assert table_rows(con, "members")[0]["member_key"] == "K7"
    assert files.load_file(con, path, "members").columns["member_key"] == "工号"


def test_a_missing_key_column_is_refused(con, tmp_path):
    path = write_csv(tmp_path / "members.csv", [HEADER, *ROWS])
    with pytest.raises(ServiceError, match="会员编号列“人员代码”"):
        files.load_file(con, path, "members", key_column="人员代码")
    assert not con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0]


@pytest.mark.parametrize("header", [["姓名", "单位", "金额"], ["身份证号", "出生日期", "电话"],
                                    ["a", "b", "c"]])
def test_a_list_without_identifying_columns_is_refused_in_chinese(con, tmp_path, header):
    path = write_csv(tmp_path / "list.csv", [header, ["张伟", "车务段", "100"]])
    with pytest.raises(ServiceError) as error:
        files.load_file(con, path, "ext")
    assert error.value.code == "no_identifying_columns"
    assert "没有找到可识别的表头" in error.value.message
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'ext%'"
                           ).fetchone()[0]  # nothing half-imported


@pytest.mark.parametrize(("name", "content", "message"), [
    ("list.txt", b"a,b", "只支持"),
    ("list.xlsx", "姓名,身份证号\n".encode(), "不是 .xlsx"),
    ("list.xls", "姓名,身份证号\n".encode(), "不是 .xls"),
    ("list.csv", b"PK\x03\x04rest", "不是 .csv"),
    ("list.csv", b"\x80abc\xff", "编码"),
])
def test_unreadable_files_are_refused(con, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ServiceError, match=message):
        files.load_file(con, path, "ext")


def test_csv_past_the_row_limit_is_refused(con, tmp_path):
    path = write_csv(tmp_path / "list.csv", [HEADER, *ROWS, *ROWS])
    limits = ReadLimits(max_rows=4, max_columns=50, max_bytes=1 << 20)
    with pytest.raises(SpreadsheetTooLarge):
        files.load_file(con, path, "ext", limits=limits)
    assert files.load_file(con, path, "ext", limits=ReadLimits(5, 50, 1 << 20)).rows == 4
    with pytest.raises(SpreadsheetTooLarge, match="列数"):
        files.load_file(con, path, "ext", limits=ReadLimits(5, 7, 1 << 20))
    with pytest.raises(SpreadsheetTooLarge, match="文件太大"):
        files.load_file(con, path, "ext", limits=ReadLimits(5, 50, 100))


# --- Excel ---------------------------------------------------------------------------------


def test_xlsx_two_sheets_title_rows_date_cells_and_serials(con, tmp_path):
    path = tmp_path / "list.xlsx"
    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    first = book.add_worksheet("一月")
    first.write_row(0, 0, ["2026年1月医保大额自付名单"])
    first.write_row(1, 0, ["姓名", "公民身份号码", "出生日期", "自付金额", "就诊日期"])
    first.write_row(2, 0, ["张伟", "110105197605160010"])
    first.write_datetime(2, 2, dt.datetime(1976, 5, 16), date_format)
    first.write_number(2, 3, 12000)
    first.write_datetime(2, 4, dt.datetime(2026, 1, 5, 9, 30), date_format)
    first.write_row(3, 0, ["李娜", "", 29222, 350.5, "2026-01-06"])  # serial: 1980-01-02
    second = book.add_worksheet("二月")
    second.write_row(0, 0, ["姓名", "公民身份号码", "出生日期", "自付金额", "就诊日期", "医院"])
    second.write_row(1, 0, ["王强", "110105197605160029", "", 800, "", "省人民医院"])
    notes = book.add_worksheet("说明")
    notes.write_row(0, 0, ["本表由医保局提供"])
    book.close()

    loaded = files.load_file(con, path, "ext")
    assert loaded.sheets == ["一月", "二月"]
    assert loaded.header_row == 2
    assert loaded.columns == {"name": "姓名", "id_number": "公民身份号码",
                              "birth_date": "出生日期", "amount": "自付金额", "date": "就诊日期"}
    assert loaded.extra_columns == ["医院"]
    rows = table_rows(con, "ext")
    assert [(r["row_no"], r["sheet"], r["sheet_row"], r["name"], r["birth_date"], r["amount"],
             r["date"]) for r in rows] == [
        (1, "一月", 3, "张伟", "1976-05-16", "12000", "2026-01-05T09:30:00"),
        (2, "一月", 4, "李娜", "29222", "350.5", "2026-01-06"),
        (3, "二月", 2, "王强", None, "800", None),
    ]
    assert json.loads(rows[2]["extra"]) == {"医院": "省人民医院"}
    normalise.normalise_table(con, "ext", "ext_s")
    births = con.execute("SELECT birth FROM ext_s ORDER BY row_no").fetchall()
    assert births == [(dt.date(1976, 5, 16),), (dt.date(1980, 1, 2),), (dt.date(1976, 5, 16),)]


def test_legacy_xls_with_a_title_row_two_sheets_and_date_cells(con, tmp_path):
    # xlwt is not installed: tests/xls_writer.py writes a minimal BIFF8 workbook
    path = tmp_path / "list.xls"
    write_xls(path, {
        "名单": [["2026年残疾人证名单"],
                 ["姓名", "证件号码", "出生年月", "联系方式", "地址"],
                 ["张伟", "110105197605160010", dt.date(1976, 5, 16), 13812345678, "太原市"],
                 ["李娜", None, 29222, "139 1234 5678", None]],
        "续表": [["姓名", "证件号码", "出生年月", "联系方式", "地址"],
                 ["王强", "110105760516002", "1976年5月16日", None, None]],
    })
    loaded = files.load_file(con, path, "ext")
    assert (loaded.sheets, loaded.header_row, loaded.rows) == (["名单", "续表"], 2, 3)
    normalise.normalise_table(con, "ext", "ext_s")
    rows = table_rows(con, "ext_s")
    assert [(r["row_no"], r["name"], r["id18"], r["birth"], r["phone"]) for r in rows] == [
        (1, "张伟", "110105197605160010", dt.date(1976, 5, 16), "13812345678"),
        (2, "李娜", None, dt.date(1980, 1, 2), "13912345678"),
        (3, "王强", "110105197605160029", dt.date(1976, 5, 16), None),
    ]
    assert [r["sheet_row"] for r in table_rows(con, "ext")] == [3, 4, 2]


def test_xlsx_id_number_stored_as_a_number_is_reported_by_row(con, tmp_path):
    path = tmp_path / "list.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "手机号"])
    sheet.append(["张伟", "110105197605160010", 13812345678])
    sheet.append(["李娜", 110105198001020023, 13912345678])  # Excel keeps 15 digits
    book.save(path)
    loaded = files.load_file(con, path, "ext")
    assert [(p.row_number, p.column) for p in loaded.problems] == [(3, "身份证号")]
    assert "文本" in loaded.problems[0].message
    rows = table_rows(con, "ext")
    assert [(r["id_number"], r["phone"]) for r in rows] == [
        ("110105197605160010", "13812345678"), (None, "13912345678")]


def test_xlsx_without_identifying_columns_is_refused(con, tmp_path):
    path = tmp_path / "list.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["单位", "金额"])
    book.active.append(["车务段", 100])
    book.save(path)
    with pytest.raises(ServiceError, match="没有找到可识别的表头"):
        files.load_file(con, path, "ext")


def test_xlsx_past_the_row_limit_is_refused(con, tmp_path):
    path = tmp_path / "list.xlsx"
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    for _ in range(10):
        book.active.append(ROWS[0])
    book.save(path)
    with pytest.raises(SpreadsheetTooLarge):
        files.load_file(con, path, "ext", limits=ReadLimits(5, 50, 1 << 20))


# --- problems by row, end to end -----------------------------------------------------------


def test_row_problems_carry_the_row_number_the_spreadsheet_shows(con, tmp_path):
    path = write_csv(tmp_path / "list.csv", [
        ["低保名单"], HEADER, ROWS[0],
        ["王五", "11010519760516001Y", "1976-02-30", "男", "12345", "", "", ""],
        ["", "110105197605160010", "", "", "", "", "", ""],
    ])
    files.load_file(con, path, "ext")
    normalise.normalise_table(con, "ext", "ext_s")
    problems = normalise.row_problems(con, "ext_s", source="ext")
    assert [(p.row_number, p.column) for p in problems] == [
        (4, "身份证号"), (4, "出生日期"), (4, "手机号"), (5, "姓名")]


def test_a_control_character_in_a_sheet_name_is_dropped(con, tmp_path):
    path = tmp_path / "list.xls"
    write_xls(path, {"名\x07单": [["姓名", "证件号码"], ["张伟", "110105197605160010"]]})
    loaded = files.load_file(con, path, "ext")
    assert loaded.sheets == ["名单"]
    assert con.execute("SELECT DISTINCT sheet FROM ext").fetchall() == [("名单",)]
