"""The archive ledger and the visit ledger as background export kinds (``exports.kinds``),
registered by ``ArchiveConfig.ready()``. Their ``clean`` checks a request as the direct ledger
export does; ``write`` is that very export function."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.accounts.access import access_for
from unionaid.archive.ledgers import archive_ledger, check_export, visit_ledger
from unionaid.core.errors import PermissionDenied
from unionaid.exports import kinds

ARCHIVE_LEDGER = "archive_ledger"
VISITS_LEDGER = "visits_ledger"


def _clean(actor, perm: str, params: dict, *, may_reveal: bool):
    start, end = kinds.date_param(params, "start"), kinds.date_param(params, "end")
    unit = kinds.unit_param(actor, perm, params.get("unit"))
    check_export(actor=actor, perm=perm, unit=unit, start=start, end=end)
    reveal = may_reveal and bool(params.get("reveal"))
    if reveal and not access_for(actor).has_perm(archive_ledger.REVEAL):
        raise PermissionDenied(_("您无权导出完整的证件号和手机号。"))
    return {"unit": unit.pk if unit else None, "unit_name": unit.name if unit else "",
            "start": start.isoformat(), "end": end.isoformat(), "reveal": reveal}, unit


def _period(params: dict) -> tuple[dt.date, dt.date]:
    return dt.date.fromisoformat(params["start"]), dt.date.fromisoformat(params["end"])


def _period_line(params: dict) -> tuple[str, str]:
    return _("期间"), f"{params.get('start', '')} — {params.get('end', '')}"


def _archive_clean(*, actor, params: dict):
    return _clean(actor, archive_ledger.PERM, params, may_reveal=True)


def _archive_write(*, actor, unit, params: dict, path, progress):
    start, end = _period(params)
    return archive_ledger.export_archive_ledger(
        actor=actor, unit=unit, start=start, end=end, reveal=bool(params.get("reveal")),
        path=path, progress=progress)


def _visits_clean(*, actor, params: dict):
    return _clean(actor, visit_ledger.PERM, params, may_reveal=False)


def _visits_write(*, actor, unit, params: dict, path, progress):
    start, end = _period(params)
    return visit_ledger.export_visit_ledger(actor=actor, unit=unit, start=start, end=end,
                                            path=path, progress=progress)


ARCHIVE = kinds.ExportKind(
    kind=ARCHIVE_LEDGER, title=gettext_lazy("困难职工档案台账"), permission=archive_ledger.PERM,
    reveal_permission=archive_ledger.REVEAL, clean=_archive_clean, write=_archive_write,
    describe=lambda params: [_period_line(params), kinds.reveal_line(params)],
)
VISITS = kinds.ExportKind(
    kind=VISITS_LEDGER, title=gettext_lazy("走访台账"), permission=visit_ledger.PERM,
    reveal_permission="",  # the visit ledger never writes full numbers
    clean=_visits_clean, write=_visits_write, describe=lambda params: [_period_line(params)],
)


def register() -> None:
    kinds.register(ARCHIVE)
    kinds.register(VISITS)
