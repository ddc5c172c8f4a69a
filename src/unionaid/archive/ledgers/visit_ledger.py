"""The visit ledger (走访台账), exported to .xlsx.

Rows: the visits made in the period in the reader's ``visits.view`` scope, by date. Columns as
union offices keep them: 序号, 走访日期, 走访类型, 所属单位, 走访对象 (the worker, or the unit
visited), 走访人员, 走访地点, 所属行动, 家庭人口, 人均月收入, 致困原因, 发现困难, 发现需求, 解决情况
(each need and where it stands), 满意度, 备注 (the visit summary). No ID number or phone is
written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

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
from unionaid.archive.selectors.lists import visit_ledger_rows
from unionaid.audit.services import audit_record
from unionaid.org.models import OrgUnit
from unionaid.visits.models import (
    HardshipCause,
    NeedKind,
    NeedStatus,
    Satisfaction,
    VisitKind,
)
from unionaid.visits.profile import visible_causes

PERM = "visits.view"


def columns() -> list[Column]:
    return [
        Column(_("序号"), 6, INT), Column(_("走访日期"), 11, DATE), Column(_("走访类型"), 9),
        Column(_("所属单位"), 18), Column(_("走访对象"), 16), Column(_("走访人员"), 16),
        Column(_("走访地点"), 16), Column(_("所属行动"), 16), Column(_("家庭人口"), 6, INT),
        Column(_("人均月收入（元）"), 12, MONEY), Column(_("致困原因"), 16),
        Column(_("发现困难"), 6), Column(_("发现需求"), 18), Column(_("解决情况"), 24),
        Column(_("满意度"), 8), Column(_("备注"), 30),
    ]


def export_visit_ledger(
    *, actor, unit: OrgUnit | None, start: dt.date, end: dt.date, path=None,
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write the visit ledger ``actor`` may read (inside ``unit`` if given) for the period to
    an .xlsx file; one audit event records the export. The caller deletes the file."""
    check_export(actor=actor, perm=PERM, unit=unit, start=start, end=end)
    titled = title_unit(actor, PERM, unit)
    title = _("%(unit)s 走访台账（%(start)s 至 %(end)s）") % {
        "unit": titled.name if titled else "", "start": start.isoformat(),
        "end": end.isoformat()}
    path = Path(path) if path else default_path()
    kinds = dict(VisitKind.choices)
    needs = dict(NeedKind.choices)
    need_statuses = dict(NeedStatus.choices)
    satisfaction = dict(Satisfaction.choices)
    count = 0
    try:
        writer = LedgerWriter(path, sheet_name=_("走访台账"), title=title, columns=columns())
        for visit in visit_ledger_rows(user=actor, unit=unit, start=start,
                                       end=end).iterator(chunk_size=CHUNK):
            count += 1
            profile = getattr(visit, "profile", None)
            found = list(visit.needs.all())
            target = visit.member.name if visit.member_id else visit.visited_unit.name
            writer.write((
                count, visit.visited_on, str(kinds.get(visit.kind, "")), visit.org_unit.name,
                target, visit.visitors, visit.place,
                visit.campaign.name if visit.campaign_id else "",
                profile.household_size if profile else None,
                profile.per_capita_monthly if profile else None,
                labels(",".join(visible_causes(profile.cause_codes, health_ok=visit.health_ok)),
                       HardshipCause.choices) if profile else "",
                _("是") if visit.hardship_found else _("否"),
                "、".join(str(needs.get(n.kind, n.kind)) + (f"（{n.note}）" if n.note else "")
                         for n in found),
                "；".join(f"{needs.get(n.kind, n.kind)}：{need_statuses.get(n.status, n.status)}"
                         for n in found),
                str(satisfaction.get(visit.satisfaction, "")) if visit.satisfaction else "",
                visit.summary,
            ))
            if progress and count % CHUNK == 0:
                progress(count)
        writer.close()
        with transaction.atomic():
            audit_record(
                actor=actor, action="visits.ledger_export", target_type="visits.ledger",
                target_label=titled.name if titled else "",
                org_unit_path=unit.path if unit else "",
                changes={"kind": "visits", "unit": unit.name if unit else "",
                         "start": start.isoformat(), "end": end.isoformat(), "count": count},
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ExportResult(path=path, count=count, revealed_count=0,
                        download_name=download_name(_("走访台账"), unit, start, end))
