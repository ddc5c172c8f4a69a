"""Set-up for the statistics tests: the demo union (applications in every state, payments,
a reversal, a hardship archive and visits, all made through the services), its store built,
and three readers: the whole tree, one 站段's cadre and another 站段's cadre."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope, User
from unionaid.assistance.models import Application
from unionaid.org.models import OrgUnit
from unionaid.stats.store import rebuild


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@dataclass
class Readers:
    bureau: User
    station: User
    other_station: User
    station_unit: OrgUnit
    other_unit: OrgUnit
    no_stats: User


@pytest.fixture
def demo(db):
    call_command("demo", "--members", "300", "--seed", "7", "--applications", "40",
                 "--visits", "30", "--no-lists", stdout=StringIO(), skip_checks=True)
    # spread the applications over several months and quarters (the demo files them today)
    for i, pk in enumerate(Application.objects.order_by("pk").values_list("pk", flat=True)):
        Application.objects.filter(pk=pk, submitted_at__isnull=False).update(
            submitted_at=F("submitted_at") - dt.timedelta(days=(i % 4) * 50))
    rebuild()


@pytest.fixture
def readers(demo) -> Readers:
    root = OrgUnit.objects.get_root_nodes().get()
    # the 站段 with the most applications, and another one with some
    by_station = {}
    for path in Application.objects.values_list("org_unit__path", flat=True):
        by_station[path[:8]] = by_station.get(path[:8], 0) + 1
    busiest = sorted(by_station, key=lambda p: -by_station[p])
    station = OrgUnit.objects.get(path=busiest[0])
    other = (OrgUnit.objects.get(path=busiest[1]) if len(busiest) > 1
             else OrgUnit.objects.filter(depth=2).exclude(pk=station.pk).first())
    everything = make_role("stats_all", ["org.view", "stats.view"], DataScope.ALL)
    subtree = make_role("stats_station", ["org.view", "stats.view"], DataScope.UNIT_AND_BELOW)
    return Readers(
        bureau=make_staff("stats_bureau", root, [everything]),
        station=make_staff("stats_station", station, [subtree]),
        other_station=make_staff("stats_other", other, [subtree]),
        station_unit=station, other_unit=other,
        no_stats=make_staff("no_stats", root, [make_role("plain", ["org.view"], DataScope.ALL)]))


@pytest.fixture
def reader(union) -> User:
    """A reader of the whole (test) tree, with no demo data: for input checks."""
    return make_staff("stats_reader", union.bureau,
                      [make_role("stats_reader", ["org.view", "stats.view"], DataScope.ALL)])
