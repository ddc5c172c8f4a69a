"""The reads behind the funds ledgers, within the reader's ``funds.view`` scope.

Money belongs to the unit whose budget it comes from: a payment is in scope (and inside a chosen
unit) when its budget's unit is, as on the funds pages (``funds.selectors``). The rows are
plain tuples (``values_list``) of the columns the ledger writes, ordered, to be read with
``iterator(chunk_size=…)``; what a chunk needs besides (units, items) is looked up once per
chunk (``units_by_id``, ``items_by_subject``), never per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from unionaid.accounts.access import access_for
from unionaid.assistance.models import Application, AssistanceItem
from unionaid.assistance.services.applications import SUBJECT_KIND
from unionaid.funds.models import Account, Budget, Disbursement, FundingSource, LedgerEntry
from unionaid.org.models import OrgUnit

PERM = "funds.view"
T = TypeVar("T")

# The columns of a payment row, in order (``PaymentRow`` names them for the writer).
PAYMENT_FIELDS = (
    "pk", "paid_at", "amount", "status", "subject_kind", "subject_id", "batch_id",
    "reversed_at", "reversal_reason", "member__name", "member__id_number",
    "member__bank_account", "member__org_unit_id", "budget__org_unit_id",
    "budget__funding_source_id",
)


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) in the site's time zone (Asia/Shanghai): the days as people
    count them, as bounds an index can use."""
    tz = timezone.get_current_timezone()
    low = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return low, high


def payment_ledger_rows(*, user, unit: OrgUnit | None, start: dt.date,
                        end: dt.date) -> QuerySet:
    """Every payment made in [start, end] (``paid_at`` that day, Asia/Shanghai) from a budget
    in ``user``'s funds.view scope (inside ``unit`` if given), reversed later or not, by the
    moment it was paid; rows of ``PAYMENT_FIELDS``."""
    low, high = day_bounds(start, end)
    qs = (Disbursement.objects
          .filter(access_for(user).scope_q(PERM, unit_field="budget__org_unit"))
          .filter(paid_at__gte=low, paid_at__lt=high))
    if unit is not None:
        qs = qs.filter(budget__org_unit__path__startswith=unit.path)
    return qs.order_by("paid_at", "pk").values_list(*PAYMENT_FIELDS)


def budget_ledger_rows(*, user, unit: OrgUnit | None, year: int) -> QuerySet:
    """The budgets of ``year`` of units in ``user``'s funds.view scope (inside ``unit`` if
    given), by unit (tree order) and funding source: (pk, unit id, source id)."""
    qs = Budget.objects.filter(access_for(user).scope_q(PERM, unit_field="org_unit"),
                               year=year)
    if unit is not None:
        qs = qs.filter(org_unit__path__startswith=unit.path)
    return (qs.order_by("org_unit__path", "funding_source__code", "pk")
            .values_list("pk", "org_unit_id", "funding_source_id"))


def budget_figures(*, budget_ids: list[int], start: dt.date,
                   end: dt.date) -> dict[int, dict[str, object]]:
    """budget id → each account's balance at the end of ``end`` (the ledger's entries up to
    then, as ``funds.services.ledger_recompute`` sums them) and ``period_paid``: what the paid
    account moved in [start, end] (payments less reversals). One query."""
    low, high = day_bounds(start, end)
    rows = (LedgerEntry.objects.filter(budget_id__in=budget_ids, created_at__lt=high)
            .values("budget_id", "account")
            .annotate(total=Sum("amount"), in_period=Sum("amount", filter=Q(created_at__gte=low)))
            .order_by())
    figures: dict[int, dict[str, object]] = {}
    for row in rows:
        found = figures.setdefault(row["budget_id"], {})
        found[row["account"]] = row["total"]
        if row["account"] == Account.PAID:
            found["period_paid"] = row["in_period"]
    return figures


def chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """``rows`` in lists of ``size`` (the iterator's own chunks, so lookups go per chunk)."""
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


class Lookups:
    """Names the rows refer to by id, loaded as chunks need them and kept for the export (a
    tree's units, a catalog's items and the funding sources are few)."""

    def __init__(self):
        self.units: dict[int, OrgUnit] = {}
        self.sources = dict(FundingSource.objects.values_list("pk", "name"))
        self.items: dict[int, tuple[str, str]] = {
            pk: (name, category) for pk, name, category in
            AssistanceItem.objects.values_list("pk", "name", "category__name")}

    def load_units(self, ids: Iterable[int]) -> None:
        missing = {pk for pk in ids if pk is not None and pk not in self.units}
        if missing:
            self.units.update((u.pk, u) for u in OrgUnit.objects.filter(pk__in=missing)
                              .only("pk", "path", "name"))

    def unit_name(self, pk) -> str:
        unit = self.units.get(pk)
        return unit.name if unit is not None else ""

    def items_by_subject(self, rows: list[tuple], kind_at: int, id_at: int
                         ) -> dict[int, tuple[str, str]]:
        """application id → (item name, category name) for the rows' applications."""
        ids = [row[id_at] for row in rows if row[kind_at] == SUBJECT_KIND]
        if not ids:
            return {}
        found = dict(Application.objects.filter(pk__in=ids).values_list("pk", "item_id"))
        return {pk: self.items.get(item_id, ("", "")) for pk, item_id in found.items()}
