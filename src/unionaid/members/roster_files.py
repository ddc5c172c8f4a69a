"""Reading roster files: .xlsx through python-calamine, .csv in UTF-8, UTF-8 with BOM, GB18030
or UTF-16 (Excel's "Unicode text"), and turning spreadsheet cells into text and dates."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from unionaid.core.errors import ServiceError
from unionaid.core.idcard import to_halfwidth
from unionaid.core.spreadsheets import ReadLimits, check_csv_size, check_xlsx, guard_rows

# field -> accepted header texts (normalised: no spaces, no "*", no trailing "(…)" note)
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字"),
    "id_number": ("身份证号", "身份证号码", "证件号码", "公民身份号码", "身份证"),
    "phone": ("手机号", "手机", "联系电话", "电话", "手机号码"),
    "unit": ("单位", "所在单位", "部门", "班组"),
    "unit_code": ("单位编码", "组织编码"),
    "employment_form": ("用工形式",),
    "membership_status": ("会籍状态", "会员状态"),
    "joined_on": ("入会日期", "入会时间"),
    "bank_account": ("银行账号", "银行卡号"),
}
HEADER_TO_FIELD = {text: name for name, texts in HEADERS.items() for text in texts}
HEADER_SEARCH_ROWS = 10

EXTENSIONS = (".xlsx", ".csv")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls / .doc
_SCIENTIFIC = re.compile(r"[0-9](\.[0-9]+)?[eE]\+?[0-9]+")
_NOTE = re.compile(r"\(.*\)$")
_SPACES = re.compile(r"\s+")
# 2020-01-31, 2020/1/31, 2020.1.31, 2020年1月31日, 2020-01 (day 1), 20200131; a time is ignored
_TIME = r"(?:T?[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
_DATES = (
    re.compile(r"([12][0-9]{3})[-/.年]([0-9]{1,2})(?:[-/.月]([0-9]{1,2})日?|月)?" + _TIME),
    re.compile(r"([12][0-9]{3})([01][0-9])([0-3][0-9])" + _TIME),
)
EXCEL_EPOCH = dt.date(1899, 12, 30)


def _unreadable() -> str:
    return _("文件无法读取，请确认是有效的 .xlsx 或 .csv 文件。")


class RosterFileError(ServiceError):
    """The file as a whole can't be read; the message is for people."""

    default_code = "bad_file"


def check_content(path: Path, limits: ReadLimits | None = None) -> str:
    """Check that the bytes of ``path`` match its extension and, with ``limits``, that it is no
    bigger than they allow (``core.spreadsheets``: without reading it into memory). Returns a
    problem, or ""."""
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        return _("只支持 .xlsx 和 .csv 文件。")
    with path.open("rb") as fh:
        head = fh.read(8192)
    if head.startswith(OLE_MAGIC):
        return _("这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后再上传。")
    if suffix == ".xlsx":
        if not head.startswith(ZIP_MAGIC):
            return _("文件内容不是 .xlsx 格式。")
        try:
            with zipfile.ZipFile(path) as archive:
                if "xl/workbook.xml" not in archive.namelist():
                    return _("文件内容不是 .xlsx 格式。")
        except zipfile.BadZipFile:
            return _("文件内容不是 .xlsx 格式。")
        return _size_problem(path, limits)
    if head.startswith(ZIP_MAGIC):
        return _("文件内容不是 .csv 文本，可能是改了扩展名的 Excel 文件。")
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _("文件内容不是 .csv 文本。")
    problem = _size_problem(path, limits)
    if problem:
        return problem
    try:
        detect_encoding(path)
    except RosterFileError as exc:
        return str(exc)
    if limits is not None:
        roster = Roster(path, limits)
        try:
            for _row in roster.rows(0):
                pass
        except ServiceError as exc:
            return exc.message
    return ""


def _size_problem(path: Path, limits: ReadLimits | None) -> str:
    if limits is None:
        return ""
    try:
        if path.suffix.lower() == ".xlsx":
            check_xlsx(path, limits)
        else:
            check_csv_size(path, limits)
    except ServiceError as exc:
        return exc.message
    return ""


def detect_encoding(path: Path) -> str:
    """utf-8-sig / utf-16 by BOM, else utf-8 if the whole file decodes, else gb18030."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        for encoding in ("utf-8", "gb18030"):
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
                return encoding
            except UnicodeDecodeError:
                fh.seek(0)
    raise RosterFileError(_("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 .csv 文件。"))


class Roster:
    """An opened roster; ``rows(sheet)`` yields (row number as in Excel, list of cell values).

    With ``limits``, a .xlsx is measured before calamine reads it and a .csv's bytes before it
    is opened, its rows and columns as they stream: a file past them raises
    ``SpreadsheetTooLarge`` (a ServiceError with a message for people) before any row is used."""

    def __init__(self, path: Path, limits: ReadLimits | None = None):
        self.path = path
        self.limits = limits
        self.is_xlsx = path.suffix.lower() == ".xlsx"
        self._sheet: tuple[int, object] | None = None
        if self.is_xlsx:
            if limits is not None:
                check_xlsx(path, limits)
            try:
                self.workbook = CalamineWorkbook.from_path(str(path))
            except Exception:
                raise RosterFileError(_unreadable()) from None
            self.sheet_count = len(self.workbook.sheet_names)
        elif path.suffix.lower() == ".csv":
            if limits is not None:
                check_csv_size(path, limits)
            self.encoding = detect_encoding(path)
            self.sheet_count = 1
        else:
            raise RosterFileError(_("只支持 .xlsx 和 .csv 文件。"))

    def _xlsx_sheet(self, index: int):
        if self._sheet is None or self._sheet[0] != index:
            self._sheet = None  # let calamine free the previous sheet first
            try:
                self._sheet = (index, self.workbook.get_sheet_by_index(index))
            except Exception:
                raise RosterFileError(_unreadable()) from None
        return self._sheet[1]

    def estimated_rows(self, index: int) -> int:
        if self.is_xlsx:
            end = self._xlsx_sheet(index).end
            return end[0] + 1 if end else 0
        count = 0
        with self.path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                count += chunk.count(b"\n")
        return count

    def rows(self, index: int) -> Iterator[tuple[int, list]]:
        try:
            if self.is_xlsx:
                yield from enumerate(self._xlsx_sheet(index).iter_rows(), start=1)
            else:
                yield from self._csv_rows()
        except (csv.Error, UnicodeDecodeError):
            raise RosterFileError(_unreadable()) from None

    def _csv_rows(self) -> Iterator[tuple[int, list]]:
        with self.path.open(encoding=self.encoding, newline="") as fh:
            first = fh.readline()
            delimiter = max(",\t;", key=first.count)
            fh.seek(0)
            rows = csv.reader(fh, delimiter=delimiter)
            if self.limits is not None:
                rows = guard_rows(rows, self.limits)
            yield from enumerate(rows, start=1)

    def close(self) -> None:
        self._sheet = None
        if self.is_xlsx:
            self.workbook.close()


def open_roster(path, limits: ReadLimits | None = None) -> Roster:
    return Roster(Path(path), limits)


def long_number_message() -> str:
    return _("该单元格是数字格式，长号码的末几位可能已被 Excel 改掉；请把此列设为“文本”后重新填写。")


def cell_text(value, *, long_number: bool = False) -> tuple[str, str]:
    """The cell as stripped text, and a problem ("" if none).

    ``long_number``: the column holds long digit strings (ID, bank account) which Excel ruins
    when the cell is a number (precision lost beyond 15 digits, or shown as 1.4E+17)."""
    if value is None or value == "":
        return "", ""
    if isinstance(value, str):
        text = value.strip().lstrip("'").strip()
        if long_number and _SCIENTIFIC.fullmatch(text):
            return "", long_number_message()
        return text, ""
    if isinstance(value, bool):
        return ("是" if value else "否"), ""
    if isinstance(value, float):
        if value.is_integer():
            if long_number and abs(value) >= 1e15:
                return "", long_number_message()
            return str(int(value)), ""
        return str(value), ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), ""
    if isinstance(value, dt.date):
        return value.isoformat(), ""
    return str(value).strip(), ""


def cell_date(value) -> tuple[dt.date | None, str]:
    """A date from a date cell, an Excel serial number or text such as 2020-01-31 / 2020年1月31日."""
    if value is None or value == "":
        return None, ""
    if isinstance(value, dt.datetime):
        return value.date(), ""
    if isinstance(value, dt.date):
        return value, ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = int(value)
        if 19000101 <= number <= 29991231:
            value = str(number)
        elif 1 <= number < 80000:
            return EXCEL_EPOCH + dt.timedelta(days=number), ""
        else:
            return None, _date_problem()
    return _text_date(str(value))


def _date_problem() -> str:
    return _("日期格式不正确，应为 2020-01-31 这样的格式。")


@lru_cache(maxsize=8192)  # a roster repeats the same few thousand dates
def _text_date(raw: str) -> tuple[dt.date | None, str]:
    text = _SPACES.sub("", to_halfwidth(raw))
    match = _DATES[0].fullmatch(text) or _DATES[1].fullmatch(text)
    if match is None:
        return None, _date_problem()
    year, month, day = match.groups()
    try:
        return dt.date(int(year), int(month), int(day or 1)), ""
    except ValueError:
        return None, _date_problem()


def normalise_header(value) -> str:
    if value is None:
        return ""
    text = _SPACES.sub("", to_halfwidth(str(value))).strip("*")
    return _NOTE.sub("", text)


@dataclass(frozen=True, slots=True)
class RowError:
    row_number: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def find_header(rows: Iterator[tuple[int, list]]):
    """Find the header row among the first rows; return (columns, headers, header_row, errors)."""
    for row_number, values in rows:
        fields: dict[str, int] = {}
        headers: dict[str, str] = {}
        duplicates: list[RowError] = []
        for index, value in enumerate(values):
            text = normalise_header(value)
            name = HEADER_TO_FIELD.get(text)
            if name is None:
                continue
            if name in fields:
                duplicates.append(RowError(row_number, text, _("列“%(a)s”与列“%(b)s”重复。") % {
                    "a": text, "b": headers[name]}))
                continue
            fields[name], headers[name] = index, text
        if len(fields) >= 2 and ("name" in fields or "id_number" in fields):
            missing = [HEADERS[n][0] for n in ("name", "id_number") if n not in fields]
            if "unit" not in fields and "unit_code" not in fields:
                missing.append(HEADERS["unit"][0])
            errors = duplicates + [
                RowError(row_number, label, _("缺少必填列“%(label)s”。") % {"label": label})
                for label in missing
            ]
            return fields, headers, row_number, errors
        if row_number >= HEADER_SEARCH_ROWS:
            break
    return None, None, 0, [RowError(1, "", _(
        "没有找到表头：第一行应为列名，至少包含“姓名”“身份证号”“单位”。"))]


def data_rows(rows, header_row: int) -> Iterator[tuple[int, list]]:
    for row_number, values in rows:
        if row_number > header_row and any(v not in ("", None) for v in values):
            yield row_number, values
