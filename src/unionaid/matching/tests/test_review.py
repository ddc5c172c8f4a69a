"""Review decisions: confirm or reject, kept for the pair (member, external person), applied to
the pair's other undecided matches and to every later run — never asked again."""

from __future__ import annotations

import pytest

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, NotFound, PermissionDenied
from unionaid.matching import services
from unionaid.matching.linking import write_matches
from unionaid.matching.models import MatchRun, MatchStatus, PairDecision


@pytest.fixture
def pair(union, cadres, make_dataset, make_record, make_match, make_member):
    member = make_member(union.team_a)
    dataset = make_dataset(union.station_a, cadres.station_a)
    record = make_record(dataset, name=member.name, birth_date=member.birth_date)
    return member, dataset, record, make_match(dataset, record, member)


def test_confirming_keeps_the_decision_and_journals_it(cadres, pair):
    member, _dataset, record, match = pair
    services.match_decide(actor=cadres.station_a, match=match, decision="confirmed")
    match.refresh_from_db()
    assert (match.status, match.decided_by) == (MatchStatus.CONFIRMED, cadres.station_a)
    kept = PairDecision.objects.get()
    assert (kept.member, kept.person_key, kept.decision) == (member, record.person_key,
                                                             "confirmed")
    event = AuditEvent.objects.get(action="matching.match_confirmed")
    assert event.actor_id == cadres.station_a.pk
    assert event.target_id == str(match.pk)


def test_deciding_again_the_same_way_changes_nothing_and_the_other_way_conflicts(cadres, pair):
    match = pair[3]
    services.match_decide(actor=cadres.station_a, match=match, decision="rejected")
    services.match_decide(actor=cadres.station_a, match=match, decision="rejected")
    assert AuditEvent.objects.filter(action="matching.match_rejected").count() == 1
    with pytest.raises(Conflict):
        services.match_decide(actor=cadres.station_a, match=match, decision="confirmed")
    assert PairDecision.objects.get().decision == "rejected"


def test_a_cadre_of_another_unit_or_without_the_right_cannot_decide(cadres, pair):
    match = pair[3]
    with pytest.raises(NotFound):
        services.match_decide(actor=cadres.station_b, match=match, decision="confirmed")
    with pytest.raises(PermissionDenied):
        services.match_decide(actor=cadres.viewer_a, match=match, decision="confirmed")
    assert not PairDecision.objects.exists()


def test_a_decision_settles_the_same_pair_in_another_dataset(
        union, cadres, pair, make_dataset, make_record, make_match):
    member, _dataset, _record, match = pair
    later = make_dataset(union.station_a, cadres.station_a, title="下月低保名单")
    again = make_match(later, make_record(later, name=member.name, birth_date=member.birth_date),
                       member)
    services.match_decide(actor=cadres.station_a, match=match, decision="rejected")
    again.refresh_from_db()
    assert again.status == MatchStatus.REJECTED


def _run_with(dataset, user, pairs):
    run = MatchRun.objects.create(dataset=dataset, started_by=user, status="running")
    write_matches(run, pairs, {"external_rows": len(pairs), "exact": 0, "probabilistic": 0,
                               "review": len(pairs), "unmatched": 0})
    return run


def test_a_rejected_pair_never_reappears_and_a_confirmed_one_comes_back_confirmed(
        union, cadres, pair, make_record, make_member, make_match):
    member, dataset, record, match = pair
    other = make_member(union.team_a)
    other_record = make_record(dataset, name=other.name, birth_date=other.birth_date)
    services.match_decide(actor=cadres.station_a, match=match, decision="rejected")
    first = make_match(dataset, other_record, other, run=match.run)
    services.match_decide(actor=cadres.station_a, match=first, decision="confirmed")

    run = _run_with(dataset, cadres.station_a, [
        (record.pk, member.pk, 0.7, "probabilistic", "姓名一致", MatchStatus.REVIEW),
        (other_record.pk, other.pk, 0.75, "probabilistic", "姓名一致", MatchStatus.REVIEW),
    ])
    written = {m.member_id: m for m in run.matches.all()}
    assert member.pk not in written  # rejected: not asked again
    assert written[other.pk].status == MatchStatus.CONFIRMED
    assert written[other.pk].decided_by == cadres.station_a
    run.refresh_from_db()
    assert run.counts["kept_rejected"] == 1
    assert run.counts["kept_confirmed"] == 1
    dataset.refresh_from_db()
    assert dataset.current_run == run
    assert dataset.status == "matched"


def test_a_run_ignores_rows_that_are_not_records_of_its_dataset(
        union, cadres, pair, make_dataset, make_record, make_member):
    member, dataset, _record, _match = pair
    elsewhere = make_dataset(union.station_b, cadres.station_b)
    foreign = make_record(elsewhere, name="某人")
    run = _run_with(dataset, cadres.station_a,
                    [(foreign.pk, member.pk, 1.0, "exact", "身份证号一致", "matched")])
    assert not run.matches.exists()
