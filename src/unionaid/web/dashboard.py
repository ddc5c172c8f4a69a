"""The home dashboard's charts (首页看板): what each role sees of the union's portrait.

Every figure comes from ``stats.selectors.statistic`` (within the user's ``stats.view`` scope,
the same tables the statistics page shows), the to-do counts from the approval engine, the
leads' conversion from matching and the open findings from the auditor's checks. Each chart
links to the statistics page that shows the table behind it, and a unit's bar to that unit's
own breakdown (the drill-down). A chart the user has no right to is left out, never empty.

Which charts, by right:

* ``archive.view``  hardship households entered and left this year, by unit of the next level;
* ``assistance.view``  applications and money paid by month; the money paid by category;
* ``funds.view``  the budgets of the year by funding source: used, reserved, left;
* ``visits.view``  visits by month, with the hardship they found;
* ``matching.view``  leads raised, accepted and paid (the conversion);
* ``checks.view``  the auditor's open findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.accounts.access import access_for
from unionaid.approvals.selectors import todo_for_user
from unionaid.checks.selectors import checks_overview
from unionaid.core.errors import ServiceError
from unionaid.matching.leads.selectors import conversion
from unionaid.matching.selectors import VIEW as LEADS_VIEW
from unionaid.stats.selectors import PERM as STATS_VIEW
from unionaid.stats.selectors import statistic
from unionaid.stats.templatetags.stats import figure

COUNT_CAP = 99


@dataclass
class Chart:
    """One chart: what ``static/js/dashboard.js`` draws (``data``) and the table it shows for
    printing and for screen readers (``rows``)."""

    key: str
    title: str
    kind: str  # "bar" | "line" | "pie" | "stack"
    link: str
    categories: list[str] = field(default_factory=list)
    series: list[dict] = field(default_factory=list)
    drill: list[str | None] = field(default_factory=list)  # a category's drill-down address
    rows: list[tuple[str, list[str]]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)

    @property
    def data_id(self) -> str:
        return f"chart-data-{self.key}"

    @property
    def data(self) -> dict:
        return {"kind": self.kind, "categories": self.categories, "series": self.series,
                "drill": self.drill}


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    url: str
    key: str


def _stats_link(fact: str, dims: list[str], measures: list[str], year: int, unit=None) -> str:
    query = {"fact": fact, "dims": ",".join(dims), "measures": ",".join(measures),
             "year": year}
    if unit is not None:
        query["unit"] = unit
    return f"{reverse('stats:statistic')}?{urlencode(query)}"


def _number(value) -> float:
    return float(value or 0)


@dataclass(frozen=True)
class ChartSpec:
    perm: str
    key: str
    title: str
    kind: str
    fact: str
    dim: str
    measures: tuple[str, ...]


CHARTS = (
    ChartSpec("archive.view", "hardship", gettext_lazy("困难职工户：各单位建档与出档"), "bar",
              "hardship", "org", ("households_entered", "households_left")),
    ChartSpec("assistance.view", "trend", gettext_lazy("帮扶申请与发放：逐月趋势"), "line",
              "applications", "month", ("cases", "amount_paid")),
    ChartSpec("assistance.view", "structure", gettext_lazy("帮扶资金支出结构（按类别）"), "pie",
              "payments", "category", ("amount_paid",)),
    ChartSpec("funds.view", "budget", gettext_lazy("预算执行（按经费口径）"), "stack",
              "budget", "funding_source", ("budget_used", "budget_reserved", "budget_left")),
    ChartSpec("visits.view", "visits", gettext_lazy("走访进度：逐月走访与发现困难"), "line",
              "visits", "month", ("visits", "hardship_found")),
)


def _chart(user, spec: ChartSpec, *, year: int) -> Chart | None:
    """The chart of ``spec`` for this year; None when the statistics cannot answer it for
    this user (the fact is not registered, nothing in scope)."""
    key, kind, fact, dim = spec.key, spec.kind, spec.fact, spec.dim
    title, measures = str(spec.title), list(spec.measures)
    try:
        stat = statistic(actor=user, fact=fact, dims=[dim], measures=measures,
                         filters={"year": year})
    except ServiceError:
        return None
    chart = Chart(key=key, title=title, kind=kind,
                  link=_stats_link(fact, [dim], measures, year))
    chart.categories = [row.labels[dim] for row in stat.rows]
    chart.series = [{"name": str(m.label), "data": [_number(row.values[m.key])
                                                    for row in stat.rows]}
                    for m in stat.measures]
    chart.drill = [_stats_link(fact, [dim], measures, year, unit=row.unit_id)
                   if dim == "org" and row.unit_id else None for row in stat.rows]
    chart.headers = [str(m.label) for m in stat.measures]
    chart.rows = [(row.labels[dim], [figure(row.values[m.key]) for m in stat.measures])
                  for row in stat.rows]
    return chart


def charts_for(*, user, year: int | None = None) -> list[Chart]:
    """The user's charts for ``year`` (this year by default), in the order shown."""
    access = access_for(user)
    if not access.has_perm(STATS_VIEW):
        return []
    year = year or timezone.localdate().year
    wanted = [spec for spec in CHARTS if access.has_perm(spec.perm)]
    charts = [_chart(user, spec, year=year) for spec in wanted]
    return [c for c in charts if c is not None]


def _capped(n: int) -> str:
    return f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)


def figures_for(*, user) -> list[Figure]:
    """The counts beside the charts: to-do and overdue, leads and their conversion, the
    auditor's open findings — each linking to its list."""
    access = access_for(user)
    out: list[Figure] = []
    if access.is_staff_member:
        todo = todo_for_user(user=user).order_by()
        overdue = todo.filter(due_at__lt=timezone.now())
        todo_url = reverse("approvals:todo")
        out.append(Figure(_("待办"), _capped(todo[: COUNT_CAP + 1].count()), todo_url, "todo"))
        out.append(Figure(_("其中已超期"), _capped(overdue[: COUNT_CAP + 1].count()),
                          f"{todo_url}?overdue=1", "overdue"))
    if access.has_perm(LEADS_VIEW):
        figures = conversion(user=user)
        leads_url = reverse("matching:lead-list")
        out.append(Figure(_("政策找人线索"), str(figures["raised"]), leads_url, "leads"))
        out.append(Figure(_("已受理线索"), str(figures["accepted"]), leads_url, "leads_accepted"))
        rate = figures["accept_rate"]
        out.append(Figure(_("线索转化率"), "—" if rate is None else f"{rate:.0%}", leads_url,
                          "leads_rate"))
        out.append(Figure(_("线索已发放"), str(figures["paid"]), leads_url, "leads_paid"))
    if access.has_perm("checks.view"):
        open_findings = sum(summary.open for summary in checks_overview(user=user))
        out.append(Figure(_("待核查疑点"), str(open_findings), reverse("checks:check-list"),
                          "findings"))
    return out
