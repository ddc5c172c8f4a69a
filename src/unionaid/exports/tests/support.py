"""Helpers of the background-export tests: the registered kinds' names, read the rows of an
exported .xlsx."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import openpyxl
from python_calamine import CalamineWorkbook

from unionaid.archive.export_kinds import ARCHIVE_LEDGER, VISITS_LEDGER
from unionaid.members.exporting import EXPORT_KIND as MEMBERS

START, END = dt.date(2026, 1, 1), dt.date(2026, 6, 1)
# The kinds the domains register (the engine's model lists none).
Kinds = SimpleNamespace(MEMBERS=MEMBERS, ARCHIVE_LEDGER=ARCHIVE_LEDGER,
                        VISITS_LEDGER=VISITS_LEDGER)


def xlsx_rows(source) -> list[list]:
    """Every row of the first sheet (calamine), from a path or bytes."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    return CalamineWorkbook.from_filelike(BytesIO(data)).get_sheet_by_index(0).to_python()


def ledger_rows(source) -> list[list]:
    """Every row of the ledger sheet (openpyxl: the merged title row included)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    sheet = openpyxl.load_workbook(BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]
