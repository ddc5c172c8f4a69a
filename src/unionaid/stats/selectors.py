"""Reading statistics, always within the caller's data scope for ``stats.view``.

``statistic(actor=…, fact=…, dims=[…], measures=[…], filters={…}, unit=None)`` answers a table:
one row per combination of the chosen dimensions (at most three), the chosen measures in each,
and the totals. The rows and the totals only ever count records under the units the caller's
grants cover: the whole tree, their subtree(s), or their own unit; ``unit`` narrows to one unit
the caller may see (the drill-down), anything else is "not found".

Two ways to the same figures (docs/architecture.md, "Statistics"):

* **cells** — one subtree, the org dimension at most one level below it and within
  ``STATS_CELL_DEPTH``, at most one dimension besides org and period, filtered by year only:
  read from the summary cells, whose ``people`` is exact for exactly that grouping;
* **records** — anything else (several scope roots, own-unit-only grants, deeper drill-downs,
  two breakdown dimensions, filters on a dimension): a grouped query over the fact's records
  in scope, ``COUNT(DISTINCT member)`` for people. Exact as well; slower on a large scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.functions import Substr
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.accounts.access import access_for
from unionaid.accounts.permissions import DataScope
from unionaid.core.errors import NotFound, PermissionDenied
from unionaid.members.models import EmploymentForm, Sex
from unionaid.org.models import OrgUnit
from unionaid.stats import budget
from unionaid.stats.models import StatCell, StatRecord
from unionaid.stats.registry import (
    COLUMNS,
    MONEY_COLUMNS,
    ORG,
    PERIODS,
    Dimension,
    Fact,
    Measure,
    StatsInputError,
    get_fact,
    registered_facts,
)
from unionaid.stats.store import STEPLEN, cell_depth

PERM = "stats.view"
MAX_DIMENSIONS = 3
AGE_BANDS = {"lt30": gettext_lazy("30岁以下"), "30": gettext_lazy("30–39岁"),
             "40": gettext_lazy("40–49岁"), "50": gettext_lazy("50–59岁"),
             "60": gettext_lazy("60岁及以上")}


# Dimensions whose values have an order of their own (the others sort by their key: paths,
# periods, codes).
DIMENSION_ORDER = {"age_band": {key: i for i, key in enumerate(AGE_BANDS)}}


def _row_order(dims: list[str]) -> Callable:
    """The sort key of a (keys, sums) row: 30岁以下 before 30–39岁, not after 50–59岁."""
    def key(row) -> tuple:
        out = []
        for d in dims:
            order = DIMENSION_ORDER.get(d, {})
            out.append((order.get(row[0][d], len(order)), row[0][d]))
        return tuple(out)
    return key


def _choices(choices) -> Callable:
    return lambda values: {str(k): str(v) for k, v in choices}


MEMBER_DIMS = (
    Dimension("sex", gettext_lazy("性别"), _choices(Sex.choices)),
    Dimension("age_band", gettext_lazy("年龄段"), lambda values: {k: str(v) for k, v in AGE_BANDS.items()}),
    Dimension("employment_form", gettext_lazy("用工形式"), _choices(EmploymentForm.choices)),
)
PERIOD_LABELS = {"month": gettext_lazy("月份"), "quarter": gettext_lazy("季度"),
                 "year": gettext_lazy("年度")}


@dataclass(frozen=True)
class FactInfo:
    """What a fact offers: its dimensions (key → label) and measures."""

    key: str
    label: str
    dimensions: dict[str, str]
    measures: tuple[Measure, ...]


@dataclass
class StatRow:
    keys: dict[str, object]
    labels: dict[str, str]
    values: dict[str, object]
    unit_id: int | None = None  # the org row's unit (drill-down), None for 本级 / no org
    link: str | None = None


@dataclass
class Statistic:
    fact: FactInfo
    dims: list[str]
    measures: list[Measure]
    rows: list[StatRow]
    totals: dict[str, object]
    anchor: OrgUnit | None
    source: str  # "cells" | "records" | "live"
    filters: dict = field(default_factory=dict)
    total_link: str | None = None


# -- what can be asked -------------------------------------------------------------------------

def _own_dims(key: str) -> tuple[Dimension, ...]:
    if key == budget.KEY:
        return budget.DIMENSIONS
    return get_fact(key).dimensions


def fact_info(key: str) -> FactInfo:
    if key == budget.KEY:
        dims = {ORG: _("组织"), "year": str(PERIOD_LABELS["year"])}
        dims.update({d.key: str(d.label) for d in budget.DIMENSIONS})
        return FactInfo(budget.KEY, str(budget.LABEL), dims, budget.MEASURES)
    fact = get_fact(key)
    dims = {ORG: _("组织"), **{k: str(v) for k, v in PERIOD_LABELS.items()}}
    dims.update({d.key: str(d.label) for d in fact.dimensions})
    dims.update({d.key: str(d.label) for d in MEMBER_DIMS})
    return FactInfo(fact.key, str(fact.label), dims, fact.measures)


def facts_available() -> list[FactInfo]:
    """Every fact a statistic may be asked of (the registered ones, then the budget)."""
    return [fact_info(f.key) for f in registered_facts()] + [fact_info(budget.KEY)]


def _clean(info: FactInfo, dims, measures, filters) -> tuple[list[str], list[Measure], dict]:
    dims = [d for d in dims if d]
    if len(dims) > MAX_DIMENSIONS:
        raise StatsInputError(_("最多选择三个维度。"), code="too_many_dimensions",
                              fields={"dims": ",".join(dims)})
    if len(set(dims)) != len(dims):
        raise StatsInputError(_("维度重复。"), code="duplicate_dimension",
                              fields={"dims": ",".join(dims)})
    for dim in dims:
        if dim not in info.dimensions:
            raise StatsInputError(_("没有这个统计维度：%(d)s。") % {"d": dim},
                                  code="unknown_dimension", fields={"dims": dim})
    if len([d for d in dims if d in PERIODS]) > 1:
        raise StatsInputError(_("月份、季度、年度只能选一个。"), code="period_conflict",
                              fields={"dims": ",".join(dims)})
    if not measures:
        raise StatsInputError(_("请至少选择一项指标。"), code="no_measure",
                              fields={"measures": ""})
    by_key = {m.key: m for m in info.measures}
    chosen = []
    for key in dict.fromkeys(measures):
        if key not in by_key:
            raise StatsInputError(_("没有这项统计指标：%(m)s。") % {"m": key},
                                  code="unknown_measure", fields={"measures": key})
        chosen.append(by_key[key])
    clean_filters: dict = {}
    for key, value in (filters or {}).items():
        if value in (None, ""):
            continue
        if key == "year":
            try:
                clean_filters["year"] = int(value)
            except (TypeError, ValueError):
                raise StatsInputError(_("年度应为数字。"), code="invalid_filter",
                                      fields={"year": str(value)}) from None
            if not 2000 <= clean_filters["year"] <= 2100:
                raise StatsInputError(_("年度超出范围。"), code="invalid_filter",
                                      fields={"year": str(value)})
        elif key in info.dimensions and key != ORG and key not in PERIODS:
            clean_filters[key] = str(value)[:40]
        else:
            raise StatsInputError(_("不能按此条件筛选：%(f)s。") % {"f": key},
                                  code="unknown_dimension", fields={"filters": key})
    return dims, chosen, clean_filters


# -- scope -------------------------------------------------------------------------------------

def scope_anchors(*, actor, unit=None) -> list[tuple[OrgUnit, bool]]:
    """The units whose records ``actor`` may count, each with True when its whole subtree is
    covered (False: the unit's own records only). ``unit`` narrows to that unit."""
    grants = access_for(actor).grants_for(PERM)
    if not grants:
        raise PermissionDenied()
    if unit is not None:
        unit_obj = unit if isinstance(unit, OrgUnit) else OrgUnit.objects.filter(pk=unit).first()
        if unit_obj is None:
            raise NotFound()
        for g in grants:
            if g.scope == DataScope.ALL or (g.scope == DataScope.UNIT_AND_BELOW
                                            and unit_obj.path.startswith(g.unit_path)):
                return [(unit_obj, True)]
        if any(g.scope == DataScope.UNIT and g.unit_id == unit_obj.pk for g in grants):
            return [(unit_obj, False)]
        raise NotFound()
    if any(g.scope == DataScope.ALL for g in grants):
        return [(root, True) for root in OrgUnit.objects.get_root_nodes()]
    paths = sorted({g.unit_path for g in grants if g.scope == DataScope.UNIT_AND_BELOW})
    paths = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    anchors = [(u, True) for u in OrgUnit.objects.filter(path__in=paths).order_by("path")]
    own = {g.unit_id for g in grants if g.scope == DataScope.UNIT}
    for u in OrgUnit.objects.filter(pk__in=own).order_by("path"):
        if not any(u.path.startswith(p) for p in paths):
            anchors.append((u, False))
    if not anchors:
        raise PermissionDenied()
    return anchors


def _scope_q(anchors, path_field: str) -> Q:
    q = Q(pk__in=[])
    for unit, subtree in anchors:
        q |= Q(**{f"{path_field}__startswith": unit.path}) if subtree else Q(
            **{path_field: unit.path})
    return q


def _org_expr(anchors, path_field: str):
    """Group by org: one level below a single subtree (records at the unit itself fall in the
    unit's own path: 本级); by scope root when there are several."""
    if len(anchors) == 1 and anchors[0][1]:
        return Substr(path_field, 1, (anchors[0][0].depth + 1) * STEPLEN)
    whens = [When(**{f"{path_field}__startswith" if sub else path_field: u.path},
                  then=Value(u.path)) for u, sub in anchors]
    return Case(*whens, default=Value(""), output_field=CharField())


# -- figures -----------------------------------------------------------------------------------

def _value(measure: Measure, sums: dict):
    if measure.kind == "people":
        return int(sums.get("people") or 0)
    if measure.kind == "average":
        den = sums.get(measure.denominator) or 0
        if not den:
            return None
        return (Decimal(sums.get(measure.column) or 0) / Decimal(den)).quantize(
            Decimal("0.1"), ROUND_HALF_UP)
    total = sums.get(measure.column) or 0
    if measure.column in MONEY_COLUMNS:
        return (Decimal(int(total)) / 100).quantize(Decimal("0.01"))
    return int(total)


def _aggs() -> dict:
    return {**{c: Sum(c) for c in COLUMNS}, "people": Count("member_id", distinct=True)}


def _records(fact: Fact, *, scope_q: Q, exprs: dict, filters: dict):
    qs = StatRecord.objects.filter(fact=fact.key).filter(scope_q)
    for key, value in filters.items():
        qs = qs.filter(year=value) if key == "year" else qs.filter(**{fact.slot(key): value})
    grouped = qs.annotate(**exprs).values(*exprs).annotate(**_aggs()).order_by(*exprs)
    return [({k[2:]: g[k] for k in exprs}, g) for g in grouped], qs.aggregate(**_aggs())


def _period_range(grain: str, year: int) -> dict:
    if grain == "m":
        return {"period__gte": year * 100 + 1, "period__lte": year * 100 + 12}
    if grain == "q":
        return {"period__gte": year * 10 + 1, "period__lte": year * 10 + 4}
    return {"period": year}


def _cells(fact: Fact, anchor: OrgUnit, dims: list[str], filters: dict):
    year = filters.get("year")
    period_dim = next((d for d in dims if d in PERIODS), None)
    other = next((d for d in dims if d != ORG and d not in PERIODS), "")
    grain = PERIODS[period_dim] if period_dim else ("y" if year else "a")
    depth = anchor.depth + (1 if ORG in dims else 0)
    qs = StatCell.objects.filter(fact=fact.key, grain=grain, depth=depth, dim=other)
    qs = (qs.filter(unit_path__startswith=anchor.path) if ORG in dims
          else qs.filter(unit_path=anchor.path))
    if year:
        qs = qs.filter(**_period_range(grain, year))
    rows = []
    for cell in qs.values("unit_path", "period", "value", *COLUMNS, "people"):
        keys = {}
        for d in dims:
            keys[d] = (cell["unit_path"] if d == ORG else cell["period"] if d in PERIODS
                       else cell["value"])
        rows.append((keys, cell))
    total = StatCell.objects.filter(
        fact=fact.key, grain="y" if year else "a", depth=anchor.depth, dim="",
        unit_path=anchor.path, period=year or 0).values(*COLUMNS, "people").first() or {}
    if ORG in dims:  # the unit's own records (本级), not under any child
        own_exprs = {"k_org": Value(anchor.path, output_field=CharField())}
        for d in dims:
            if d in PERIODS:
                own_exprs[f"k_{d}"] = F(d)
            elif d != ORG:
                own_exprs[f"k_{d}"] = F(fact.slot(d))
        own, _own_total = _records(fact, scope_q=Q(org_path=anchor.path), exprs=own_exprs,
                                   filters=filters)
        rows += own
    return rows, total


def _uses_cells(anchors, dims: list[str], filters: dict) -> bool:
    if len(anchors) != 1 or not anchors[0][1]:
        return False
    anchor = anchors[0][0]
    others = [d for d in dims if d != ORG and d not in PERIODS]
    return (anchor.depth + (1 if ORG in dims else 0) <= cell_depth() and len(others) <= 1
            and set(filters) <= {"year"})


def _labels(info_key: str, dims: list[str], rows, anchors) -> dict[str, dict]:
    labels: dict[str, dict] = {}
    own = {d.key: d for d in (*_own_dims(info_key), *MEMBER_DIMS)}
    for d in dims:
        values = {str(keys[d]) for keys, _v in rows}
        if d == ORG:
            units = {u.path: u for u in OrgUnit.objects.filter(path__in=values)}
            anchor_paths = {u.path: sub for u, sub in anchors}
            labels[d] = {}
            for path in values:
                unit = units.get(path)
                name = unit.name if unit else _("（已调整的单位）")
                if len(anchors) == 1 and anchors[0][1] and path in anchor_paths:
                    name = _("%(u)s（本级）") % {"u": name}
                labels[d][path] = name
        elif d == "month":
            labels[d] = {v: f"{v[:4]}-{v[4:]}" for v in values}
        elif d == "quarter":
            labels[d] = {v: _("%(y)s年第%(q)s季度") % {"y": v[:4], "q": v[4:]} for v in values}
        elif d == "year":
            labels[d] = {v: _("%(y)s年") % {"y": v} for v in values}
        else:
            dim = own[d]
            named = dim.labels(values) if dim.labels else {}
            labels[d] = {v: str(named.get(v, v)) if v else _("未填") for v in values}
    return labels


def parse_params(params) -> dict:
    """The keyword arguments of ``statistic`` from a query string (the page and the API share
    it): ``fact``, ``dims`` (comma-separated, or repeated ``dim``), ``measures`` (likewise
    ``measure``), ``year``, ``unit``, and ``f_<dimension>`` for a filter on a dimension."""
    def many(plural: str, single: str) -> list[str]:
        values = [v for v in params.getlist(single) if v] if hasattr(params, "getlist") else []
        joined = params.get(plural) or ""
        values += [v.strip() for v in joined.split(",") if v.strip()]
        return list(dict.fromkeys(values))

    filters = {k[2:]: v for k, v in params.items() if k.startswith("f_") and v}
    if params.get("year"):
        filters["year"] = params.get("year")
    unit = params.get("unit") or None
    if unit is not None:
        if not str(unit).isdigit():
            raise StatsInputError(_("单位编号无效。"), code="invalid_filter",
                                  fields={"unit": str(unit)[:20]})
        unit = int(unit)
    return {"fact": (params.get("fact") or "").strip(), "dims": many("dims", "dim"),
            "measures": many("measures", "measure"), "filters": filters, "unit": unit}


def statistic(*, actor, fact: str, dims: list[str], measures: list[str],
              filters: dict | None = None, unit=None) -> Statistic:
    """The table of ``measures`` of ``fact`` by ``dims`` within ``actor``'s scope (see the
    module's docstring). Raises ``StatsInputError`` (422) on an unknown fact, dimension,
    measure or filter, ``PermissionDenied`` without ``stats.view``, ``NotFound`` for a unit
    outside the scope."""
    info = fact_info(fact)
    dims, chosen, filters = _clean(info, dims, measures, filters)
    anchors = scope_anchors(actor=actor, unit=unit)
    anchor = anchors[0][0] if len(anchors) == 1 else None
    if fact == budget.KEY:
        return _budget_statistic(info, dims, chosen, filters, anchors)
    fact_obj = get_fact(fact)
    if _uses_cells(anchors, dims, filters):
        raw, total = _cells(fact_obj, anchors[0][0], dims, filters)
        source = "cells"
    else:
        exprs = {}
        for d in dims:
            exprs[f"k_{d}"] = (_org_expr(anchors, "org_path") if d == ORG
                               else F(d) if d in PERIODS else F(fact_obj.slot(d)))
        raw, total = _records(fact_obj, scope_q=_scope_q(anchors, "org_path"), exprs=exprs,
                              filters=filters)
        source = "records"
    raw = [({d: str(v) for d, v in keys.items()}, sums) for keys, sums in raw]
    raw.sort(key=_row_order(dims))
    labels = _labels(fact, dims, raw, anchors)
    units = {}
    if ORG in dims:
        units = dict(OrgUnit.objects.filter(path__in={k[ORG] for k, _v in raw})
                     .values_list("path", "pk"))
    rows = []
    for keys, sums in raw:
        unit_id = units.get(keys.get(ORG))
        drill = unit_id if unit_id is not None and not (
            anchor is not None and keys.get(ORG) == anchor.path) else None
        rows.append(StatRow(
            keys=keys, labels={d: labels[d][keys[d]] for d in dims},
            values={m.key: _value(m, sums) for m in chosen}, unit_id=drill,
            link=_link(fact_obj, keys, filters, unit_id or (anchor.pk if anchor else None))))
    return Statistic(
        fact=info, dims=dims, measures=chosen, rows=rows,
        totals={m.key: _value(m, total) for m in chosen}, anchor=anchor, source=source,
        filters=filters,
        total_link=_link(fact_obj, {}, filters, anchor.pk if anchor else None))


def _link(fact: Fact, keys: dict, filters: dict, unit_id) -> str | None:
    if fact.list_url is None:
        return None
    params = {**filters, **{k: v for k, v in keys.items() if k != ORG}}
    if unit_id is not None:
        params["org_unit"] = unit_id
    return fact.list_url(params)


def _budget_statistic(info, dims, chosen, filters, anchors) -> Statistic:
    anchor = anchors[0][0] if len(anchors) == 1 else None
    org_expr = _org_expr(anchors, "org_unit__path")
    raw, totals = budget.budget_rows(
        scope_q=_scope_q(anchors, "org_unit__path"), org_expr=org_expr, dims=dims,
        measures=[m.key for m in chosen], year=filters.get("year"),
        source=filters.get("funding_source"))
    raw = [({d: str(v) for d, v in keys.items()}, values) for keys, values in raw]
    labels = _labels(budget.KEY, dims, raw, anchors)
    units = {}
    if ORG in dims:
        units = dict(OrgUnit.objects.filter(path__in={k[ORG] for k, _v in raw})
                     .values_list("path", "pk"))

    def money(v):
        return Decimal(v or 0).quantize(Decimal("0.01"))

    rows = [StatRow(keys=k, labels={d: labels[d][k[d]] for d in dims},
                    values={m: money(v) for m, v in values.items()},
                    unit_id=None if anchor is not None and k.get(ORG) == anchor.path
                    else units.get(k.get(ORG))) for k, values in raw]
    return Statistic(fact=info, dims=dims, measures=chosen, rows=rows,
                     totals={m: money(v) for m, v in totals.items()}, anchor=anchor,
                     source="live", filters=filters)
