"""The archive ledger (困难职工档案台账) as union offices keep it, exported to .xlsx.

Rows: every record that was in the archive at some time in the period (enrolled by its end and
not exited or closed before its start), in the reader's ``archive.view`` scope, in unit order.
Columns follow the ledgers union offices file (序号, 单位, 姓名, 性别, 身份证号, 出生年月, 联系电话,
家庭人口, 家庭年收入, 刚性支出, 人均月收入, 低保标准, 困难类别, 致困原因, 住房情况, 健康状况,
在读子女, 建档日期, 状态, 脱困日期, 脱困原因, 下次复核日期, 本期帮扶次数, 本期帮扶金额, 备注);
the headers the importer reads are the same, so a revealed export can be imported elsewhere.

ID numbers and phones are masked (110105********1234, the birth date shown as a year only)
unless the reader asks to reveal them and holds ``members.reveal`` over the member's unit.
Health is shown only while the member's health consent is current. "本期帮扶" counts the
payments (funds.Disbursement, paid) to the member within the period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.archive.ledgers import (
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
    labels,
    title_unit,
)
from unionaid.archive.models import CloseReason, HardshipCategory, RecordStatus
from unionaid.archive.selectors.lists import archive_ledger_rows
from unionaid.audit.services import audit_record
from unionaid.core import masking
from unionaid.core.errors import PermissionDenied
from unionaid.members.models import Sex
from unionaid.org.models import OrgUnit
from unionaid.visits.models import HardshipCause, HousingKind
from unionaid.visits.profile import visible_causes

PERM = "archive.view"
REVEAL = "members.reveal"


def columns() -> list[Column]:
    return [
        Column(_("序号"), 6, INT), Column(_("单位"), 18), Column(_("姓名"), 10),
        Column(_("性别"), 5), Column(_("身份证号"), 21), Column(_("出生年月"), 9),
        Column(_("联系电话"), 14), Column(_("家庭人口"), 6, INT),
        Column(_("家庭年收入（元）"), 13, MONEY), Column(_("刚性支出（元）"), 12, MONEY),
        Column(_("人均月收入（元）"), 12, MONEY), Column(_("低保标准（元）"), 10, MONEY),
        Column(_("困难类别"), 10), Column(_("致困原因"), 16), Column(_("住房情况"), 11),
        Column(_("健康状况"), 11), Column(_("在读子女（人）"), 8, INT),
        Column(_("建档日期"), 11, DATE), Column(_("状态"), 10), Column(_("脱困日期"), 11, DATE),
        Column(_("脱困原因"), 16), Column(_("下次复核日期"), 11, DATE),
        Column(_("本期帮扶次数"), 8, INT), Column(_("本期帮扶金额（元）"), 12, MONEY),
        Column(_("备注"), 20),
    ]


def _health(profile, consent_ok: bool) -> str:
    if not consent_ok:
        return _("未授权")
    parts = []
    if profile.has_major_illness:
        parts.append(_("大病/慢病"))
    if profile.has_disability:
        parts.append(_("残疾"))
    return "、".join(parts) or _("健康")


def export_archive_ledger(
    *, actor, unit: OrgUnit | None, start: dt.date, end: dt.date, reveal: bool = False,
    path=None, progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write the archive ledger ``actor`` may read (inside ``unit`` if given) for the period
    to an .xlsx file; one audit event records the export (row count, how many revealed).
    The caller deletes the file when done."""
    check_export(actor=actor, perm=PERM, unit=unit, start=start, end=end)
    access = access_for(actor)
    if reveal and not access.has_perm(REVEAL):
        raise PermissionDenied(_("您无权导出完整的证件号和手机号。"))
    titled = title_unit(actor, PERM, unit)
    title = _("%(unit)s 困难职工档案台账（%(start)s 至 %(end)s）") % {
        "unit": titled.name if titled else "", "start": start.isoformat(),
        "end": end.isoformat()}
    path = Path(path) if path else default_path()
    rows = archive_ledger_rows(user=actor, unit=unit, start=start, end=end)
    may_reveal: dict[int, bool] = {}
    categories = dict(HardshipCategory.choices)
    statuses = dict(RecordStatus.choices)
    housing = dict(HousingKind.choices)
    sexes = dict(Sex.choices)
    closes = dict(CloseReason.choices)
    count = revealed = 0
    try:
        writer = LedgerWriter(path, sheet_name=_("困难职工档案台账"), title=title,
                              columns=columns())
        for record in rows.iterator(chunk_size=CHUNK):
            member, profile = record.member, record.profile
            if reveal and record.org_unit_id not in may_reveal:
                may_reveal[record.org_unit_id] = access.covers_unit(REVEAL, record.org_unit)
            clear = reveal and may_reveal[record.org_unit_id]
            revealed += clear
            count += 1
            notes = [flag.get("message", "") for flag in record.review_flags or []
                     if isinstance(flag, dict)]
            if record.status == RecordStatus.CLOSED:
                notes.insert(0, _("销档（%(reason)s，%(date)s）") % {
                    "reason": closes.get(record.close_reason, ""),
                    "date": record.closed_on.isoformat() if record.closed_on else ""})
            writer.write((
                count, record.org_unit.name, member.name, str(sexes.get(member.sex, "")),
                member.id_number if clear else masking.mask_id_number(member.id_number),
                member.birth_date.strftime("%Y-%m") if clear else str(member.birth_date.year),
                member.phone if clear else masking.mask_phone(member.phone),
                profile.household_size, profile.annual_income, profile.rigid_expenses,
                record.per_capita_monthly, record.dibao_standard or None,
                str(categories.get(record.category, "")), labels(",".join(visible_causes(
                    (record.causes or profile.causes).split(","), health_ok=record.health_ok)),
                    HardshipCause.choices),
                str(housing.get(profile.housing, "")), _health(profile, record.health_ok),
                profile.children_in_school, record.enrolled_on, str(statuses[record.status]),
                record.exited_on, record.exit_reason,
                record.next_recheck_on if record.status == RecordStatus.ACTIVE else None,
                record.aid_count, record.aid_total, "；".join(notes),
            ))
            if progress and count % CHUNK == 0:
                progress(count)
        writer.close()
        with transaction.atomic():
            audit_record(
                actor=actor, action="archive.ledger_export", target_type="archive.ledger",
                target_label=titled.name if titled else "",
                org_unit_path=unit.path if unit else "",
                changes={"kind": "archive", "unit": unit.name if unit else "",
                         "start": start.isoformat(), "end": end.isoformat(), "count": count,
                         "revealed": revealed > 0, "revealed_count": revealed},
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ExportResult(path=path, count=count, revealed_count=revealed,
                        download_name=download_name(_("困难职工档案台账"), unit, start, end))
