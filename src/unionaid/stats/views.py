"""The statistics page (/stats/): pick a fact, up to three dimensions and the measures; the
table, an ECharts chart, drill-down by clicking a unit, the list behind each figure, and the
.xlsx export with a native chart. Everything within the user's ``stats.view`` scope."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.audit.services import audit_record
from unionaid.core.errors import NotFound
from unionaid.stats import selectors
from unionaid.stats.registry import StatsInputError
from unionaid.stats.xlsx import statistic_xlsx

PERM = selectors.PERM
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require(request) -> None:
    if not access_for(request.user).has_perm(PERM):
        raise Http404()


def _params(request) -> dict:
    """The query, with the defaults of a first visit (the first fact by unit, two measures)."""
    params = selectors.parse_params(request.GET)
    if not params["fact"]:
        first = selectors.facts_available()[0]
        params.update(fact=first.key, dims=["org"],
                      measures=[m.key for m in first.measures[:2]])
    elif not params["measures"]:
        try:
            info = selectors.fact_info(params["fact"])
        except StatsInputError:
            return params  # statistic() says what is wrong
        params["measures"] = [m.key for m in info.measures[:2]]
    return params


def _query(params: dict, **changes) -> str:
    merged = {**params, **changes}
    query = {"fact": merged["fact"], "dims": ",".join(merged["dims"]),
             "measures": ",".join(merged["measures"])}
    for key, value in merged["filters"].items():
        query["year" if key == "year" else f"f_{key}"] = value
    if merged.get("unit"):
        query["unit"] = merged["unit"]
    return urlencode(query)


def _chart_data(stat) -> dict:
    """What static/js/stats.js draws: bars (or lines by period) of each measure by the first
    dimension, one series per value of the second."""
    dims = stat.dims
    first = dims[0] if dims else None
    second = dims[1] if len(dims) > 1 else None
    categories = list(dict.fromkeys(r.labels[first] for r in stat.rows)) if first else [""]
    series = []
    for m in stat.measures[:2 if second is None else 1]:
        groups = (list(dict.fromkeys(r.labels[second] for r in stat.rows)) if second
                  else [str(m.label)])
        for group in groups[:12]:
            values = dict.fromkeys(categories, 0)
            for r in stat.rows:
                if second is None or r.labels[second] == group:
                    key = r.labels[first] if first else ""
                    values[key] = float(values[key] or 0) + float(r.values[m.key] or 0)
            series.append({"name": group if second else str(m.label),
                           "data": [values[c] for c in categories]})
    return {"categories": categories, "series": series,
            "line": bool(first in ("month", "quarter", "year"))}


@login_required
def statistic_page(request):
    _require(request)
    error = None
    try:
        params = _params(request)
    except StatsInputError as exc:  # a malformed unit
        params = {"fact": "", "dims": [], "measures": [], "filters": {}, "unit": None}
        error = exc.message
    stat = None
    try:
        if error is None:
            stat = selectors.statistic(actor=request.user, **params)
    except StatsInputError as exc:
        error = exc.message
    except NotFound:
        raise Http404() from None
    info = selectors.fact_info(params["fact"]) if error is None else None
    facts = selectors.facts_available()
    rows = []
    if stat is not None:
        for row in stat.rows:
            drill = (_query(params, unit=row.unit_id) if row.unit_id and "org" in stat.dims
                     else None)
            rows.append({"row": row, "drill": drill,
                         "values": [row.values[m.key] for m in stat.measures]})
    return render(request, "stats/statistic.html", {
        "facts": facts, "info": info, "params": params, "stat": stat, "rows": rows,
        "error": error, "dims_chosen": params["dims"] + [""] * (3 - len(params["dims"])),
        "export_query": _query(params) if stat else "",
        "up_query": (_query(params, unit=stat.anchor.get_parent().pk)
                     if stat and stat.anchor and stat.anchor.depth > 1
                     and params.get("unit") else None),
        "chart": _chart_data(stat) if stat else None,
        "totals": [stat.totals.get(m.key) for m in stat.measures] if stat else [],
    })


@login_required
def statistic_export(request):
    _require(request)
    try:
        params = _params(request)
        stat = selectors.statistic(actor=request.user, **params)
    except (StatsInputError, NotFound):
        raise Http404() from None
    scope = stat.anchor.name if stat.anchor else _("本人数据范围")
    title = _("%(f)s统计表") % {"f": stat.fact.label}
    audit_record(actor=request.user, action="stats.export", target_type="stats.statistic",
                 target_label=title, changes={"fact": stat.fact.key, "dims": stat.dims,
                                              "measures": [m.key for m in stat.measures],
                                              "filters": stat.filters, "rows": len(stat.rows)},
                 org_unit_path=stat.anchor.path if stat.anchor else "")
    body = statistic_xlsx(stat, title=title, scope_label=scope)
    response = HttpResponse(body, content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="stats-{stat.fact.key}-{stamp}.xlsx"'
    response["Cache-Control"] = "no-store"
    return response
