"""The statistics registry: the facts a domain publishes, with their dimensions and measures.

A domain registers its facts in ``AppConfig.ready()`` (``register_fact``), as it registers export
kinds and scheduled jobs; the engine knows no domain. A **fact** is one kind of record counted by
the statistics (an assistance application, a payment, a hardship household entering or leaving
the archive, a visit). For each source record the fact gives zero or more ``FactRow``: the unit
and date it counts under, the member it is about, its own dimension values and the values of its
additive columns. The engine adds the dimensions every fact shares — the org tree, month /
quarter / year, and the member's sex, age band and employment form — and keeps the figures
current (``stats.store``).

Storage columns are shared by every fact: at most ``FACT_DIMENSION_SLOTS`` own dimensions
(``d1``…``d3``), integer columns ``n1``…``n3`` and money columns ``a1``, ``a2``. A fact's
``Measure`` names the column it sums (``kind="sum"``), or the numerator and denominator of an
average (``kind="average"``), or counts distinct members (``kind="people"``).

An unknown fact, dimension or measure is an input error (``StatsInputError``, 422), never a
default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from unionaid.core.errors import ServiceError

FACT_DIMENSION_SLOTS = 3
INT_COLUMNS = ("n1", "n2", "n3")
MONEY_COLUMNS = ("a1", "a2")
COLUMNS = INT_COLUMNS + MONEY_COLUMNS

# The dimensions every fact has, filled by the engine.
ORG = "org"
PERIODS = {"month": "m", "quarter": "q", "year": "y"}  # dimension key → grain code
MEMBER_DIMENSIONS = ("sex", "age_band", "employment_form")


class StatsInputError(ServiceError):
    """A statistic asked with an unknown fact, dimension, measure or filter (HTTP 422)."""

    status = 422
    default_code = "invalid_statistic"
    default_message = _("统计条件无效。")


@dataclass(frozen=True)
class Dimension:
    """One way to break a fact down. ``labels`` turns stored values into Chinese labels (one
    query for all of them); without it the value is shown as it is."""

    key: str
    label: str
    labels: Callable[[Iterable[str]], dict[str, str]] | None = None


@dataclass(frozen=True)
class Measure:
    """One figure of a fact: ``sum`` of ``column``; ``average`` = sum(``column``) /
    sum(``denominator``); ``people`` = distinct members (exact, see ``stats.store``); ``live``
    = read by the engine from an engine below it (the budget figures, ``stats.budget``)."""

    key: str
    label: str
    kind: str = "sum"
    column: str = ""
    denominator: str = ""
    money: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("sum", "average", "people", "live"):
            raise ValueError(f"measure {self.key!r}: unknown kind {self.kind!r}")
        if self.kind in ("sum", "average") and self.column not in COLUMNS:
            raise ValueError(f"measure {self.key!r}: unknown column {self.column!r}")
        if self.kind == "average" and self.denominator not in INT_COLUMNS:
            raise ValueError(f"measure {self.key!r}: unknown denominator {self.denominator!r}")


@dataclass(frozen=True)
class FactRow:
    """What one source record contributes: counted under ``org_unit_id`` on ``on``.
    ``part`` tells apart several rows of one record (a household entering, then leaving)."""

    source_id: int
    org_unit_id: int
    on: dt.date
    member_id: int | None
    dims: dict[str, str] = field(default_factory=dict)
    values: dict[str, int | Decimal] = field(default_factory=dict)
    part: int = 0


@dataclass(frozen=True)
class Fact:
    """A kind of record the statistics count.

    * ``changed(since)``: ids of the source records that may have changed at or after ``since``
      (a superset is fine: an unchanged record is a no-op);
    * ``rows(ids)``: the current rows of those records, ``{source_id: [FactRow, …]}`` (a record
      missing from the answer, or with no rows, counts nothing);
    * ``all_ids()``: every source id, in chunks, for the full rebuild;
    * ``list_url(filters)``: the address of the list behind a figure (``{"org_unit": id,
      "year": 2025, <dimension>: value}``), or None where there is no such list.
    """

    key: str
    label: str
    dimensions: tuple[Dimension, ...]
    measures: tuple[Measure, ...]
    changed: Callable[[dt.datetime], Iterable[int]]
    rows: Callable[[list[int]], dict[int, list[FactRow]]]
    all_ids: Callable[[], Iterator[list[int]]]
    list_url: Callable[[dict], str | None] | None = None
    order: int = 100

    def __post_init__(self) -> None:
        if len(self.dimensions) > FACT_DIMENSION_SLOTS:
            raise ValueError(f"fact {self.key!r}: at most {FACT_DIMENSION_SLOTS} own dimensions")
        taken = {ORG, *PERIODS, *MEMBER_DIMENSIONS}
        for dim in self.dimensions:
            if dim.key in taken:
                raise ValueError(f"fact {self.key!r}: dimension {dim.key!r} is the engine's")
            taken.add(dim.key)

    def slot(self, dim_key: str) -> str:
        """The storage column of one of this fact's own or member dimensions."""
        for i, dim in enumerate(self.dimensions, start=1):
            if dim.key == dim_key:
                return f"d{i}"
        return f"d{FACT_DIMENSION_SLOTS + 1 + MEMBER_DIMENSIONS.index(dim_key)}"

    def measure(self, key: str) -> Measure:
        for m in self.measures:
            if m.key == key:
                return m
        raise StatsInputError(_("没有这项统计指标：%(m)s。") % {"m": key}, code="unknown_measure",
                              fields={"measures": key})


_FACTS: dict[str, Fact] = {}


def register_fact(fact: Fact) -> None:
    """Publish a fact (in ``AppConfig.ready()``). A key registered twice is a programming
    error."""
    if fact.key in _FACTS:
        raise ValueError(f"fact {fact.key!r} is registered twice")
    _FACTS[fact.key] = fact


def unregister_fact(key: str) -> None:
    """For tests that register throwaway facts."""
    _FACTS.pop(key, None)


def registered_facts() -> list[Fact]:
    return sorted(_FACTS.values(), key=lambda f: (f.order, f.key))


def get_fact(key: str) -> Fact:
    try:
        return _FACTS[key]
    except KeyError:
        raise StatsInputError(_("没有这类统计对象：%(f)s。") % {"f": key}, code="unknown_fact",
                              fields={"fact": key}) from None
