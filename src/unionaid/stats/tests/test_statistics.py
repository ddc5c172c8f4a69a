"""The statistics equal the sums of the underlying records — applications, the ledger, the
archive and the visits — under several dimension choices and scopes, from the cells and from
the records alike, and never count anything outside the reader's scope."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from unionaid.archive.models import HardshipRecord
from unionaid.assistance.models import Application, ApplicationStatus
from unionaid.assistance.services.applications import SUBJECT_KIND
from unionaid.core.errors import NotFound, PermissionDenied
from unionaid.funds.models import Budget, Disbursement, DisbursementStatus, LedgerEntry
from unionaid.org.models import OrgUnit
from unionaid.stats.registry import StatsInputError
from unionaid.stats.selectors import statistic
from unionaid.stats.store import age_band
from unionaid.visits.models import Visit

pytestmark = pytest.mark.django_db

APPROVED = (ApplicationStatus.APPROVED, ApplicationStatus.PAID,
            ApplicationStatus.PAYMENT_REVERSED)


def _table(stat) -> dict:
    return {tuple(r.keys[d] for d in stat.dims): r.values for r in stat.rows}


def expected_applications(prefix: str, key) -> tuple[dict, dict]:
    """Cases, people, approved and paid amounts per ``key(application)``, straight from the
    applications under ``prefix`` (and the totals)."""
    groups: dict = defaultdict(lambda: {"cases": 0, "people": set(),
                                        "amount_approved": Decimal(0),
                                        "amount_paid": Decimal(0)})
    paid = set(Disbursement.objects.filter(subject_kind=SUBJECT_KIND,
                                           status=DisbursementStatus.PAID)
               .values_list("subject_id", flat=True))
    total = {"cases": 0, "people": set(), "amount_approved": Decimal(0),
             "amount_paid": Decimal(0)}
    apps = (Application.objects.filter(org_unit__path__startswith=prefix,
                                       submitted_at__isnull=False)
            .exclude(status=ApplicationStatus.DRAFT)
            .select_related("item", "org_unit", "member"))
    for a in apps:
        for g in (groups[key(a)], total):
            g["cases"] += 1
            g["people"].add(a.member_id)
            if a.status in APPROVED:
                g["amount_approved"] += a.amount
            if a.status == ApplicationStatus.PAID and a.pk in paid:
                g["amount_paid"] += a.amount

    def flat(g):
        return {**g, "people": len(g["people"])}

    return {k: flat(g) for k, g in groups.items()}, flat(total)


def _month(a) -> str:
    day = timezone.localdate(a.submitted_at)
    return str(day.year * 100 + day.month)


MEASURES = ["cases", "people", "amount_approved", "amount_paid"]


def test_applications_by_unit_category_and_month_equal_the_applications(readers):
    root = OrgUnit.objects.get_root_nodes().get()
    stat = statistic(actor=readers.bureau, fact="applications",
                     dims=["org", "category", "month"], measures=MEASURES)
    assert stat.source == "cells"
    expected, total = expected_applications(
        root.path, lambda a: (a.org_unit.path[:8], str(a.item.category_id), _month(a)))
    assert _table(stat) == expected
    assert stat.totals == total
    assert len({k[2] for k in expected}) >= 3  # several months, so the grouping means something
    # the same for one 站段, drilled down to its 车间 (cells), by quarter
    station = readers.station_unit

    def quarter(a):
        day = timezone.localdate(a.submitted_at)
        return str(day.year * 10 + (day.month - 1) // 3 + 1)

    stat = statistic(actor=readers.bureau, fact="applications", dims=["org", "quarter"],
                     measures=MEASURES, unit=station.pk)
    expected, total = expected_applications(
        station.path, lambda a: (a.org_unit.path[:12], quarter(a)))
    assert _table(stat) == expected
    assert stat.totals == total


def test_two_breakdowns_and_a_filter_read_the_records_and_still_agree(readers):
    station = readers.station_unit
    year = timezone.localdate().year
    stat = statistic(actor=readers.station, fact="applications", dims=["category", "sex"],
                     measures=MEASURES, filters={"year": year})
    assert stat.source == "records"
    expected, _total = expected_applications(
        station.path,
        lambda a: (str(a.item.category_id), a.member.sex)
        if timezone.localdate(a.submitted_at).year == year else ("other",))
    expected.pop(("other",), None)
    assert _table(stat) == expected
    assert stat.totals["cases"] == sum(g["cases"] for g in expected.values())
    # by age band on the day submitted, filtered on one category
    category = next(iter(expected))[0]
    stat = statistic(actor=readers.bureau, fact="applications", dims=["age_band"],
                     measures=["cases", "people"], filters={"category": category})
    expected, _total = expected_applications(
        "", lambda a: age_band(a.member.birth_date, timezone.localdate(a.submitted_at))
        if str(a.item.category_id) == category else None)
    expected.pop(None, None)
    assert _table(stat) == {(k,): {"cases": v["cases"], "people": v["people"]}
                            for k, v in expected.items()}


def test_age_bands_come_youngest_first(readers):
    stat = statistic(actor=readers.bureau, fact="applications", dims=["age_band", "sex"],
                     measures=["cases"])
    bands = list(dict.fromkeys(r.keys["age_band"] for r in stat.rows))
    assert "lt30" in bands, bands
    assert len(bands) >= 3, bands  # the applicants span several bands
    assert bands == sorted(bands, key=["lt30", "30", "40", "50", "60", ""].index)


def test_payments_agree_with_the_ledger_and_the_budgets(readers):
    stat = statistic(actor=readers.bureau, fact="payments", dims=["funding_source"],
                     measures=["payments", "amount_paid", "people"])
    paid_by_source = dict(Budget.objects.values_list("funding_source__code")
                          .annotate(s=Sum("paid")).values_list("funding_source__code", "s"))
    for row in stat.rows:
        assert row.values["amount_paid"] == paid_by_source[row.keys["funding_source"]]
    assert stat.totals["amount_paid"] == Budget.objects.aggregate(s=Sum("paid"))["s"] > 0
    assert stat.totals["amount_paid"] == LedgerEntry.objects.filter(account="paid").aggregate(
        s=Sum("amount"))["s"]
    paid = Disbursement.objects.filter(status=DisbursementStatus.PAID)
    assert stat.totals["payments"] == paid.count()
    assert stat.totals["people"] == paid.values("member_id").distinct().count()
    # a reversal in the demo: reversed money is not counted as paid
    assert Disbursement.objects.filter(status=DisbursementStatus.REVERSED).exists()
    # budgets: allocated = used + reserved + left, within the 站段
    stat = statistic(actor=readers.station, fact="budget", dims=["funding_source"],
                     measures=["budget_allocated", "budget_used", "budget_reserved",
                               "budget_left"])
    t = stat.totals
    assert t["budget_allocated"] == t["budget_used"] + t["budget_reserved"] + t["budget_left"]
    station_paid = Budget.objects.filter(
        org_unit__path__startswith=readers.station_unit.path).aggregate(s=Sum("paid"))["s"]
    assert t["budget_used"] == station_paid


def test_hardship_households_and_visits_equal_the_archive_and_the_visit_ledger(readers):
    stat = statistic(actor=readers.bureau, fact="hardship", dims=["hardship_category"],
                     measures=["households_entered", "households_left", "people"])
    records = HardshipRecord.objects.filter(enrolled_on__isnull=False)
    assert records.exists()
    expected = {}
    for r in records:
        g = expected.setdefault((r.category,), {"households_entered": 0, "households_left": 0,
                                                "people": set()})
        g["households_entered"] += 1
        g["households_left"] += int(bool(r.exited_on or r.closed_on))
        g["people"].add(r.member_id)
    assert _table(stat) == {k: {**v, "people": len(v["people"])} for k, v in expected.items()}
    stat = statistic(actor=readers.bureau, fact="visits", dims=["org", "visit_kind"],
                     measures=["visits", "hardship_found"])
    expected = defaultdict(lambda: {"visits": 0, "hardship_found": 0})
    for v in Visit.objects.select_related("org_unit"):
        g = expected[(v.org_unit.path[:8], v.kind)]
        g["visits"] += 1
        g["hardship_found"] += int(v.hardship_found)
    assert _table(stat) == dict(expected)


def test_a_station_cadre_never_sees_a_figure_from_outside_their_subtree(readers):
    station, other = readers.station_unit, readers.other_unit
    stat = statistic(actor=readers.station, fact="applications", dims=["org"],
                     measures=MEASURES)
    assert stat.anchor == station
    _expected, total = expected_applications(station.path, lambda a: a.org_unit.path[:12])
    assert stat.totals == total
    whole = statistic(actor=readers.bureau, fact="applications", dims=[], measures=MEASURES)
    assert whole.totals["cases"] > stat.totals["cases"] > 0
    assert all(r.keys["org"].startswith(station.path) for r in stat.rows)
    # drilling into another 站段, or up to the root, is "not found"
    for unit in (other, OrgUnit.objects.get_root_nodes().get()):
        with pytest.raises(NotFound):
            statistic(actor=readers.station, fact="applications", dims=["org"],
                      measures=["cases"], unit=unit.pk)
    # drilling down inside is fine, and stays inside
    child = OrgUnit.objects.filter(path__startswith=station.path, depth=3).first()
    stat = statistic(actor=readers.station, fact="payments", dims=["org", "category"],
                     measures=["amount_paid"], unit=child.pk)
    assert all(r.keys["org"].startswith(child.path) for r in stat.rows)
    # the records path (two breakdowns) and the budget keep the scope too
    stat = statistic(actor=readers.station, fact="applications", dims=["org", "sex", "item"],
                     measures=["cases"])
    assert stat.source == "records"
    assert stat.totals["cases"] == total["cases"]
    budget = statistic(actor=readers.station, fact="budget", dims=["org"],
                       measures=["budget_used"])
    assert budget.totals["budget_used"] == Budget.objects.filter(
        org_unit__path__startswith=station.path).aggregate(s=Sum("paid"))["s"]
    # nothing at all without stats.view
    with pytest.raises(PermissionDenied):
        statistic(actor=readers.no_stats, fact="applications", dims=[], measures=["cases"])


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"fact": "salaries", "dims": [], "measures": ["cases"]}, "unknown_fact"),
    ({"fact": "applications", "dims": ["colour"], "measures": ["cases"]}, "unknown_dimension"),
    ({"fact": "applications", "dims": [], "measures": ["income"]}, "unknown_measure"),
    ({"fact": "applications", "dims": [], "measures": []}, "no_measure"),
    ({"fact": "applications", "dims": ["org", "sex", "item", "month"], "measures": ["cases"]},
     "too_many_dimensions"),
    ({"fact": "applications", "dims": ["month", "year"], "measures": ["cases"]},
     "period_conflict"),
    ({"fact": "applications", "dims": [], "measures": ["cases"], "filters": {"year": "x"}},
     "invalid_filter"),
    ({"fact": "applications", "dims": [], "measures": ["cases"], "filters": {"org": "1"}},
     "unknown_dimension"),
])
def test_it_rejects_bad_input_with_a_code(reader, kwargs, code):
    with pytest.raises(StatsInputError) as exc:
        statistic(actor=reader, **kwargs)
    assert exc.value.code == code
    assert exc.value.status == 422
