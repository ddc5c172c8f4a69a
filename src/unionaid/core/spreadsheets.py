"""One rule for every cell unionaid writes into a spreadsheet (.xlsx or .csv), and one guard
for every spreadsheet it reads from an upload (``ReadLimits``, ``check_xlsx``, below).

A text value that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is
read by Excel and WPS as a formula when the file is opened, re-saved or imported as CSV: a
member named ``=HYPERLINK("http://…","点击")`` would become a live link in an auditor's copy of
the journal (CSV / formula injection, OWASP). Every writer passes its text cells through
``safe_cell``, which prefixes such a value with an apostrophe so it stays text. Numbers and dates
are written as numbers and dates and are not touched.
"""

from __future__ import annotations

import posixpath
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.utils.translation import gettext as _

from unionaid.core.errors import ServiceError

T = TypeVar("T")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet may hold it: text that could start a formula gets a leading
    apostrophe; anything that is not text is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(value) for value in values]


# --- Reading: the size of an uploaded spreadsheet is checked before it is read ---------------
#
# python-calamine reads a whole worksheet into memory, and a .xlsx is a zip: a 2 MB upload can
# hold a 200 MB sheet, or a single cell at XFD1048576 that makes the reader allocate a range of
# seventeen thousand million cells. ``check_xlsx`` looks at the zip's directory (the sum of the
# uncompressed sizes) and then streams each worksheet's XML, a chunk at a time, stopping at the
# first row or column past the limit — never holding more than a chunk. A .csv is streamed
# anyway; ``check_csv_size`` caps its bytes and ``guard_rows`` its rows and columns as they come.


@dataclass(frozen=True, slots=True)
class RowProblem:
    """What is wrong with one row of an imported sheet: its row number in the file, the column
    (header text, or "" for the whole row) and the reason, in Chinese."""

    row_number: int
    column: str
    message: str


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """How big an uploaded spreadsheet may be: rows (header included) and columns of any sheet,
    and bytes (the uncompressed content of a .xlsx, the file itself for a .csv)."""

    max_rows: int
    max_columns: int
    max_bytes: int


UNLIMITED = ReadLimits(max_rows=sys.maxsize, max_columns=sys.maxsize, max_bytes=sys.maxsize)


class SpreadsheetTooLarge(ServiceError):
    """The file is bigger than its importer accepts; nothing of it was read into memory."""

    default_code = "file_too_large"


def _too_many_bytes(limits: ReadLimits) -> SpreadsheetTooLarge:
    return SpreadsheetTooLarge(
        _("文件内容太大：解压后超过 %(mb)s MB。请把表格拆分成几个较小的文件后分别导入。")
        % {"mb": max(1, limits.max_bytes >> 20)})


def _too_many_rows(limits: ReadLimits) -> SpreadsheetTooLarge:
    return SpreadsheetTooLarge(
        _("表格行数超过上限：每个文件最多 %(rows)s 行（含表头）。请把表格拆分成几个较小的文件后分别导入。")
        % {"rows": f"{limits.max_rows:,}"})


def _too_many_columns(limits: ReadLimits) -> SpreadsheetTooLarge:
    return SpreadsheetTooLarge(
        _("表格列数超过上限：最多 %(columns)s 列。请删除多余的列后再导入。")
        % {"columns": f"{limits.max_columns:,}"})


_CHUNK = 1 << 20
_RELS = "xl/_rels/workbook.xml.rels"
_MAX_RELS_BYTES = 1 << 20
_WORKSHEET_REL = re.compile(
    rb"""<(?:[\w.-]+:)?Relationship\b[^>]*?\bType\s*=\s*["'][^"']*/worksheet["'][^>]*>""")
_TARGET = re.compile(rb"""\bTarget\s*=\s*["']([^"']+)["']""")
# a row or a cell start tag (any namespace prefix); a worksheet has no other element named so
_ROW_OR_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_REF = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]{0,4})([0-9]{0,9})["']""")
_DIMENSION = re.compile(rb"""<(?:[\w.-]+:)?dimension\s+ref\s*=\s*["']([^"']*)["']""")
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,4})\$?([0-9]{1,9})")


def _column_number(letters: bytes | str) -> int:
    number = 0
    for char in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        number = number * 26 + ord(char) - 64
    return number


def _worksheet_names(archive: zipfile.ZipFile) -> list[str]:
    """The worksheet parts: those the workbook's relationships name, and any under
    xl/worksheets/ (a reader may find a sheet either way)."""
    names = set(archive.namelist())
    sheets = {name for name in names if name.startswith("xl/worksheets/")
              and name.endswith(".xml")}
    if _RELS in names and archive.getinfo(_RELS).file_size <= _MAX_RELS_BYTES:
        rels = archive.read(_RELS)
        for tag in _WORKSHEET_REL.findall(rels):
            target = _TARGET.search(tag)
            if target is None:
                continue
            path = target.group(1).decode("utf-8", "replace")
            path = path.lstrip("/") if path.startswith("/") else posixpath.normpath("xl/" + path)
            if path in names:
                sheets.add(path)
    return sorted(sheets)


def _check_dimension(head: bytes, limits: ReadLimits) -> None:
    """The sheet's own claim (``<dimension ref="A1:CV20001"/>``), when it has one: a quick no."""
    match = _DIMENSION.search(head)
    if match is None:
        return
    for ref in _CELL_REF.finditer(match.group(1).decode("ascii", "replace")):
        if int(ref.group(2)) > limits.max_rows:
            raise _too_many_rows(limits)
        if _column_number(ref.group(1)) > limits.max_columns:
            raise _too_many_columns(limits)


def _scan_sheet(chunks: Iterable[bytes], limits: ReadLimits) -> None:
    """Stream one worksheet's XML and stop at the first row or column past the limits. Rows and
    cells are counted where they sit (their ``r`` reference) or by position when they have none,
    so neither a sparse far-away cell nor a run of unnumbered rows gets through."""
    row = column = 0
    tail = b""
    first = True
    for chunk in chunks:
        buffer = tail + chunk
        if first:
            _check_dimension(buffer[:65536], limits)
            first = False
        # a tag never holds "<": everything before the last one is whole tags
        cut = buffer.rfind(b"<")
        if cut <= 0:
            tail = buffer
            continue
        for match in _ROW_OR_CELL.finditer(buffer, 0, cut):
            ref = _REF.search(match.group(2))
            letters, digits = (ref.group(1), ref.group(2)) if ref else (b"", b"")
            if match.group(1) == b"row":
                row = int(digits) if digits else row + 1
                column = 0
            else:
                column = _column_number(letters) if letters else column + 1
                if digits:
                    row = max(row, int(digits))
                if column > limits.max_columns:
                    raise _too_many_columns(limits)
            if row > limits.max_rows:
                raise _too_many_rows(limits)
        tail = buffer[cut:]


def _unreadable() -> ServiceError:
    return ServiceError(_("文件已损坏或内容与其记录的大小不符，无法读取。"), code="bad_file")


def _entry_chunks(fh, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The true content of one zip entry, a chunk at a time, inflated here from its raw bytes:
    a zip records each entry's unpacked size, and an entry that unpacks to more than it says is
    refused at the first byte past it (a reader that trusts the content would read it all)."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                          zipfile.ZIP_DEFLATED):
        raise _unreadable()  # encrypted, or packed in a way Excel never writes
    fh.seek(info.header_offset)
    header = fh.read(30)
    if len(header) != 30 or not header.startswith(b"PK\x03\x04"):
        raise _unreadable()
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    fh.seek(info.header_offset + 30 + name_length + extra_length)
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    left, produced = info.compress_size, 0
    while left > 0 or (inflate is not None and inflate.unconsumed_tail):
        raw = b""
        if left > 0:
            raw = fh.read(min(_CHUNK, left))
            if not raw:
                raise _unreadable()
            left -= len(raw)
        pending = raw if inflate is None else inflate.unconsumed_tail + raw
        while pending:
            data = pending if inflate is None else inflate.decompress(pending, _CHUNK)
            pending = b"" if inflate is None else inflate.unconsumed_tail
            produced += len(data)
            if produced > info.file_size:
                raise _unreadable()
            yield data
    if inflate is not None:
        data = inflate.flush(_CHUNK)
        produced += len(data)
        if produced > info.file_size:
            raise _unreadable()
        yield data


def check_xlsx(path, limits: ReadLimits) -> None:
    """Raise ``SpreadsheetTooLarge`` if the .xlsx at ``path`` unpacks to more than
    ``limits.max_bytes`` or any worksheet has more rows or columns than allowed, and a
    ServiceError (``bad_file``) if it cannot be measured. Every entry is inflated once, a chunk
    at a time, and never past the size the zip gives it; nothing is kept but the chunk."""
    try:
        with zipfile.ZipFile(path) as archive, Path(path).open("rb") as fh:
            entries = [info for info in archive.infolist() if not info.is_dir()]
            if sum(info.file_size for info in entries) > limits.max_bytes:
                raise _too_many_bytes(limits)
            sheets = set(_worksheet_names(archive))
            for info in entries:
                chunks = _entry_chunks(fh, info)
                if info.filename in sheets:
                    _scan_sheet(chunks, limits)
                else:
                    for _chunk in chunks:
                        pass
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
            zlib.error, OSError, struct.error):
        raise _unreadable() from None


def check_csv_size(path, limits: ReadLimits) -> None:
    if Path(path).stat().st_size > limits.max_bytes:
        raise SpreadsheetTooLarge(
            _("文件太大：超过 %(mb)s MB。请把表格拆分成几个较小的文件后分别导入。")
            % {"mb": max(1, limits.max_bytes >> 20)})


def guard_rows(rows: Iterable[T], limits: ReadLimits) -> Iterator[T]:
    """Pass rows (sequences of cells) through, raising ``SpreadsheetTooLarge`` at the first row
    past ``limits.max_rows`` or wider than ``limits.max_columns`` — before it is used."""
    for count, row in enumerate(rows, start=1):
        if count > limits.max_rows:
            raise _too_many_rows(limits)
        if len(row) > limits.max_columns:
            raise _too_many_columns(limits)
        yield row
