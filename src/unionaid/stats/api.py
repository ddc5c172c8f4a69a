"""/api/v1/stats: the statistics, in the caller's scope for ``stats.view`` (as the page).

``GET /stats/facts`` lists what can be asked; ``GET /stats/statistic?fact=…&dims=org,month
&measures=cases,people&year=2026&unit=12&f_category=3`` answers one table: rows (keys, labels,
values, the unit to drill into) and totals. Money is a decimal string. An unknown fact,
dimension, measure or filter is 422 with its code (``unknown_fact``, ``unknown_dimension``,
``unknown_measure``, ``too_many_dimensions``, ``period_conflict``, ``no_measure``,
``invalid_filter``); a unit outside the scope is 404; no ``stats.view`` is 403.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja import Router, Schema

from unionaid.core.api.schemas import READ_ERRORS, ErrorOut
from unionaid.stats import selectors

router = Router(tags=["stats"])


class MeasureOut(Schema):
    key: str
    label: str
    money: bool


class FactOut(Schema):
    key: str
    label: str
    dimensions: dict[str, str]
    measures: list[MeasureOut]


def _measure(m) -> dict:
    return {"key": m.key, "label": str(m.label), "money": m.money}


@router.get("/facts", response={200: list[FactOut], **READ_ERRORS, 403: ErrorOut},
            summary="可统计的对象、维度和指标")
def fact_list(request, response: HttpResponse):
    selectors.scope_anchors(actor=request.auth)  # 403 without stats.view
    response["Cache-Control"] = "no-store"
    return [{"key": f.key, "label": f.label, "dimensions": f.dimensions,
             "measures": [_measure(m) for m in f.measures]}
            for f in selectors.facts_available()]


class RowOut(Schema):
    keys: dict[str, str]
    labels: dict[str, str]
    values: dict[str, Any]
    unit_id: int | None


class StatisticOut(Schema):
    fact: str
    dims: list[str]
    measures: list[MeasureOut]
    unit_id: int | None
    source: str
    rows: list[RowOut]
    totals: dict[str, Any]


@router.get("/statistic", response={200: StatisticOut, **READ_ERRORS, 403: ErrorOut,
                                    422: ErrorOut},
            summary="统计表：按所选维度（最多三个）汇总所选指标，含合计")
def statistic(request, response: HttpResponse):
    stat = selectors.statistic(actor=request.auth, **selectors.parse_params(request.GET))
    response["Cache-Control"] = "no-store"
    return {"fact": stat.fact.key, "dims": stat.dims,
            "measures": [_measure(m) for m in stat.measures],
            "unit_id": stat.anchor.pk if stat.anchor else None, "source": stat.source,
            "rows": [{"keys": r.keys, "labels": r.labels, "values": r.values,
                      "unit_id": r.unit_id} for r in stat.rows],
            "totals": stat.totals}
