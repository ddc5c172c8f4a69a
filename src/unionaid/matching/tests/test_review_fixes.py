"""Fixes of the matching review (issue 12), beyond the reviewer's own failing tests: DuckDB
messages kept out of logs, temporary copies of lists in a private directory (and swept), stale
loads, one match per record and run, the same pair's leads on a review decision, and the
nightly catch-up of leads."""

# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import logging
import os
import stat

import duckdb
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from unionaid.matching import files, jobs, loading, services, storage
from unionaid.matching.models import Dataset, DatasetStatus, Lead, Match, MatchStatus
from unionaid.matching.progress import Cancelled
from unionaid.matching.tests.helpers_leads import (  # noqa: F401 (fixtures)
    archive,
    clock,
    matched,
    people,
    world,
)

ID = "110105197605160010"
HEADER = "姓名,身份证号,出生日期\r\n"


# -- DuckDB's message never reaches a log whole -----------------------------------------------

def test_a_duckdb_failure_is_logged_by_its_first_line_only(caplog, cadres, union, make_dataset,
                                                          private_root, monkeypatch):
    stored = storage.store([b"x"], ".csv")
    dataset = make_dataset(union.station_a, cadres.station_a, status=DatasetStatus.UPLOADED,
                           stored_path=stored)

    def fail(**kwargs):
        raise duckdb.InvalidInputException(f"CSV Error on Line: 2\nOriginal Line: 张三,{ID}")

    monkeypatch.setattr(loading, "read_dataset", fail)
    with caplog.at_level(logging.ERROR):
        outcome = loading.dataset_load_run(dataset.pk, dry_run=False)
    assert outcome["status"] == DatasetStatus.FAILED
    assert "CSV Error on Line: 2" in caplog.text
    assert ID not in caplog.text
    assert "Traceback" not in caplog.text


def test_other_failures_keep_their_traceback(caplog):
    logger = logging.getLogger("unionaid.matching.test")
    with caplog.at_level(logging.ERROR):
        files.log_failure(logger, "job %s failed", 7, exc=ValueError("boom"))
    assert "ValueError: boom" in caplog.text


# -- temporary copies in a private directory ----------------------------------------------------

@pytest.mark.parametrize("kind", ["gb18030", "blank-lines", "xlsx"])
def test_temporary_copies_of_a_list_go_to_the_private_directory_and_are_removed(
        kind, private_root, tmp_path_factory, monkeypatch):
    made = []
    real = storage.mkstemp

    def spy(suffix=".csv"):
        fd, name = real(suffix)
        made.append(name)
        return fd, name

    monkeypatch.setattr(storage, "mkstemp", spy)
    source = tmp_path_factory.mktemp("upload")
    if kind == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        book.active.append(["姓名", "身份证号"])
        book.active.append(["张三", ID])
        path = source / "list.xlsx"
        book.save(path)
    elif kind == "gb18030":
        path = source / "list.csv"
        path.write_bytes((HEADER + f"张三,{ID},1976-05-16\r\n").encode("gb18030"))
    else:
        path = source / "list.csv"
        path.write_bytes((HEADER + f"张三,{ID},1976-05-16\n\n李四,,1980-01-02\n").encode())
    monkeypatch.setattr("tempfile.tempdir", "/nonexistent-shared-tmp")  # /tmp is not used
    con = storage.duckdb_connect()
    try:
        loaded = files.load_file(con, path, "raw")
    finally:
        con.close()
    assert loaded.rows >= 1
    tmp = private_root / "matching" / "tmp"
    assert made
    assert all(os.path.dirname(name) == str(tmp) for name in made)
    assert stat.S_IMODE(tmp.stat().st_mode) == 0o700
    assert list(tmp.iterdir()) == []


def test_the_purge_sweeps_orphan_files_older_than_a_day(cadres, union, make_dataset,
                                                        private_root):
    old = (timezone.now() - dt.timedelta(days=2)).timestamp()
    tmp = storage.tmp_dir()
    left_by_a_killed_worker = tmp / "unionaid-list-x.csv"
    orphan_upload = private_root / storage.store([b"a"], ".csv")  # no dataset row committed
    kept_upload = storage.store([b"b"], ".csv")
    make_dataset(union.station_a, cadres.station_a, status=DatasetStatus.UPLOADED,
                 stored_path=kept_upload, purge_after=timezone.now() + dt.timedelta(days=9))
    left_by_a_killed_worker.write_text("张三")
    recent_orphan = private_root / storage.store([b"c"], ".csv")  # an upload in flight
    for path in (left_by_a_killed_worker, orphan_upload, private_root / kept_upload):
        os.utime(path, (old, old))
    counts = services.datasets_purge_expired()
    assert counts["orphan_files"] == 2
    assert not left_by_a_killed_worker.exists()
    assert not orphan_upload.exists()
    assert (private_root / kept_upload).exists()
    assert recent_orphan.exists()


def test_a_stored_upload_is_private_to_the_worker(private_root):
    path = private_root / storage.store([b"a"], ".csv")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- stale loads ------------------------------------------------------------------------------

def test_a_load_records_when_its_worker_took_it(cadres, union, make_dataset, private_root):
    stored = storage.store([HEADER.encode() + f"张三,{ID},1976-05-16\r\n".encode()], ".csv")
    dataset = make_dataset(union.station_a, cadres.station_a, status=DatasetStatus.UPLOADED,
                           stored_path=stored)
    before = timezone.now()
    loading.dataset_load_run(dataset.pk, dry_run=True)
    dataset.refresh_from_db()
    assert dataset.started_at is not None
    assert dataset.started_at >= before


def test_a_recent_load_is_only_asked_to_stop(cadres, union, make_dataset, private_root,
                                             settings):
    settings.MATCHING_STALE_MINUTES = 60
    stored = storage.store([b"x"], ".csv")
    dataset = make_dataset(union.station_a, cadres.station_a, status=DatasetStatus.LOADING,
                           stored_path=stored, started_at=timezone.now())
    services.dataset_cancel(actor=cadres.station_a, dataset=dataset)
    services.datasets_purge_expired()
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.LOADING
    assert dataset.cancel_requested
    assert (private_root / stored).exists()


def test_the_purge_ends_a_stale_load_without_being_asked(cadres, union, make_dataset,
                                                         private_root, settings):
    settings.MATCHING_STALE_MINUTES = 60
    stored = storage.store([b"x"], ".csv")
    dataset = make_dataset(union.station_a, cadres.station_a, status=DatasetStatus.LOADING,
                           stored_path=stored,
                           started_at=timezone.now() - dt.timedelta(hours=2),
                           purge_after=timezone.now() + dt.timedelta(days=30))
    assert services.datasets_purge_expired()["stale_loads"] == 1
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.CANCELLED
    assert dataset.stored_path == ""
    assert not (private_root / stored).exists()


def test_a_worker_whose_load_was_cancelled_as_stale_writes_nothing(cadres, union,
                                                                   make_dataset):
    dataset = make_dataset(union.station_a, cadres.station_a, status=DatasetStatus.CANCELLED)
    with pytest.raises(Cancelled):
        loading._finish_load(dataset, loading.LoadResult(rows=1, written=1))
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.CANCELLED


# -- one match per record and run -------------------------------------------------------------

def test_a_run_holds_one_match_per_record(cadres, union, make_dataset, make_record,
                                          make_match, make_member):
    dataset = make_dataset(union.station_a, cadres.station_a)
    member = make_member(union.team_a)
    record = make_record(dataset, person=member)
    match = make_match(dataset, record, member)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_match(dataset, record, member, run=match.run)
    # a purged dataset's matches keep no record: any number of them
    Match.objects.filter(pk=match.pk).update(record=None)
    make_match(dataset, None, member, run=match.run)
    assert Match.objects.filter(run=match.run, record__isnull=True).count() == 2


# -- leads ------------------------------------------------------------------------------------

def test_confirming_a_pair_raises_the_leads_of_its_other_review_items(world, matched,
                                                                      make_member):
    member = make_member(world["union"].team_a)
    # two bills of the same person, each on a list of its own, both waiting for review
    bill = matched("medical", member, {"amount": "9000", "date": "2026-08-01"},
                   status=MatchStatus.REVIEW)
    other = matched("medical", member, {"amount": "12000", "date": "2026-09-01"},
                    status=MatchStatus.REVIEW, title="2026年9月医疗救助名单")
    services.match_decide(actor=world["cadres"].station_a, match=bill, decision="confirmed")
    other.refresh_from_db()
    assert other.status == MatchStatus.CONFIRMED
    assert Lead.objects.filter(match=bill).exists()
    assert Lead.objects.filter(match=other).exists(), "the other item's lead was not raised"


def test_the_nightly_catch_up_raises_missed_leads_once(world, matched, make_member):
    member = make_member(world["union"].team_a)
    matched("medical", member, {"amount": "9000"})  # written, its leads never raised
    assert not Lead.objects.filter(member=member).exists()
    jobs.catch_up(now=timezone.now())
    assert Lead.objects.filter(member=member).count() == 1
    jobs.catch_up(now=timezone.now())
    assert Lead.objects.filter(member=member).count() == 1


def test_the_catch_up_skips_a_dataset_not_matched(world, matched, make_member):
    member = make_member(world["union"].team_a)
    match = matched("medical", member, {"amount": "9000"})
    Dataset.objects.filter(pk=match.dataset_id).update(status=DatasetStatus.PURGED)
    assert services.leads_catch_up()["runs"] == 0
