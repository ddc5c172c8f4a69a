"""Ledgers (台账) as union offices keep them in Excel, exported for a unit subtree and a period:
the common parts every ledger export uses, whichever domain owns its rows (the archive's visit
and archive ledgers, assistance's payment and budget ledgers).

Exports stream: rows come from the database in chunks (``iterator(chunk_size=…)``, related rows
joined or looked up per chunk, never a query per row) and XlsxWriter's constant_memory mode
writes each row to disk as it goes, so a ledger of a million rows needs little memory. Each
sheet starts with a title row ("甲车务段 困难职工档案台账（2026-01-01 至 2026-11-22）") above a
styled header row, frozen so it stays on screen; ``LedgerWriter.total`` writes bold totals
rows after the data.

``check_export`` is the common check of a request (the right, the unit in scope, a sane
period); ``title_unit`` the unit a ledger is titled with; ``default_path`` a private temporary
file for a direct download.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from django.conf import settings
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.accounts.models import DataScope
from unionaid.core.errors import NotFound, PermissionDenied, ServiceError
from unionaid.core.spreadsheets import safe_cell
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import units_visible_to

CHUNK = 2000
MAX_DAYS = 366 * 10

TEXT, INT, MONEY, DATE = "text", "int", "money", "date"


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    kind: str = TEXT


@dataclass(frozen=True)
class ExportResult:
    path: Path
    count: int
    revealed_count: int
    download_name: str


def check_export(*, actor, perm: str, unit: OrgUnit | None, start: dt.date,
                 end: dt.date) -> None:
    """The common checks: the right, the unit in scope (else NotFound), a sane period."""
    if not access_for(actor).has_perm(perm):
        raise PermissionDenied(_("您没有导出该台账的权限。"))
    if unit is not None and not units_visible_to(user=actor, perm=perm).filter(
            pk=unit.pk).exists():
        raise NotFound()
    if start > end:
        raise ServiceError(_("开始日期不能晚于结束日期。"), code="invalid_period",
                           fields={"start": _("开始日期不能晚于结束日期。")})
    if (end - start).days > MAX_DAYS:
        raise ServiceError(_("一次最多导出十年的台账。"), code="invalid_period",
                           fields={"start": _("期间过长。")})


def title_unit(actor, perm: str, unit: OrgUnit | None) -> OrgUnit | None:
    """The unit a ledger is titled with: the chosen one, else the top of the user's scope."""
    if unit is not None:
        return unit
    grants = [g for g in access_for(actor).grants_for(perm) if g.scope != DataScope.SELF]
    if not grants:
        return None
    widest = min(grants, key=lambda g: (g.scope != DataScope.ALL, len(g.unit_path)))
    path = widest.unit_path[:OrgUnit.steplen] if widest.scope == DataScope.ALL \
        else widest.unit_path
    return OrgUnit.objects.filter(path=path).first()


def default_path() -> Path:
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".xlsx", dir=folder)
    os.close(fd)
    return Path(name)


def download_name(kind_label: str, unit: OrgUnit | None, start: dt.date, end: dt.date) -> str:
    where = f"{unit.name}-" if unit is not None else ""
    return f"{where}{kind_label}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"


class LedgerWriter:
    """One worksheet: a merged title row, a styled and frozen header row, then data rows
    written in order (constant_memory)."""

    def __init__(self, path: Path, *, sheet_name: str, title: str, columns: list[Column]):
        self.columns = columns
        self.workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self.sheet = self.workbook.add_worksheet(sheet_name[:31])
        wb = self.workbook
        self.formats = {
            TEXT: wb.add_format({"border": 1, "valign": "vcenter", "text_wrap": True}),
            INT: wb.add_format({"border": 1, "valign": "vcenter", "num_format": "0"}),
            MONEY: wb.add_format({"border": 1, "valign": "vcenter", "num_format": "#,##0.00"}),
            DATE: wb.add_format({"border": 1, "valign": "vcenter", "num_format": "yyyy-mm-dd"}),
        }
        title_format = wb.add_format({"bold": True, "font_size": 14, "align": "center",
                                      "valign": "vcenter"})
        header_format = wb.add_format({"bold": True, "border": 1, "align": "center",
                                       "valign": "vcenter", "text_wrap": True,
                                       "bg_color": "#D9E1F2"})
        for col, column in enumerate(columns):
            self.sheet.set_column(col, col, column.width)
        self.sheet.set_row(0, 28)
        self.sheet.merge_range(0, 0, 0, len(columns) - 1, title, title_format)
        self.sheet.set_row(1, 30)
        for col, column in enumerate(columns):
            self.sheet.write_string(1, col, column.header, header_format)
        self.sheet.freeze_panes(2, 0)
        self.row = 2
        self.data_end = None  # the last data row, once totals start
        self._bold: dict[str, object] = {}

    def write(self, values, *, bold: bool = False) -> None:
        for col, (column, value) in enumerate(zip(self.columns, values, strict=True)):
            fmt = self._bold_format(column.kind) if bold else self.formats[column.kind]
            if value is None or value == "":
                self.sheet.write_blank(self.row, col, None, fmt)
            elif column.kind in (INT, MONEY) and isinstance(value, int | float | Decimal):
                self.sheet.write_number(self.row, col, float(value), fmt)
            elif column.kind == DATE and isinstance(value, dt.date):
                self.sheet.write_datetime(
                    self.row, col, dt.datetime.combine(value, dt.time()), fmt)
            else:
                self.sheet.write_string(self.row, col, safe_cell(str(value)), fmt)
        self.row += 1

    def _bold_format(self, kind: str):
        if kind not in self._bold:
            spec = {"border": 1, "valign": "vcenter", "bold": True, "bg_color": "#F2F2F2",
                    "num_format": {INT: "0", MONEY: "#,##0.00", DATE: "yyyy-mm-dd"}.get(kind)}
            self._bold[kind] = self.workbook.add_format(
                {key: value for key, value in spec.items() if value is not None})
        return self._bold[kind]

    def total(self, values) -> None:
        """A totals row after the data (bold, outside the filter); call after the last
        ``write`` of data."""
        if self.data_end is None:
            self.data_end = self.row - 1
        self.write(values, bold=True)

    def close(self) -> None:
        last = self.data_end if self.data_end is not None else self.row - 1
        if last >= 2:
            self.sheet.autofilter(1, 0, last, len(self.columns) - 1)
        self.workbook.close()
