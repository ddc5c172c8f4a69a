"""The campaign dashboard on the worked example of ``helpers_campaigns.build_example``:
exact figures in total, per cadre and per covered unit, "behind" against a fixed day, and the
figures a 站段 cadre sees (their scope only)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from unionaid.visits.selectors import campaigns as selectors
from unionaid.visits.services.campaigns import pairing_add
from unionaid.visits.tests.helpers_campaigns import build_example, build_world, visit

TODAY = dt.date(2026, 3, 6)  # 5 of the 10 days done: 50 % of the period elapsed


@pytest.fixture
def world(union, make_member):
    return build_world(union, make_member)


@pytest.fixture
def example(world):
    return build_example(world)


def figures(row) -> tuple:
    return (row.pairings, row.pairings_visited, row.visits, row.units_visited,
            row.workers_visited, row.hardship_found, row.solved)


def test_it_counts_the_whole_campaign_for_the_organiser(world, example):
    board = selectors.campaign_dashboard(user=world.bureau_org, campaign=example.campaign,
                                         today=TODAY)
    # pairings, visited, visits, units visited, workers visited, hardship found, solved
    assert figures(board.totals) == (7, 4, 5, 1, 3, 2, 3)
    assert board.satisfaction_avg == Decimal("3.5")
    assert board.satisfaction_count == 4
    assert (board.period_days, board.elapsed_days, board.elapsed_percent) == (10, 5, 50)
    assert [(t.code, t.target, t.actual, t.percent) for t in board.targets] == [
        ("units", 2, 1, 50), ("workers", 4, 3, 75)]
    assert board.partial is False


def test_it_lists_cadres_behind_first(world, example):
    board = selectors.campaign_dashboard(user=world.bureau_org, campaign=example.campaign,
                                         today=TODAY)
    rows = {row.username: row for row in board.cadres}
    assert [row.username for row in board.cadres] == ["cadre_b2", "cadre_b", "cadre_a",
                                                      "cadre_a2"]
    assert [row.username for row in board.cadres if row.behind] == ["cadre_b2"]
    assert board.behind_count == 1
    assert figures(rows["cadre_a"]) == (3, 2, 3, 1, 1, 1, 2)
    assert figures(rows["cadre_a2"]) == (1, 1, 1, 0, 1, 0, 0)
    # exactly on the elapsed share (1 of 2 at 50 %) is not behind
    assert figures(rows["cadre_b"]) == (2, 1, 1, 0, 1, 1, 1)
    assert rows["cadre_b"].behind is False
    assert figures(rows["cadre_b2"]) == (1, 0, 0, 0, 0, 0, 0)
    assert rows["cadre_a"].visited_percent == 67


def test_behind_follows_the_day(world, example):
    def behind(day):
        board = selectors.campaign_dashboard(user=world.bureau_org, campaign=example.campaign,
                                             today=day)
        return sorted(row.username for row in board.cadres if row.behind)

    assert behind(dt.date(2026, 3, 1)) == []  # first day: nothing is late yet
    assert behind(dt.date(2026, 2, 20)) == []  # before the start
    assert behind(dt.date(2026, 3, 7)) == ["cadre_b", "cadre_b2"]  # 60 % elapsed
    assert behind(dt.date(2026, 3, 9)) == ["cadre_a", "cadre_b", "cadre_b2"]  # 80 %
    assert behind(dt.date(2026, 4, 1)) == ["cadre_a", "cadre_b", "cadre_b2"]  # after the end


def test_it_gives_one_row_per_covered_unit(world, example):
    board = selectors.campaign_dashboard(user=world.bureau_org, campaign=example.campaign,
                                         today=TODAY)
    rows = {row.unit.code: figures(row) for row in board.units}
    assert rows == {"SA": (4, 3, 4, 1, 2, 1, 2), "SB": (3, 1, 1, 0, 1, 1, 1)}


def test_a_station_cadre_sees_only_their_station(world, example):
    board = selectors.campaign_dashboard(user=world.cadre_a, campaign=example.campaign,
                                         today=TODAY)
    assert figures(board.totals) == (4, 3, 4, 1, 2, 1, 2)
    assert board.satisfaction_avg == Decimal("3.7")  # (5 + 4 + 2) / 3
    assert board.satisfaction_count == 3
    assert sorted(row.username for row in board.cadres) == ["cadre_a", "cadre_a2"]
    assert [row.unit.code for row in board.units] == ["SA"]
    assert board.partial is True

    other = selectors.campaign_dashboard(user=world.cadre_b, campaign=example.campaign,
                                         today=TODAY)
    assert figures(other.totals) == (3, 1, 1, 0, 1, 1, 1)
    assert sorted(row.username for row in other.cadres) == ["cadre_b", "cadre_b2"]
    assert [row.unit.code for row in other.units] == ["SB"]


def test_a_cadre_counts_their_own_visits_outside_their_scope(world, example, make_member):
    # cadre_a2 (车间 A) is also paired with a household of 站段 B, and visits it
    campaign, household = example.campaign, make_member(world.union.team_b)
    pairing = pairing_add(actor=world.bureau_org, campaign=campaign, cadre=world.cadre_a2,
                          kind="household", member=household)
    visit(campaign=campaign, cadre=world.cadre_a2, pairing=pairing, member=household,
          hardship=True)
    board = selectors.campaign_dashboard(user=world.cadre_a2, campaign=campaign, today=TODAY)
    mine = {row.username: row for row in board.cadres}["cadre_a2"]
    assert figures(mine) == (2, 2, 2, 0, 2, 1, 0)
    # the rest of 站段 B (cadre_b's pairings and visits) stays out; 车间 A's are in
    assert sorted(row.username for row in board.cadres) == ["cadre_a", "cadre_a2"]
    assert (board.totals.pairings, board.totals.visits) == (5, 5)


def test_the_dashboard_takes_a_fixed_number_of_queries(world, example):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            selectors.campaign_dashboard(user=world.bureau_org, campaign=example.campaign,
                                         today=TODAY)
        return len(ctx.captured_queries)

    before = count_queries()
    for n in range(30):
        visit(campaign=example.campaign, cadre=world.cadre_b2, pairing=example.pairings["p7"],
              member=world.members["b2"], satisfaction=1 + n % 5)
    assert count_queries() == before
