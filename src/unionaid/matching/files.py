"""Reading another department's list (.csv, .xlsx, .xls) into a DuckDB table of raw text.

A list is read once into a table with one VARCHAR column per canonical field found (see
``CANONICAL``), the other columns kept by their header in ``extra`` (JSON text), and its
position: ``row_no`` (1-based data row, counting neither title rows nor the header, numbered on
across sheets), ``sheet`` and ``sheet_row`` (the row number as the spreadsheet shows it).
``normalise.normalise_table`` then turns that raw text into comparable values in SQL.

CSV goes straight into DuckDB's reader (all text); GB18030 and UTF-16 files are first
transcoded, a chunk at a time, into a temporary UTF-8 file. Excel files are read with
python-calamine: date cells become ISO text, whole numbers lose their ".0", and serial numbers
stay as number text (``normalise`` reads serials in date columns).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from unionaid.core.errors import ServiceError
from unionaid.core.spreadsheets import (
    ReadLimits,
    RowProblem,
    SpreadsheetTooLarge,
    check_csv_size,
    check_xlsx,
    guard_rows,
)
from unionaid.matching import storage
from unionaid.matching.headers import (
    CANONICAL,
    HEADER_SEARCH_ROWS,
    HEADERS,
    IDENTIFYING,
    Header,
    find_header,
)
from unionaid.members.roster_files import (
    OLE_MAGIC,
    ZIP_MAGIC,
    long_number_message,
    normalise_header,
)

__all__ = [
    "CANONICAL",
    "HEADERS",
    "IDENTIFYING",
    "DatasetFileError",
    "LoadedFile",
    "load_file",
]

EXTENSIONS = (".csv", ".xlsx", ".xls")
_TRANSCODE_CHUNK = 4 << 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LONG_NUMBER = re.compile(r"[0-9](\.[0-9]+)?[eE]\+?[0-9]+")
_PROBLEM_LIMIT = 1000
# DuckDB's default line limit is 2 MB; an Excel row may be longer (many long cells)
_MAX_LINE_SIZE = 64 << 20


class DatasetFileError(ServiceError):
    """The list as a whole can't be read; the message is for people."""

    default_code = "bad_file"


@dataclass
class LoadedFile:
    table: str
    rows: int
    columns: dict[str, str]          # canonical field -> the header it came from
    extra_columns: list[str]
    header_row: int                  # 1-based sheet row of the header (of the first sheet)
    sheets: list[str]
    problems: list[RowProblem] = field(default_factory=list)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _no_header_error() -> DatasetFileError:
    return DatasetFileError(_(
        "没有找到可识别的表头：前 %(rows)s 行中应有“姓名”列，以及“身份证号”“出生日期”"
        "“手机号”中的至少一列。如表头名称不同，请为该数据来源设置列对应关系。")
        % {"rows": HEADER_SEARCH_ROWS}, code="no_identifying_columns")


def _unreadable_error() -> DatasetFileError:
    return DatasetFileError(_("文件无法读取，请确认是有效的 .xlsx、.xls 或 .csv 文件。"))


def _check_mapping(mapping: dict[str, str]) -> None:
    for header, name in mapping.items():
        if name not in CANONICAL:
            raise DatasetFileError(_("列对应关系中的“%(header)s”对应到了未知字段“%(field)s”。")
                                   % {"header": header, "field": name}, code="bad_mapping")


def load_file(con, path, table: str, *, mapping: dict[str, str] | None = None,
              key_column: str | None = None, limits: ReadLimits | None = None) -> LoadedFile:
    """Read the list at ``path`` into the DuckDB table ``table`` (replaced if it exists).

    ``mapping`` (header text -> canonical field) overrides header recognition; ``key_column``
    names the member-key column. Raises ``DatasetFileError`` (a ServiceError) when the file can't
    be read or has no name column with an ID number, birth date or phone column, and
    ``SpreadsheetTooLarge`` past ``limits``. Nothing is left in ``table`` on error."""
    path = Path(path)
    mapping = {normalise_header(k): v for k, v in (mapping or {}).items()}
    _check_mapping(mapping)
    if key_column:
        mapping[normalise_header(key_column)] = "member_key"
    loaded = _load(con, path, table, mapping, limits)
    if key_column and loaded.columns.get("member_key") != normalise_header(key_column):
        con.cursor().execute(f"DROP TABLE IF EXISTS {_quote(table)}")
        raise DatasetFileError(_("表头中没有找到会员编号列“%(column)s”。") % {"column": key_column},
                               code="no_key_column")
    return loaded


def _load(con, path: Path, table: str, mapping: dict[str, str],
          limits: ReadLimits | None) -> LoadedFile:
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise DatasetFileError(_("只支持 .xlsx、.xls 和 .csv 文件。"), code="bad_extension")
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        raise _unreadable_error() from None
    try:
        if suffix == ".csv":
            if head.startswith((ZIP_MAGIC, OLE_MAGIC)):
                raise DatasetFileError(_("文件内容不是 .csv 文本，可能是改了扩展名的 Excel 文件。"))
            return _load_csv(con, path, table, mapping, limits)
        if suffix == ".xlsx" and not head.startswith(ZIP_MAGIC):
            raise DatasetFileError(_("文件内容不是 .xlsx 格式。"))
        if suffix == ".xls" and not head.startswith((OLE_MAGIC, ZIP_MAGIC)):
            raise DatasetFileError(_("文件内容不是 .xls 格式。"))
        return _load_excel(con, path, table, mapping, limits, suffix)
    except ServiceError:
        con.cursor().execute(f"DROP TABLE IF EXISTS {_quote(table)}")
        raise


# --- CSV -----------------------------------------------------------------------------------


def _encoding(path: Path) -> str:
    """utf-8-sig / utf-16 by BOM, utf-8 if the whole file decodes, else gb18030 — which is
    checked while transcoding (``roster_files.detect_encoding`` would decode it twice)."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(_TRANSCODE_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def _transcode(path: Path, encoding: str) -> Path:
    """A temporary UTF-8 copy of ``path``, written a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    fd, name = storage.mkstemp(".csv")
    try:
        with path.open("rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(_TRANSCODE_CHUNK):
                dst.write(decoder.decode(chunk).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    except (UnicodeDecodeError, OSError):
        Path(name).unlink(missing_ok=True)
        raise DatasetFileError(_("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 .csv 文件。"),
                               code="bad_encoding") from None
    return Path(name)


def _head_rows(path: Path, delimiter: str) -> Iterator[tuple[int, list]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        lines = [line for _n, line in zip(range(HEADER_SEARCH_ROWS), fh, strict=False)]
    yield from enumerate(csv.reader(io.StringIO("".join(lines)), delimiter=delimiter), start=1)


def _delimiter(path: Path) -> str:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        text = "".join(line for _n, line in zip(range(HEADER_SEARCH_ROWS), fh, strict=False))
    return max(",\t;", key=text.count)


def _load_csv(con, path: Path, table: str, mapping: dict[str, str],
              limits: ReadLimits | None) -> LoadedFile:
    if limits is not None:
        check_csv_size(path, limits)
    encoding = _encoding(path)
    source, temporaries = path, []
    if encoding not in ("utf-8", "utf-8-sig"):
        source = _transcode(path, encoding)
        temporaries.append(source)
    try:
        delimiter = _delimiter(source)
        if _has_blank_lines(source):
            source = _fill_blank_lines(source, delimiter)
            temporaries.append(source)
        header = find_header(_head_rows(source, delimiter), mapping)
        if header is None:
            raise _no_header_error()
        if limits is not None and header.width > limits.max_columns:
            raise SpreadsheetTooLarge(_("表格列数超过上限：最多 %(columns)s 列。请删除多余的列后再导入。")
                                      % {"columns": f"{limits.max_columns:,}"})
        columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(header.width))
        # The BOM, if any, sits in the title or header line, which are skipped.
        reader = (f"read_csv({_literal(str(source))}, header=false, skip={header.row}, "
                  f"delim={_literal(delimiter)}, quote='\"', escape='\"', auto_detect=false, "
                  f"columns={{{columns}}}, null_padding=true, strict_mode=false, "
                  f"max_line_size={_MAX_LINE_SIZE})")
        raw = f"{table}__raw"
        _read_raw(con, raw, reader, _("文件无法按 CSV 格式读取：%(error)s"))
        return _finish(con, table, raw, header, header_rows={"": header.row},
                       sheets=[""], problems=[], limits=limits, row_offset="rowid")
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


_BLANK_LINE = re.compile(rb"\n\r?\n")


def _has_blank_lines(path: Path) -> bool:
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_TRANSCODE_CHUNK):
            if _BLANK_LINE.search(tail + chunk):
                return True
            tail = chunk[-2:]
    return False


def _fill_blank_lines(path: Path, delimiter: str) -> Path:
    """A copy of ``path`` with each empty line holding one delimiter: DuckDB's reader skips
    empty lines, which would shift the row numbers of every row below; a line of empty cells
    is read, counted, then dropped. (Rare: a list saved by Excel has no empty lines.)"""
    fd, name = storage.mkstemp(".csv")
    filler = delimiter.encode()
    with path.open("rb") as src, os.fdopen(fd, "wb") as dst:
        for line in src:
            dst.write(filler + line if line in (b"\n", b"\r\n") else line)
    return Path(name)


# --- Excel ---------------------------------------------------------------------------------


def _text(value) -> str:
    """A cell that is not text, as text: whole numbers without ".0", dates as ISO text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _ruined(value) -> bool:
    """An ID number that Excel kept as a number: past 15 digits they are lost (or shown as
    1.10105E+17), so the cell can't be trusted."""
    if isinstance(value, str):
        return bool(_LONG_NUMBER.fullmatch(value.strip()))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return abs(value) >= 1e15
    return False


def _load_excel(con, path: Path, table: str, mapping: dict[str, str],
                limits: ReadLimits | None, suffix: str) -> LoadedFile:
    if limits is not None and suffix == ".xlsx":
        check_xlsx(path, limits)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception:
        raise _unreadable_error() from None
    fd, name = storage.mkstemp(".csv")
    temporary = Path(name)
    try:
        # Sheets are appended into one CSV by canonical field; extras by header text.
        fields: dict[str, str] = {}
        extras: list[str] = []
        sheets: list[str] = []
        header_rows: dict[str, int] = {}
        problems: list[RowProblem] = []
        parts: list[tuple[str, Header, list[list[str]], list[int]]] = []
        for sheet_name in workbook.sheet_names:
            try:
                rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
            except Exception:
                raise _unreadable_error() from None
            if limits is not None:
                rows = list(guard_rows(rows, limits))
            header = find_header(enumerate(rows[:HEADER_SEARCH_ROWS], start=1), mapping)
            if header is None:
                continue
            shown = _CONTROL.sub("", sheet_name)  # a control character .xls allows
            sheets.append(shown)
            header_rows[shown] = header.row
            for name_, text in header.headers.items():
                fields.setdefault(name_, text)
            for _index, text in header.extras:
                if text not in extras:
                    extras.append(text)
            id_index = header.fields.get("id_number")
            data: list[list[str]] = []
            numbers: list[int] = []
            width = header.width
            for offset, values in enumerate(rows[header.row:], start=header.row + 1):
                texts = [v.strip() if type(v) is str else _text(v) for v in values[:width]]
                if id_index is not None and id_index < len(values) and _ruined(values[id_index]):
                    if len(problems) < _PROBLEM_LIMIT:
                        problems.append(RowProblem(offset, header.headers["id_number"],
                                                   long_number_message()))
                    texts[id_index] = ""
                if any(texts):
                    data.append(texts)
                    numbers.append(offset)
            parts.append((shown, header, data, numbers))
        if not parts:
            raise _no_header_error()
        combined = Header(row=parts[0][1].row,
                           fields={n: i for i, n in enumerate(fields)},
                           headers=fields,
                           extras=[(len(fields) + i, t) for i, t in enumerate(extras)],
                           width=len(fields) + len(extras))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            row_no = 0
            for sheet_name, header, data, numbers in parts:
                positions = [header.fields.get(n) for n in fields]
                by_text = {t: i for i, t in header.extras}
                positions += [by_text.get(t) for t in extras]
                for texts, number in zip(data, numbers, strict=True):
                    row_no += 1
                    writer.writerow([row_no, sheet_name, number, *(
                        texts[p] if p is not None and p < len(texts) else "" for p in positions)])
        fd = -1
        columns = ", ".join(["'row_no': 'BIGINT'", "'sheet': 'VARCHAR'", "'sheet_row': 'BIGINT'",
                             *(f"'c{i}': 'VARCHAR'" for i in range(combined.width))])
        reader = (f"read_csv({_literal(str(temporary))}, header=false, delim=',', quote='\"', "
                  f"escape='\"', auto_detect=false, columns={{{columns}}}, null_padding=true, "
                  f"max_line_size={_MAX_LINE_SIZE})")
        raw = f"{table}__raw"
        _read_raw(con, raw, reader, _("表格内容无法读取：%(error)s"))
        return _finish(con, table, raw, combined, header_rows=header_rows, sheets=sheets,
                       problems=problems, limits=None, row_offset="sheet_row")
    finally:
        if fd >= 0:
            os.close(fd)
        temporary.unlink(missing_ok=True)
        with contextlib.suppress(Exception):
            workbook.close()


# --- both ----------------------------------------------------------------------------------


def duckdb_error_text(exc: BaseException) -> str:
    """The part of a DuckDB error fit for a person or a log: its first line, cut short.
    DuckDB's later lines quote the offending input ("Original Line: …"), which is a row of
    clear personal data."""
    lines = str(exc).splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def log_failure(logger, message: str, *args, exc: BaseException) -> None:
    """Log a job's unexpected failure. A DuckDB error is logged by its first line only, without
    a traceback (whose text would quote the clear row); others with their traceback."""
    if isinstance(exc, duckdb.Error):
        logger.error(message + " (%s: %s)", *args, type(exc).__name__, duckdb_error_text(exc))
    else:
        logger.error(message, *args, exc_info=exc)


def _read_raw(con, raw: str, reader: str, message: str) -> None:
    """Read ``reader`` into the table ``raw``; a DuckDB error becomes a ``DatasetFileError``
    holding only the first line of its text (the rest quotes the row)."""
    try:
        con.cursor().execute(f"CREATE OR REPLACE TABLE {_quote(raw)} AS SELECT * FROM {reader}")  # noqa: S608 - names and texts quoted
    except Exception as exc:  # duckdb raises its own error classes for malformed text
        raise DatasetFileError(message % {"error": duckdb_error_text(exc)}) from None



def _finish(con, table: str, raw: str, header: Header, *, header_rows: dict[str, int],
            sheets: list[str], problems: list[RowProblem], limits: ReadLimits | None,
            row_offset: str) -> LoadedFile:
    cur = con.cursor()
    try:
        if row_offset == "rowid":
            # CSV: one sheet, read in order (DuckDB keeps insertion order); the reader skips
            # empty lines, so they are not counted; rows of empty cells are counted, then dropped
            position = f"rowid + 1 AS row_no, '' AS sheet, rowid + 1 + {header.row} AS sheet_row"
        else:  # Excel: numbered while written, empty rows left out
            position = "row_no, sheet, sheet_row"
        # raw text as read (empty cells are NULL); normalise.py trims and cleans
        canonical = [f"c{i} AS {_quote(name)}" for name, i in header.fields.items()]
        if header.extras:
            pairs = ", ".join(f"{_literal(text)}, c{i}" for i, text in header.extras)
            extra = f"json_object({pairs}) AS extra"
        else:
            extra = "'{}' AS extra"
        cells = ", ".join(f"c{i}" for i in range(header.width))
        cur.execute(
            f"CREATE OR REPLACE TABLE {_quote(table)} AS "  # noqa: S608 - names and texts quoted
            f"SELECT {position}, {', '.join([*canonical, extra])} FROM {_quote(raw)} "
            f"WHERE coalesce({cells}) IS NOT NULL")
        rows = cur.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]  # noqa: S608 - names and texts quoted
        if limits is not None and rows + max(header_rows.values()) > limits.max_rows:
            cur.execute(f"DROP TABLE {_quote(table)}")
            raise SpreadsheetTooLarge(
                _("表格行数超过上限：每个文件最多 %(rows)s 行（含表头）。请把表格拆分成几个较小的文件后分别导入。")
                % {"rows": f"{limits.max_rows:,}"})
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {_quote(raw)}")
    return LoadedFile(table=table, rows=rows, columns=dict(header.headers),
                      extra_columns=[text for _i, text in header.extras],
                      header_row=header_rows[sheets[0]], sheets=sheets, problems=problems)
