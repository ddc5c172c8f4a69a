"""Exporting the member roster to .xlsx, masked unless the reader may and asks to see more.

Streams: rows come from the database 2,000 at a time and XlsxWriter's constant_memory mode writes
each row to disk as it goes, so a million members need little memory. The headers are those the
importer reads, so an exported roster can be imported elsewhere.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.audit.services import audit_record
from unionaid.core.errors import NotFound, PermissionDenied
from unionaid.core.logging import redact
from unionaid.core.spreadsheets import safe_cell
from unionaid.members.selectors import member_search
from unionaid.org.selectors import units_visible_to

PERM = "members.export"
REVEAL = "members.reveal"
EXPORT_KIND = "members"  # the roster's background export kind (see unionaid.web.export_kinds)
CHUNK = 2000
COLUMNS = (  # (header, width)
    ("姓名", 10), ("身份证号", 21), ("性别", 6), ("出生日期（脱敏时仅年份）", 14), ("手机号", 14),
    ("单位", 24), ("单位编码", 14), ("用工形式", 16), ("会籍状态", 10), ("入会日期", 12),
    ("银行账号", 24),
)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    count: int
    revealed_count: int
    download_name: str

    @property
    def revealed(self) -> bool:
        return self.revealed_count > 0


def _default_path() -> Path:
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".xlsx", dir=folder)
    os.close(fd)
    return Path(name)


def check_export(*, actor, unit=None, reveal: bool = False):
    """Refuse an export ``actor`` may not make (also before a background job is queued);
    returns their access."""
    access = access_for(actor)
    if not access.has_perm(PERM):
        raise PermissionDenied(_("您没有导出职工名册的权限。"))
    if reveal and not access.has_perm(REVEAL):
        raise PermissionDenied(_("您无权导出完整的证件号和手机号。"))
    if unit is not None and not units_visible_to(user=actor, perm=PERM).filter(pk=unit.pk).exists():
        raise NotFound()
    return access


def export_members(
    *, actor, unit=None, query: str = "", reveal: bool = False, path=None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write the members ``actor`` may export (optionally inside ``unit``, matching ``query``)
    to an .xlsx file and return where it is. The caller deletes the file when done.

    ID numbers, phones and bank accounts are masked, except for members whose unit the actor
    holds ``members.reveal`` for when ``reveal`` is asked. One audit event records the export.
    """
    access = check_export(actor=actor, unit=unit, reveal=reveal)
    members = member_search(user=actor, query=query, unit=unit, perm=PERM)
    total = members.count() if progress else 0
    path = Path(path) if path else _default_path()
    may_reveal: dict[int, bool] = {}
    count = revealed = 0
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        sheet = workbook.add_worksheet(_("职工名册"))
        bold = workbook.add_format({"bold": True})
        for col, (header, width) in enumerate(COLUMNS):
            sheet.set_column(col, col, width)
            sheet.write_string(0, col, header, bold)
        for member in members.iterator(chunk_size=CHUNK):
            unit_id = member.org_unit_id
            if reveal and unit_id not in may_reveal:
                may_reveal[unit_id] = access.covers_unit(REVEAL, member.org_unit)
            clear = reveal and may_reveal[unit_id]
            revealed += clear
            count += 1
            row = (
                member.name,
                member.id_number if clear else member.id_number_masked,
                member.get_sex_display(),
                # The masked ID hides exactly the birth date: a masked export shows the year.
                member.birth_date.isoformat() if clear else str(member.birth_date.year),
                member.phone if clear else member.phone_masked,
                member.org_unit.name,
                member.org_unit.code,
                member.employment_form_label,
                member.membership_status_label,
                member.joined_on.isoformat() if member.joined_on else "",
                member.bank_account if clear else member.bank_account_masked,
            )
            for col, value in enumerate(row):
                if value:
                    sheet.write_string(count, col, safe_cell(str(value)))
            if progress and count % CHUNK == 0:
                progress(count, total)
        workbook.close()
        with transaction.atomic():
            audit_record(
                actor=actor, action="member.export", target_type="members.export",
                target_label=unit.name if unit else "",
                org_unit_path=unit.path if unit else "",
                changes={"count": count, "revealed": revealed > 0, "revealed_count": revealed,
                         "query": redact(query or "")[:100], "unit": unit.name if unit else ""},
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if progress:
        progress(count, total)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return ExportResult(path=path, count=count, revealed_count=revealed,
                        download_name=f"职工名册-{stamp}.xlsx")
