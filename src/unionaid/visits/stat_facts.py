"""The visits fact for the statistics (``stats.registry``): every visit (走访) on its day,
under the unit that recorded it: visits, visits that found hardship, people visited.

Dimensions: kind (home or workplace) and campaign (大走访 行动; "" outside any campaign).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from unionaid.stats.registry import Dimension, Fact, FactRow, Measure, register_fact
from unionaid.visits.models import Visit, VisitCampaign, VisitKind

CHUNK = 2000


def _campaign_labels(values) -> dict[str, str]:
    ids = [int(v) for v in values if v.isdigit()]
    return {str(pk): name for pk, name in
            VisitCampaign.objects.filter(pk__in=ids).values_list("pk", "name")}


def visit_rows(ids: list[int]) -> dict[int, list[FactRow]]:
    return {v["pk"]: [FactRow(
        source_id=v["pk"], org_unit_id=v["org_unit_id"], on=v["visited_on"],
        member_id=v["member_id"], values={"n1": 1, "n2": int(v["hardship_found"])},
        dims={"visit_kind": v["kind"], "campaign": str(v["campaign_id"] or "")})]
        for v in Visit.objects.filter(pk__in=ids).values(
            "pk", "org_unit_id", "member_id", "visited_on", "hardship_found", "kind",
            "campaign_id")}


def visits_changed(since: dt.datetime) -> list[int]:
    return list(Visit.objects.filter(created_at__gte=since).values_list("pk", flat=True))


def _all_ids() -> Iterator[list[int]]:
    last = 0
    while ids := list(Visit.objects.filter(pk__gt=last).order_by("pk")
                      .values_list("pk", flat=True)[:CHUNK]):
        yield ids
        last = ids[-1]


VISITS = Fact(
    key="visits", label=_("走访"),
    dimensions=(Dimension("visit_kind", _("走访类型"),
                          lambda values: {str(k): str(v) for k, v in VisitKind.choices}),
                Dimension("campaign", _("走访行动"), _campaign_labels)),
    measures=(Measure("visits", _("走访次数"), column="n1"),
              Measure("hardship_found", _("发现困难次数"), column="n2"),
              Measure("people", _("走访职工人数"), kind="people")),
    changed=visits_changed, rows=visit_rows, all_ids=_all_ids, order=40,
)


def register() -> None:
    register_fact(VISITS)
