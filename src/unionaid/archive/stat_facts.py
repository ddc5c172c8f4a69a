"""The archive's fact for the statistics (``stats.registry``): hardship households
(困难职工户) entering the archive (建档, on ``enrolled_on``) and leaving it (on ``exited_on``,
解困脱困, or else ``closed_on``, 销档), under the record's unit.

Dimensions: hardship category (the record's category now) and cause of hardship — the
**first** cause listed on the record, so that each household counts once under one cause and
the causes add up to the total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from unionaid.archive.models import HardshipCategory, HardshipRecord
from unionaid.stats.registry import Dimension, Fact, FactRow, Measure, register_fact
from unionaid.visits.models import HardshipCause

CHUNK = 2000
ENTERED, LEFT = 0, 1


def _labels(choices):
    return lambda values: {str(k): str(v) for k, v in choices}


def hardship_rows(ids: list[int]) -> dict[int, list[FactRow]]:
    out: dict[int, list[FactRow]] = {}
    for r in HardshipRecord.objects.filter(pk__in=ids).values(
            "pk", "org_unit_id", "member_id", "category", "causes", "enrolled_on", "exited_on",
            "closed_on"):
        dims = {"hardship_category": r["category"],
                "cause": (r["causes"] or "").split(",")[0].strip()}
        rows = []
        if r["enrolled_on"] is not None:
            rows.append(FactRow(source_id=r["pk"], part=ENTERED, org_unit_id=r["org_unit_id"],
                                on=r["enrolled_on"], member_id=r["member_id"], dims=dims,
                                values={"n1": 1}))
            left_on = r["exited_on"] or r["closed_on"]
            if left_on is not None:
                rows.append(FactRow(source_id=r["pk"], part=LEFT, org_unit_id=r["org_unit_id"],
                                    on=left_on, member_id=r["member_id"], dims=dims,
                                    values={"n2": 1}))
        out[r["pk"]] = rows
    return out


def hardship_changed(since: dt.datetime) -> list[int]:
    day = since.date() - dt.timedelta(days=1)  # dates are local days: one day of margin
    return list(HardshipRecord.objects.filter(
        Q(applied_at__gte=since) | Q(enrolled_on__gte=day) | Q(exited_on__gte=day)
        | Q(closed_on__gte=day) | Q(last_recheck_on__gte=day)
        | Q(exit_applied_at__gte=since)).values_list("pk", flat=True))


def _all_ids() -> Iterator[list[int]]:
    last = 0
    while ids := list(HardshipRecord.objects.filter(pk__gt=last).order_by("pk")
                      .values_list("pk", flat=True)[:CHUNK]):
        yield ids
        last = ids[-1]


HARDSHIP = Fact(
    key="hardship", label=_("困难职工户"),
    dimensions=(Dimension("hardship_category", _("困难类别"), _labels(HardshipCategory.choices)),
                Dimension("cause", _("致困原因"), _labels(HardshipCause.choices))),
    measures=(Measure("households_entered", _("新建档户数"), column="n1"),
              Measure("households_left", _("脱困出档户数"), column="n2"),
              Measure("people", _("人数"), kind="people")),
    changed=hardship_changed, rows=hardship_rows, all_ids=_all_ids, order=30,
)


def register() -> None:
    register_fact(HARDSHIP)
