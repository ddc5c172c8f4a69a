"""The budget execution ledger (预算执行台账), exported to .xlsx.

Rows: the budgets of one year (the period's; the period lies within that year) of units in the
reader's ``funds.view`` scope (inside the chosen unit), one per unit × funding source, in tree
order. Figures are those at the end of the period, summed from the append-only ledger entries up
to that day (as ``funds.services.ledger_recompute`` sums them; for a period ending today they
equal the budgets' balances): 拨入 (put in, from above or outside), 下拨 (allocated down to
units below), 可支配 (拨入 less 下拨), 已核定待发 (reserved by final approvals, not paid yet), 已发放
(paid, less reversals), 结余 (still available), 执行率 (已发放 ÷ 可支配), and 本期发放 (what was paid
in the period, less what was reversed in it). 可支配 = 已核定待发 + 已发放 + 结余 on every row.
After the rows: a subtotal per funding source and the total (transfers between a unit and the
units below it appear in both 拨入 and 下拨, so the total's 可支配 counts them once).

No personal data: nothing to mask.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from unionaid.assistance.ledgers import rows as ledger_rows
from unionaid.audit.services import audit_record
from unionaid.core.errors import ServiceError
from unionaid.exports.ledgers import (
    CHUNK,
    INT,
    MONEY,
    Column,
    ExportResult,
    LedgerWriter,
    check_export,
    default_path,
    download_name,
    title_unit,
)
from unionaid.funds.models import Account
from unionaid.org.models import OrgUnit

PERM = ledger_rows.PERM
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
FIGURES = ("allocated", "allocated_down", "net", "reserved", "paid", "available",
           "period_paid")


def title_label() -> str:
    return _("预算执行台账")


def columns() -> list[Column]:
    return [
        Column(_("序号"), 6, INT), Column(_("单位"), 20), Column(_("经费口径"), 14),
        Column(_("年度"), 6, INT), Column(_("拨入（元）"), 14, MONEY),
        Column(_("下拨（元）"), 14, MONEY), Column(_("可支配（元）"), 14, MONEY),
        Column(_("已核定待发（元）"), 14, MONEY), Column(_("已发放（元）"), 14, MONEY),
        Column(_("结余（元）"), 14, MONEY), Column(_("执行率"), 8),
        Column(_("本期发放（元）"), 14, MONEY),
    ]


def check_period(start: dt.date, end: dt.date) -> None:
    """Budgets are per year: the period lies within one."""
    if start.year != end.year:
        message = _("预算执行台账按年度导出：开始日期和结束日期须在同一年度内。")
        raise ServiceError(message, code="invalid_period", fields={"end": message})


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def figures_of(found: dict) -> dict[str, Decimal]:
    """A budget's figures from its accounts' sums (``rows.budget_figures``)."""
    allocated = -_money(found.get(Account.SOURCE))
    allocated_down = _money(found.get(Account.ALLOCATED_DOWN))
    return {
        "allocated": allocated, "allocated_down": allocated_down,
        "net": allocated - allocated_down, "reserved": _money(found.get(Account.RESERVED)),
        "paid": _money(found.get(Account.PAID)), "available": _money(found.get(Account.AVAILABLE)),
        "period_paid": _money(found.get("period_paid")),
    }


def _rate(paid: Decimal, net: Decimal) -> str:
    return f"{paid / net * 100:.1f}%" if net > 0 else ""


def _line(first, unit: str, source: str, year, figures: dict[str, Decimal]) -> list:
    return [first, unit, source, year, figures["allocated"], figures["allocated_down"],
            figures["net"], figures["reserved"], figures["paid"], figures["available"],
            _rate(figures["paid"], figures["net"]), figures["period_paid"]]


def export_budget_ledger(
    *, actor, unit: OrgUnit | None, start: dt.date, end: dt.date, path=None,
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write the budget execution ledger ``actor`` may read (inside ``unit`` if given) for the
    period (within one year) to an .xlsx file; one audit event records the export. The caller
    deletes the file when done."""
    check_export(actor=actor, perm=PERM, unit=unit, start=start, end=end)
    check_period(start, end)
    titled = title_unit(actor, PERM, unit)
    title = _("%(unit)s %(year)d年预算执行台账（%(start)s 至 %(end)s）") % {
        "unit": titled.name if titled else "", "year": start.year,
        "start": start.isoformat(), "end": end.isoformat()}
    path = Path(path) if path else default_path()
    lookups = ledger_rows.Lookups()
    by_source: dict[int, dict[str, Decimal]] = {}
    total = dict.fromkeys(FIGURES, ZERO)
    count = 0
    try:
        writer = LedgerWriter(path, sheet_name=title_label(), title=title, columns=columns())
        rows = ledger_rows.budget_ledger_rows(user=actor, unit=unit, year=start.year)
        for chunk in ledger_rows.chunks(rows.iterator(chunk_size=CHUNK), CHUNK):
            lookups.load_units(unit_id for _pk, unit_id, _source in chunk)
            sums = ledger_rows.budget_figures(budget_ids=[pk for pk, _u, _s in chunk],
                                              start=start, end=end)
            for pk, unit_id, source_id in chunk:
                count += 1
                figures = figures_of(sums.get(pk, {}))
                per_source = by_source.setdefault(source_id, dict.fromkeys(FIGURES, ZERO))
                for key in FIGURES:
                    per_source[key] += figures[key]
                    total[key] += figures[key]
                writer.write(_line(count, lookups.unit_name(unit_id),
                                   lookups.sources.get(source_id, ""), start.year, figures))
            if progress:
                progress(count)
        for source_id, figures in sorted(
                by_source.items(), key=lambda kv: lookups.sources.get(kv[0], "")):
            writer.total(_line(_("小计"), "", lookups.sources.get(source_id, ""), start.year,
                               figures))
        writer.total(_line(_("合计"), "", "", start.year, total))
        writer.close()
        with transaction.atomic():
            audit_record(
                actor=actor, action="assistance.budget_ledger_export",
                target_type="assistance.budget_ledger",
                target_label=titled.name if titled else "",
                org_unit_path=unit.path if unit else "",
                changes={"kind": "budgets", "unit": unit.name if unit else "",
                         "start": start.isoformat(), "end": end.isoformat(), "count": count,
                         "paid": str(total["paid"]), "period_paid": str(total["period_paid"])},
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ExportResult(path=path, count=count, revealed_count=0,
                        download_name=download_name(title_label(), unit, start, end))
