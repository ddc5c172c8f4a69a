"""The payment ledger (帮扶资金发放台账), exported to .xlsx.

Rows: every payment (``funds.Disbursement``) made in the period — paid that day, Asia/Shanghai —
from a budget of a unit in the reader's ``funds.view`` scope (inside the chosen unit), in the
order it was paid; a payment reversed later stays listed, marked 已冲正 with the date and reason
(its re-payment, if any, is a row of its own). Columns as union offices keep the ledger: 序号,
发放日期, 单位 (the worker's), 姓名, 身份证号, 银行账号, 帮扶类别, 帮扶项目, 经费口径, 支出单位 (the
budget's unit), 批次号, 发放编号, 金额, 状态, 备注. After the rows: a subtotal per funding source,
the reversed ones, the total and the total still paid (合计 less 已冲正).

ID numbers and bank accounts are masked (110105********1234, 6222***********0123) unless the
reader asks to reveal them and holds ``members.reveal`` over the worker's unit; the export's
journal entry says how many rows were revealed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.assistance.ledgers import rows as ledger_rows
from unionaid.audit.services import audit_record
from unionaid.core import masking
from unionaid.core.errors import PermissionDenied
from unionaid.exports.ledgers import (
    CHUNK,
    DATE,
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
from unionaid.funds.models import DisbursementStatus
from unionaid.org.models import OrgUnit

PERM = ledger_rows.PERM
REVEAL = "members.reveal"
CENT = Decimal("0.01")

(PK, PAID_AT, AMOUNT, STATUS, SUBJECT_KIND, SUBJECT_ID, BATCH, REVERSED_AT, REVERSAL_REASON,
 NAME, ID_NUMBER, BANK_ACCOUNT, MEMBER_UNIT, BUDGET_UNIT, SOURCE) = range(
    len(ledger_rows.PAYMENT_FIELDS))
AMOUNT_COLUMN = 12


def title_label() -> str:
    return _("帮扶资金发放台账")


def columns() -> list[Column]:
    return [
        Column(_("序号"), 8, INT), Column(_("发放日期"), 11, DATE), Column(_("单位"), 18),
        Column(_("姓名"), 10), Column(_("身份证号"), 21), Column(_("银行账号"), 23),
        Column(_("帮扶类别"), 10), Column(_("帮扶项目"), 18), Column(_("经费口径"), 12),
        Column(_("支出单位"), 16), Column(_("批次号"), 8, INT), Column(_("发放编号"), 10, INT),
        Column(_("金额（元）"), 12, MONEY), Column(_("状态"), 8), Column(_("备注"), 24),
    ]


def _total_row(label: str, count: int | None, amount: Decimal, note: str = "") -> list:
    row: list = [""] * len(columns())
    row[0] = label
    if count is not None:
        row[3] = _("%(count)d 笔") % {"count": count}
    row[AMOUNT_COLUMN] = amount
    row[-1] = note
    return row


def export_payment_ledger(
    *, actor, unit: OrgUnit | None, start: dt.date, end: dt.date, reveal: bool = False,
    path=None, progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write the payment ledger ``actor`` may read (inside ``unit`` if given) for the period to
    an .xlsx file, streaming; one audit event records the export (rows, total, how many
    revealed). The caller deletes the file when done."""
    check_export(actor=actor, perm=PERM, unit=unit, start=start, end=end)
    access = access_for(actor)
    if reveal and not access.has_perm(REVEAL):
        raise PermissionDenied(_("您无权导出完整的证件号和银行账号。"))
    titled = title_unit(actor, PERM, unit)
    title = _("%(unit)s 帮扶资金发放台账（%(start)s 至 %(end)s）") % {
        "unit": titled.name if titled else "", "start": start.isoformat(),
        "end": end.isoformat()}
    path = Path(path) if path else default_path()
    lookups = ledger_rows.Lookups()
    statuses = dict(DisbursementStatus.choices)
    tz = timezone.get_current_timezone()
    may_reveal: dict[int, bool] = {}
    by_source: dict[int, list] = {}  # source id → [count, amount]
    count = revealed = reversed_count = 0
    total = reversed_total = Decimal(0)
    try:
        writer = LedgerWriter(path, sheet_name=title_label(), title=title, columns=columns())
        rows = ledger_rows.payment_ledger_rows(user=actor, unit=unit, start=start, end=end)
        for chunk in ledger_rows.chunks(rows.iterator(chunk_size=CHUNK), CHUNK):
            lookups.load_units([r[MEMBER_UNIT] for r in chunk] + [r[BUDGET_UNIT] for r in chunk])
            items = lookups.items_by_subject(chunk, SUBJECT_KIND, SUBJECT_ID)
            for row in chunk:
                member_unit = row[MEMBER_UNIT]
                if reveal and member_unit not in may_reveal:
                    may_reveal[member_unit] = access.covers_unit(
                        REVEAL, lookups.units[member_unit])
                clear = reveal and may_reveal[member_unit]
                revealed += clear
                count += 1
                amount = row[AMOUNT].quantize(CENT)
                total += amount
                per_source = by_source.setdefault(row[SOURCE], [0, Decimal(0)])
                per_source[0] += 1
                per_source[1] += amount
                note = ""
                if row[STATUS] == DisbursementStatus.REVERSED:
                    reversed_count += 1
                    reversed_total += amount
                    when = row[REVERSED_AT].astimezone(tz).date() if row[REVERSED_AT] else None
                    note = _("%(date)s 冲正：%(reason)s") % {
                        "date": when.isoformat() if when else "", "reason": row[REVERSAL_REASON]}
                item, category = items.get(row[SUBJECT_ID], ("", "")) \
                    if row[SUBJECT_KIND] == ledger_rows.SUBJECT_KIND else ("", "")
                writer.write((
                    count, row[PAID_AT].astimezone(tz).date(),
                    lookups.unit_name(member_unit), row[NAME],
                    row[ID_NUMBER] if clear else masking.mask_id_number(row[ID_NUMBER]),
                    row[BANK_ACCOUNT] if clear else masking.mask_bank_account(row[BANK_ACCOUNT]),
                    category, item, lookups.sources.get(row[SOURCE], ""),
                    lookups.unit_name(row[BUDGET_UNIT]), row[BATCH], row[PK], amount,
                    str(statuses.get(row[STATUS], row[STATUS])), note,
                ))
            if progress:
                progress(count)
        for source_id, (n, amount) in sorted(
                by_source.items(), key=lambda kv: lookups.sources.get(kv[0], "")):
            writer.total(_total_row(_("小计"), n, amount, lookups.sources.get(source_id, "")))
        writer.total(_total_row(_("合计"), count, total))
        if reversed_count:
            writer.total(_total_row(_("其中已冲正"), reversed_count, reversed_total))
            writer.total(_total_row(_("实发合计"), count - reversed_count,
                                    total - reversed_total))
        writer.close()
        with transaction.atomic():
            audit_record(
                actor=actor, action="assistance.payment_ledger_export",
                target_type="assistance.payment_ledger",
                target_label=titled.name if titled else "",
                org_unit_path=unit.path if unit else "",
                changes={"kind": "payments", "unit": unit.name if unit else "",
                         "start": start.isoformat(), "end": end.isoformat(), "count": count,
                         "total": str(total), "reversed_total": str(reversed_total),
                         "revealed": revealed > 0, "revealed_count": revealed},
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ExportResult(path=path, count=count, revealed_count=revealed,
                        download_name=download_name(title_label(), unit, start, end))
