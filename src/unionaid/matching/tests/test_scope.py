"""Scope: a cadre sees datasets of their units, and matches and review items only of members
in their scope; anything else is "not found", the attempt journaled."""

from __future__ import annotations

import pytest

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import NotFound
from unionaid.matching import selectors


@pytest.fixture
def world(union, cadres, make_dataset, make_record, make_match, make_member):
    member_a, member_b = make_member(union.team_a), make_member(union.team_b)
    dataset_a = make_dataset(union.station_a, cadres.station_a)
    dataset_b = make_dataset(union.station_b, cadres.station_b)
    bureau_set = make_dataset(union.bureau, cadres.bureau)
    match_a = make_match(bureau_set, make_record(bureau_set, person=member_a), member_a)
    match_b = make_match(bureau_set, make_record(bureau_set, person=member_b), member_b,
                         run=match_a.run)
    return {"member_a": member_a, "member_b": member_b, "dataset_a": dataset_a,
            "dataset_b": dataset_b, "bureau_set": bureau_set, "match_a": match_a,
            "match_b": match_b}


def test_a_cadre_sees_the_datasets_of_their_units_only(cadres, world):
    assert set(selectors.datasets_visible_to(user=cadres.station_a)) == {world["dataset_a"]}
    assert set(selectors.datasets_visible_to(user=cadres.bureau)) == {
        world["dataset_a"], world["dataset_b"], world["bureau_set"]}


def test_a_cadre_of_another_unit_gets_not_found_and_the_try_is_journaled(cadres, world):
    with pytest.raises(NotFound):
        selectors.dataset_get_for_user(user=cadres.station_b, pk=world["dataset_a"].pk)
    with pytest.raises(NotFound):
        selectors.match_get_for_user(user=cadres.station_b, pk=world["match_a"].pk)
    with pytest.raises(NotFound):
        selectors.run_get_for_user(user=cadres.station_b, pk=world["match_a"].run_id)
    denied = AuditEvent.objects.filter(action="access.denied", actor_id=cadres.station_b.pk)
    assert set(denied.values_list("target_type", flat=True)) == {
        "matching.dataset", "matching.match", "matching.matchrun"}


def test_matches_and_review_items_are_those_of_members_in_scope(cadres, world):
    # the bureau imported the list; each station sees its own members' matches of it
    assert list(selectors.matches_visible_to(user=cadres.station_a)) == [world["match_a"]]
    assert list(selectors.review_queue(user=cadres.station_a)) == [world["match_a"]]
    assert list(selectors.review_queue(user=cadres.station_b)) == [world["match_b"]]
    assert set(selectors.review_queue(user=cadres.bureau)) == {world["match_a"],
                                                             world["match_b"]}
    assert selectors.match_get_for_user(user=cadres.station_a,
                                        pk=world["match_a"].pk) == world["match_a"]


def test_a_viewer_without_the_review_right_has_no_review_queue(cadres, world):
    assert list(selectors.review_queue(user=cadres.viewer_a)) == []
    assert list(selectors.matches_visible_to(user=cadres.viewer_a)) == [world["match_a"]]


def test_the_review_queue_holds_only_the_current_run_of_each_dataset(
        cadres, world, make_match, make_record):
    bureau_set = world["bureau_set"]
    newer = make_match(bureau_set, make_record(bureau_set, person=world["member_a"]),
                       world["member_a"])
    assert list(selectors.review_queue(user=cadres.station_a)) == [newer]


def test_sources_of_the_units_and_their_ancestors_are_visible(cadres, source, union):
    from unionaid.matching.models import Source

    own_b = Source.objects.create(kind="medical", name="医保", org_unit=union.station_b)
    assert set(selectors.sources_visible_to(user=cadres.station_a)) == {source}
    assert set(selectors.sources_visible_to(user=cadres.station_b)) == {source, own_b}
    with pytest.raises(NotFound):
        selectors.source_get_for_user(user=cadres.station_a, pk=own_b.pk)


def test_linked_matches_are_the_current_runs_matched_or_confirmed_with_their_record(
        world, make_match, make_record):
    from unionaid.matching.models import MatchStatus

    bureau_set = world["bureau_set"]
    assert list(selectors.linked_matches()) == []  # both are still in review
    confirmed = make_match(bureau_set, make_record(bureau_set, person=world["member_a"]),
                           world["member_a"], status=MatchStatus.CONFIRMED)
    make_match(bureau_set, make_record(bureau_set, person=world["member_b"]),
               world["member_b"], status=MatchStatus.REJECTED, run=confirmed.run)
    assert list(selectors.linked_matches()) == [confirmed]
    assert list(selectors.linked_matches(kinds=["medical"])) == []
    assert list(selectors.linked_matches(kinds=["dibao"], dataset=bureau_set)) == [confirmed]
