"""The payment ledger and the budget execution ledger as background export kinds
(``exports.kinds``), registered by ``AssistanceConfig.ready()`` (the funds engine may not
register with the exports engine: same layer). As for the archive's ledgers, ``clean`` checks a
request as the direct export does and ``write`` is that very export function."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.accounts.access import access_for
from unionaid.assistance.ledgers import budget_ledger, payment_ledger
from unionaid.core.errors import PermissionDenied
from unionaid.exports import kinds
from unionaid.exports.ledgers import check_export

PAYMENT_LEDGER = "payment_ledger"
BUDGET_LEDGER = "budget_ledger"


def _clean(actor, params: dict, *, may_reveal: bool):
    perm = payment_ledger.PERM
    start, end = kinds.date_param(params, "start"), kinds.date_param(params, "end")
    unit = kinds.unit_param(actor, perm, params.get("unit"))
    check_export(actor=actor, perm=perm, unit=unit, start=start, end=end)
    reveal = may_reveal and bool(params.get("reveal"))
    if reveal and not access_for(actor).has_perm(payment_ledger.REVEAL):
        raise PermissionDenied(_("您无权导出完整的证件号和银行账号。"))
    return {"unit": unit.pk if unit else None, "unit_name": unit.name if unit else "",
            "start": start.isoformat(), "end": end.isoformat(), "reveal": reveal}, unit


def _period(params: dict) -> tuple[dt.date, dt.date]:
    return dt.date.fromisoformat(params["start"]), dt.date.fromisoformat(params["end"])


def _period_line(params: dict) -> tuple[str, str]:
    return _("期间"), f"{params.get('start', '')} — {params.get('end', '')}"


def _reveal_line(params: dict) -> tuple[str, str]:
    return (_("身份证号和银行账号"),
            _("完整（记入审计）") if params.get("reveal") else _("打码"))


def _payments_clean(*, actor, params: dict):
    return _clean(actor, params, may_reveal=True)


def _payments_write(*, actor, unit, params: dict, path, progress):
    start, end = _period(params)
    return payment_ledger.export_payment_ledger(
        actor=actor, unit=unit, start=start, end=end, reveal=bool(params.get("reveal")),
        path=path, progress=progress)


def _budgets_clean(*, actor, params: dict):
    clean, unit = _clean(actor, params, may_reveal=False)
    budget_ledger.check_period(*_period(clean))
    return clean, unit


def _budgets_write(*, actor, unit, params: dict, path, progress):
    start, end = _period(params)
    return budget_ledger.export_budget_ledger(actor=actor, unit=unit, start=start, end=end,
                                              path=path, progress=progress)


PAYMENTS = kinds.ExportKind(
    kind=PAYMENT_LEDGER, title=gettext_lazy("帮扶资金发放台账"), permission=payment_ledger.PERM,
    reveal_permission=payment_ledger.REVEAL, clean=_payments_clean, write=_payments_write,
    describe=lambda params: [_period_line(params), _reveal_line(params)],
)
BUDGETS = kinds.ExportKind(
    kind=BUDGET_LEDGER, title=gettext_lazy("预算执行台账"), permission=budget_ledger.PERM,
    reveal_permission="",  # the budget ledger holds no personal data
    clean=_budgets_clean, write=_budgets_write, describe=lambda params: [_period_line(params)],
)


def register() -> None:
    kinds.register(PAYMENTS)
    kinds.register(BUDGETS)
