"""The evidence PDF is a well-formed one-page PDF whose text is the Chinese given (UCS-2 in
the Adobe-GB1 font), with a correct cross-reference table."""

from __future__ import annotations

import re

from unionaid.matching.leads.evidence_pdf import evidence_pdf


def test_the_evidence_pdf_is_well_formed_and_carries_the_text():
    data = evidence_pdf("数据比对核验单", ["名单：2026年录取名单 第 3 行", "x" * 200])
    assert data.startswith(b"%PDF-1.4")
    assert data.rstrip().endswith(b"%%EOF")
    assert "名单".encode("utf-16-be").hex().upper().encode() in data
    assert b"/STSong-Light" in data
    # every xref offset points at its object
    xref_at = int(re.search(rb"startxref\n(\d+)", data).group(1))
    assert data[xref_at:xref_at + 4] == b"xref"
    offsets = re.findall(rb"(\d{10}) 00000 n ", data)
    for number, offset in enumerate(offsets, start=1):
        assert data[int(offset):].startswith(f"{number} 0 obj".encode())
    # a long line wraps instead of running off the page
    assert data.count(b"> Tj T*") >= 3
