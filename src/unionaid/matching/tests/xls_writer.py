"""A tiny writer of legacy Excel (.xls, BIFF8 in an OLE compound file) for test fixtures.

No .xls writer is installed (xlwt is not a dependency), so the tests build their own: text
cells as LABEL records, numbers as NUMBER records, dates as numbers with a date format (XF 1 ->
built-in format 14), one BOUNDSHEET per sheet, all in a single "Workbook" stream padded to
4,096 bytes so it lives in regular sectors (no mini stream needed). Enough for python-calamine
to read; nothing more.
"""

from __future__ import annotations

import datetime as dt
import struct

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_END, _FREE, _FATSECT, _NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(kind: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x06))


def _cell(row: int, col: int, value) -> bytes:
    if value is None or value == "":
        return b""
    if isinstance(value, dt.date):
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        serial = (moment - _EXCEL_EPOCH).total_seconds() / 86400
        return _record(0x0203, struct.pack("<HHHd", row, col, 1, serial))
    if isinstance(value, int | float):
        return _record(0x0203, struct.pack("<HHHd", row, col, 0, float(value)))
    text = str(value).encode("utf-16-le")
    return _record(0x0204, struct.pack("<HHHHB", row, col, 0, len(text) // 2, 1) + text)


def _sheet(rows: list[list]) -> bytes:
    cells = b"".join(_cell(r, c, v) for r, row in enumerate(rows) for c, v in enumerate(row))
    return _bof(0x0010) + cells + _record(0x000A, b"")


def workbook_stream(sheets: dict[str, list[list]]) -> bytes:
    xfs = b"".join(_record(0x00E0, struct.pack("<HH", 0, fmt) + bytes(16)) for fmt in (0, 14))

    def bound(name: str, offset: int) -> bytes:
        encoded = name.encode("utf-16-le")
        return _record(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(name), 1) + encoded)

    head = _bof(0x0005) + xfs
    bounds_length = sum(len(bound(name, 0)) for name in sheets)
    offset = len(head) + bounds_length + 4  # + EOF
    bounds, bodies = b"", b""
    for name, rows in sheets.items():
        body = _sheet(rows)
        bounds += bound(name, offset + len(bodies))
        bodies += body
    stream = head + bounds + _record(0x000A, b"") + bodies
    return stream + bytes(max(0, 4096 - len(stream)))


def _dir_entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", _NOSTREAM, _NOSTREAM, child) + bytes(16) + bytes(4)
            + bytes(16) + struct.pack("<II", start, size) + bytes(4))


def write_xls(path, sheets: dict[str, list[list]]) -> None:
    """Write ``sheets`` (name -> rows of cells: str, int, float, date or None) as .xls."""
    stream = workbook_stream(sheets)
    stream += bytes(-len(stream) % 512)
    count = len(stream) // 512
    if count + 2 > 128:
        raise ValueError("test workbook too big for one FAT sector")
    fat = [_FATSECT, _END, *range(3, 2 + count), _END]
    fat += [_FREE] * (128 - len(fat))
    header = (bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16)
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
              + struct.pack("<109I", 0, *([_FREE] * 108)))
    directory = (_dir_entry("Root Entry", 5, 1, _END, 0)
                 + _dir_entry("Workbook", 2, _NOSTREAM, 2, len(workbook_stream(sheets)))
                 + _dir_entry("", 0, _NOSTREAM, 0, 0) * 2)
    with open(path, "wb") as fh:
        fh.write(header + struct.pack("<128I", *fat) + directory + stream)
