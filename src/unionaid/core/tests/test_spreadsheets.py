import zipfile
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from unionaid.core.errors import ServiceError
from unionaid.core.spreadsheets import (
    ReadLimits,
    SpreadsheetTooLarge,
    check_csv_size,
    check_xlsx,
    guard_rows,
    safe_cell,
    safe_row,
)
from unionaid.core.testing.spreadsheets import (
    inline,
    sheet_xml,
    understate_size,
    write_raw_xlsx,
)


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","点击")', "+1", "-1+2", "@SUM(A1)",
                                   "\t=1", "\r=1"])
def test_text_that_could_start_a_formula_stays_text(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["张三", "110105********1234", "", "a=b", "'=already"])
def test_other_text_is_kept_as_it_is(value):
    assert safe_cell(value) == value


def test_numbers_and_empty_cells_are_not_touched():
    assert safe_row([-5, Decimal("-1.50"), None, "=1"]) == [-5, Decimal("-1.50"), None, "'=1"]


# --- reading: uploaded spreadsheets are measured before they are read ----------------------------

LIMITS = ReadLimits(max_rows=100, max_columns=20, max_bytes=50 << 20)


def rows(count: int, width: int = 3) -> list[list[str]]:
    return [[f"v{r}-{c}" for c in range(width)] for r in range(count)]


def test_a_workbook_within_the_limits_passes_and_stays_readable(tmp_path):
    path = write_raw_xlsx(tmp_path / "ok.xlsx", sheet_xml(rows(100, 20)))

    check_xlsx(path, LIMITS)

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    assert sheet.to_python()[99][19] == "v99-19"


def test_a_small_file_that_unzips_past_the_limit_is_refused_unread(tmp_path):
    path = write_raw_xlsx(tmp_path / "bomb.xlsx", sheet_xml(rows(2), padding=60 << 20))
    assert path.stat().st_size < 1 << 20  # a zip bomb: tiny on disk

    with pytest.raises(SpreadsheetTooLarge, match="解压后超过 50 MB") as caught:
        check_xlsx(path, LIMITS)
    assert caught.value.code == "file_too_large"


@pytest.mark.parametrize("numbered", [True, False])
def test_too_many_rows_are_refused_numbered_or_not(tmp_path, numbered):
    path = write_raw_xlsx(tmp_path / "rows.xlsx", sheet_xml(rows(101), numbered=numbered))

    with pytest.raises(SpreadsheetTooLarge, match="最多 100 行"):
        check_xlsx(path, LIMITS)


def test_rows_are_counted_across_read_chunks(tmp_path):
    limits = ReadLimits(max_rows=30_000, max_columns=5, max_bytes=50 << 20)
    path = write_raw_xlsx(tmp_path / "long.xlsx", sheet_xml(rows(30_001, 1)))
    assert zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size > 1 << 20

    with pytest.raises(SpreadsheetTooLarge, match="最多 30,000 行"):
        check_xlsx(path, limits)


def test_too_many_columns_are_refused(tmp_path):
    path = write_raw_xlsx(tmp_path / "wide.xlsx", sheet_xml(rows(2, 21)))

    with pytest.raises(SpreadsheetTooLarge, match="最多 20 列"):
        check_xlsx(path, LIMITS)


@pytest.mark.parametrize(("ref", "message"), [("XFD1", "列"), ("A1048576", "行")])
def test_one_far_away_cell_is_refused(tmp_path, ref, message):
    sheet = sheet_xml([]).replace("<sheetData>", f"<sheetData><row>{inline(ref, 'x')}</row>")
    path = write_raw_xlsx(tmp_path / "sparse.xlsx", sheet)

    with pytest.raises(SpreadsheetTooLarge, match=message):
        check_xlsx(path, LIMITS)


def test_a_dimension_that_lies_small_does_not_hide_the_rows(tmp_path):
    path = write_raw_xlsx(tmp_path / "liar.xlsx", sheet_xml(rows(101), dimension="A1:C2"))

    with pytest.raises(SpreadsheetTooLarge, match="行"):
        check_xlsx(path, LIMITS)


def test_a_dimension_past_the_limit_is_refused_at_once(tmp_path):
    path = write_raw_xlsx(tmp_path / "claim.xlsx", sheet_xml(rows(1), dimension="A1:C200000"))

    with pytest.raises(SpreadsheetTooLarge, match="行"):
        check_xlsx(path, LIMITS)


def test_a_sheet_stored_outside_xl_worksheets_is_measured_too(tmp_path):
    path = write_raw_xlsx(tmp_path / "hidden.xlsx", sheet_xml(rows(101)), target="data/s.xml")

    with pytest.raises(SpreadsheetTooLarge):
        check_xlsx(path, LIMITS)


def test_csv_rows_and_columns_are_capped_while_streaming(tmp_path):
    assert list(guard_rows(rows(100), LIMITS)) == rows(100)
    with pytest.raises(SpreadsheetTooLarge, match="最多 100 行"):
        list(guard_rows(rows(101), LIMITS))
    with pytest.raises(SpreadsheetTooLarge, match="最多 20 列"):
        list(guard_rows(rows(1, 21), LIMITS))
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" * 300)
    with pytest.raises(SpreadsheetTooLarge, match="文件太大：超过 1 MB"):
        check_csv_size(path, ReadLimits(max_rows=10, max_columns=2, max_bytes=1000))


def test_a_sheet_that_unpacks_to_more_than_the_zip_says_is_refused(tmp_path):
    path = write_raw_xlsx(tmp_path / "liar.xlsx", sheet_xml(rows(2), padding=3 << 20))
    understate_size(path, "xl/worksheets/sheet1.xml", 1000)
    assert zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size == 1000

    with pytest.raises(ServiceError, match="无法读取") as caught:
        check_xlsx(path, ReadLimits(max_rows=100, max_columns=20, max_bytes=1 << 20))
    assert caught.value.code == "bad_file"


def test_an_entry_packed_in_a_way_excel_never_uses_is_refused(tmp_path):
    path = tmp_path / "bz.xlsx"
    write_raw_xlsx(path, sheet_xml(rows(2)))
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_BZIP2) as book:
        book.writestr("xl/worksheets/sheet2.xml", sheet_xml(rows(2)))

    with pytest.raises(ServiceError, match="无法读取"):
        check_xlsx(path, LIMITS)


def test_a_file_that_is_no_zip_cannot_be_measured(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")

    with pytest.raises(ServiceError, match="无法读取"):
        check_xlsx(path, LIMITS)
