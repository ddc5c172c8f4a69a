"""The evidence PDF carries the Chinese text given, in the reader-provided Adobe-GB1 font,
wrapped to the page and carried on to further pages."""

from __future__ import annotations

import re

from unionaid.matching.leads.evidence_pdf import evidence_pdf

_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _texts(data: bytes) -> list[str]:
    """The strings the page shows: PDF literal strings (backslash escapes, octal codes) of
    UCS-2 big-endian text, as the UniGB-UCS2-H encoding has them."""
    out = []
    for literal in re.findall(rb"\(((?:[^()\\]|\\.|\\[0-7]{1,3})*)\) Tj", data, re.S):
        raw = re.sub(rb"\\([0-7]{1,3}|.)", lambda m: (
            bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit()
            else _ESCAPES.get(m.group(1), m.group(1))), literal)
        out.append(raw.decode("utf-16-be"))
    return out


def _shown(data: bytes) -> int:
    return data.count(b") Tj") + data.count(b"> Tj")


def test_the_evidence_pdf_carries_the_text_in_the_chinese_font():
    data = evidence_pdf("数据比对核验单", ["名单：2026年录取名单 第 3 行"])
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert b"/STSong-Light" in data
    assert b"/UniGB-UCS2-H" in data
    assert b"/Count 1" in data  # one page
    assert _texts(data) == ["数据比对核验单", "名单：2026年录取名单 第 3 行"]


def test_a_long_line_wraps_and_a_long_sheet_goes_on_to_a_second_page():
    short = evidence_pdf("核验单", ["x" * 10])
    wrapped = evidence_pdf("核验单", ["x" * 300])
    assert _shown(wrapped) >= _shown(short) + 2
    many = evidence_pdf("核验单", [f"第 {n} 行" for n in range(80)])
    assert b"/Count 2" in many
