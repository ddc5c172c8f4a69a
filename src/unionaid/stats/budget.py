"""Budget figures (预算 allocated / used / reserved / left), read live from the funds engine,
which sits below the statistics: budgets are few (units × funding sources × years), so a
grouped query over them needs no summary cells and is always current.

In a subtree, **allocated** is the money held there: Σ(allocated − allocated_down) over its
units' budgets (what a unit passed on to a child is counted once, at the child). Then, to the
cent, allocated = used (paid) + reserved + left (available), as the ledger's balance
constraint guarantees for each budget.
"""

from __future__ import annotations

from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from unionaid.funds.models import Budget, FundingSource
from unionaid.stats.registry import Dimension, Measure

KEY = "budget"
LABEL = _("预算执行")


def _source_labels(values) -> dict[str, str]:
    return dict(FundingSource.objects.filter(code__in=list(values)).values_list("code", "name"))


DIMENSIONS = (Dimension("funding_source", _("经费口径"), _source_labels),)
MEASURES = (
    Measure("budget_allocated", _("预算额度"), kind="live", money=True),
    Measure("budget_used", _("已使用"), kind="live", money=True),
    Measure("budget_reserved", _("已预留"), kind="live", money=True),
    Measure("budget_left", _("余额"), kind="live", money=True),
)
ALLOWED = ("org", "year", "funding_source")

_MONEY = DecimalField(max_digits=16, decimal_places=2)
AGGREGATES = {
    "budget_allocated": Sum(ExpressionWrapper(F("allocated") - F("allocated_down"),
                                              output_field=_MONEY)),
    "budget_used": Sum("paid"),
    "budget_reserved": Sum("reserved"),
    "budget_left": Sum("available"),
}


def budget_rows(*, scope_q, org_expr, dims: list[str], measures: list[str], year: int | None,
                source: str | None):
    """Grouped budget figures: (keys, values) per group and the totals. ``org_expr`` groups
    the unit (an expression over ``org_unit__path``), ``scope_q`` is the caller's scope."""
    qs = Budget.objects.filter(scope_q)
    if year is not None:
        qs = qs.filter(year=year)
    if source:
        qs = qs.filter(funding_source__code=source)
    exprs = {}
    for dim in dims:
        if dim == "org":
            exprs["k_org"] = org_expr
        elif dim == "year":
            exprs["k_year"] = F("year")
        else:
            exprs["k_funding_source"] = F("funding_source__code")
    aggs = {m: AGGREGATES[m] for m in measures}
    grouped = qs.annotate(**exprs).values(*exprs).annotate(**aggs).order_by(*exprs)
    rows = [({d: g[f"k_{d}"] for d in dims}, {m: g[m] for m in measures}) for g in grouped]
    totals = qs.aggregate(**aggs)
    return rows, totals


def org_prefix(depth: int):
    return Substr("org_unit__path", 1, depth * 4)
