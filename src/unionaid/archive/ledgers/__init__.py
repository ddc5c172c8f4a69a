"""The two ledgers union offices keep in Excel: the visit ledger (走访台账, ``visit_ledger``)
and the archive ledger (困难职工档案台账, ``archive_ledger``), exported for a unit subtree and a
period; and the import of an existing archive ledger (``archive_import``).

Exports stream: rows come from the database in chunks (``iterator(chunk_size=…)``, related rows
joined or prefetched per chunk, never a query per row) and XlsxWriter's constant_memory mode
writes each row to disk as it goes, so a 100,000-row ledger needs little memory. Each sheet
starts with a title row ("甲车务段 困难职工档案台账（2026-01-01 至 2026-11-22）") above a styled
header row, frozen so it stays on screen.
"""

from __future__ import annotations

from unionaid.exports.ledgers import (  # the common parts, shared with assistance's ledgers
    CHUNK,
    DATE,
    INT,
    MAX_DAYS,
    MONEY,
    TEXT,
    Column,
    ExportResult,
    LedgerWriter,
    check_export,
    default_path,
    download_name,
    title_unit,
)

__all__ = ["CHUNK", "DATE", "INT", "MAX_DAYS", "MONEY", "TEXT", "Column", "ExportResult",
           "LedgerWriter", "check_export", "default_path", "download_name", "labels",
           "title_unit"]


def labels(codes: str, choices) -> str:
    """"illness,schooling" → "因病、子女上学" (unknown codes kept as they are)."""
    names = dict(choices)
    return "、".join(str(names.get(code, code)) for code in (codes or "").split(",") if code)
