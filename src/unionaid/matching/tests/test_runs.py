"""Match runs in the background: members in the starter's scope and the dataset's records go to
the linkage as schema-S tables, matches are written with the kept decisions applied; progress
on the run row, cancel, retry on failure. The linkage itself is a stand-in here (fake_linkage);
test_runs_linkage.py runs the real one."""

from __future__ import annotations

import pytest

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict
from unionaid.matching import linking, services
from unionaid.matching.models import (
    DatasetStatus,
    Match,
    MatchRun,
    MatchStatus,
    PairDecision,
    RunStatus,
)
from unionaid.matching.tests.fake_linkage import FakeLink


@pytest.fixture
def fake_link(monkeypatch):
    fake = FakeLink()
    monkeypatch.setattr(linking, "_link", fake)
    return fake


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """Start a run and let the (immediate) task backend run it, as the commit would."""

    def _start(actor, dataset):
        with django_capture_on_commit_callbacks(execute=True):
            return services.match_run_start(actor=actor, dataset=dataset)

    return _start


@pytest.fixture
def loaded(union, cadres, make_dataset, make_record, make_member):
    in_a = make_member(union.team_a)
    no_id = make_member(union.team_a)
    in_b = make_member(union.team_b)
    dataset = make_dataset(union.station_a, cadres.station_a)
    rec_a = make_record(dataset, person=in_a)
    rec_no_id = make_record(dataset, name=no_id.name, birth_date=no_id.birth_date)
    rec_b = make_record(dataset, person=in_b)  # a member outside the dataset's unit
    return {"dataset": dataset, "in_a": in_a, "no_id": no_id, "in_b": in_b, "rec_a": rec_a,
            "rec_no_id": rec_no_id, "rec_b": rec_b}


def test_a_run_links_in_scope_members_and_writes_its_matches(cadres, loaded, fake_link, start):
    run = start(cadres.station_a, loaded["dataset"])
    run.refresh_from_db()
    assert run.status == RunStatus.DONE  # the immediate task backend ran it on commit
    matches = {m.member_id: m for m in Match.objects.filter(run=run)}
    assert set(matches) == {loaded["in_a"].pk, loaded["no_id"].pk}  # 站段 B's member is not in
    assert matches[loaded["in_a"].pk].status == MatchStatus.MATCHED
    assert matches[loaded["in_a"].pk].record == loaded["rec_a"]
    assert matches[loaded["no_id"].pk].status == MatchStatus.REVIEW
    assert run.counts["members"] == 2
    assert run.counts["exact"] == 1
    assert run.attempts == 1
    assert run.finished_at is not None
    dataset = loaded["dataset"]
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.MATCHED
    assert dataset.current_run == run
    assert AuditEvent.objects.filter(action="matching.run_done", target_id=str(run.pk)).exists()


def test_only_one_run_at_a_time_and_only_on_loaded_data(cadres, loaded, make_dataset, union):
    run = services.match_run_start(actor=cadres.station_a, dataset=loaded["dataset"],
                                   enqueue=False)
    with pytest.raises(Conflict):
        services.match_run_start(actor=cadres.station_a, dataset=loaded["dataset"],
                                 enqueue=False)
    assert run.status == RunStatus.QUEUED
    waiting = make_dataset(union.station_a, cadres.station_a, status=DatasetStatus.UPLOADED)
    with pytest.raises(Conflict):
        services.match_run_start(actor=cadres.station_a, dataset=waiting, enqueue=False)


def test_a_failed_run_writes_nothing_and_can_be_retried(cadres, loaded, fake_link, start,
                                                        django_capture_on_commit_callbacks):
    fake_link.fail = RuntimeError("boom 110101199003071234")
    run = start(cadres.station_a, loaded["dataset"])
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "110101" not in run.error
    assert not Match.objects.exists()
    loaded["dataset"].refresh_from_db()
    assert loaded["dataset"].status == DatasetStatus.LOADED

    fake_link.fail = None
    with django_capture_on_commit_callbacks(execute=True):
        services.match_run_retry(actor=cadres.station_a, run=run)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert run.attempts == 2
    assert run.error == ""
    assert Match.objects.filter(run=run).count() == 2
    with pytest.raises(Conflict):
        services.match_run_retry(actor=cadres.station_a, run=run)


def test_cancelling_a_queued_run_stops_it_before_it_starts(cadres, loaded, fake_link):
    run = services.match_run_start(actor=cadres.station_a, dataset=loaded["dataset"],
                                   enqueue=False)
    services.match_run_cancel(actor=cadres.station_a, run=run)
    assert linking.match_run_execute(run.pk) == {"run": run.pk, "skipped": True}
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert fake_link.calls == []


def test_cancelling_a_running_run_writes_nothing(cadres, loaded, fake_link):
    run = services.match_run_start(actor=cadres.station_a, dataset=loaded["dataset"],
                                   enqueue=False)

    def cancel_midway():
        services.match_run_cancel(actor=cadres.station_a, run=MatchRun.objects.get(pk=run.pk))

    fake_link.on_progress = cancel_midway
    assert linking.match_run_execute(run.pk)["status"] == RunStatus.CANCELLED
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert not Match.objects.exists()
    loaded["dataset"].refresh_from_db()
    assert loaded["dataset"].status == DatasetStatus.LOADED


def test_a_second_run_keeps_the_decisions_of_the_first(cadres, loaded, fake_link, start):
    first = start(cadres.station_a, loaded["dataset"])
    review = Match.objects.get(run=first, status=MatchStatus.REVIEW)
    services.match_decide(actor=cadres.station_a, match=review, decision="rejected")
    second = start(cadres.station_a, loaded["dataset"])
    assert list(Match.objects.filter(run=second).values_list("member_id", flat=True)) == [
        loaded["in_a"].pk]
    assert PairDecision.objects.count() == 1


def test_the_command_line_runs_a_match_with_a_summary(cadres, loaded, fake_link, capsys):
    from django.core.management import call_command

    call_command("matching_run", str(loaded["dataset"].pk), username=cadres.station_a.username)
    out = capsys.readouterr().out
    run = MatchRun.objects.get()
    assert run.status == RunStatus.DONE
    assert f"比对任务 {run.pk} 完成" in out
    assert "精确 1" in out


def test_a_run_whose_worker_died_is_cancelled_at_once(cadres, loaded, settings):
    import datetime as dt

    from django.utils import timezone

    settings.MATCHING_STALE_MINUTES = 60
    run = services.match_run_start(actor=cadres.station_a, dataset=loaded["dataset"],
                                   enqueue=False)
    MatchRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now() - dt.timedelta(hours=2))
    loaded["dataset"].__class__.objects.filter(pk=loaded["dataset"].pk).update(
        status=DatasetStatus.MATCHING)
    services.match_run_cancel(actor=cadres.station_a, run=run)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    loaded["dataset"].refresh_from_db()
    assert loaded["dataset"].status == DatasetStatus.LOADED
    # and a fresh run may start
    services.match_run_start(actor=cadres.station_a, dataset=loaded["dataset"], enqueue=False)
