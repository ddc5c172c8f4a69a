"""Hostile spreadsheets for the import tests, written by hand with ``zipfile`` (no library would
write them): a workbook whose one sheet is whatever XML the test gives, deflated."""

from __future__ import annotations

import zipfile
from pathlib import Path

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="{target}"/></Relationships>'
)
SHEET_OPEN = ('<?xml version="1.0" encoding="UTF-8"?>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_xml(rows: list[list[str]], *, dimension: str | None = None, numbered: bool = True,
              padding: int = 0) -> str:
    """A worksheet of text cells; ``padding`` spaces of highly compressible filler after it."""
    parts = [SHEET_OPEN]
    if dimension:
        parts.append(f'<dimension ref="{dimension}"/>')
    parts.append("<sheetData>")
    for number, values in enumerate(rows, start=1):
        parts.append(f'<row r="{number}">' if numbered else "<row>")
        for col, value in enumerate(values):
            letters = ""
            n = col + 1
            while n:
                n, rest = divmod(n - 1, 26)
                letters = chr(65 + rest) + letters
            parts.append(inline(f"{letters}{number}", value) if numbered
                         else f'<c t="inlineStr"><is><t>{value}</t></is></c>')
        parts.append("</row>")
    parts.append("</sheetData>")
    if padding:
        parts.append("<!--" + " " * padding + "-->")
    parts.append("</worksheet>")
    return "".join(parts)


def write_raw_xlsx(path: Path, sheet: str, *, target: str = "worksheets/sheet1.xml") -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(target=target))
        book.writestr("xl/" + target, sheet)
    return path


def understate_size(path: Path, name: str, size: int) -> Path:
    """Make the zip's central directory claim that entry ``name`` unpacks to ``size`` bytes (a
    lie a hostile file can tell); readers that trust the claim then read far more than they
    measured."""
    data = bytearray(path.read_bytes())
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        name_length = int.from_bytes(data[start + 28:start + 30], "little")
        if data[start + 46:start + 46 + name_length].decode() == name:
            data[start + 24:start + 28] = size.to_bytes(4, "little")
        start += 4
    path.write_bytes(bytes(data))
    return path
