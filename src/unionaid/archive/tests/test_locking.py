# The fixtures come from helpers_records (no conftest of our own), hence F811 as parameters.
# ruff: noqa: F811
"""Lock order under real concurrency, on PostgreSQL (SQLite runs one writer at a time, so it
cannot deadlock and these tests are skipped there).

The approval engine locks a case, then its record. Each test pauses one transaction while it
holds its first lock(s), lets the other run into a lock wait, then lets the first go on: with
both sides taking the locks in the same order, both finish; in the opposite order PostgreSQL
would find a deadlock and abort one of them."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from unionaid.approvals.models import ApprovalTask
from unionaid.archive.models import Objection, RecordStatus
from unionaid.archive.services import objections
from unionaid.archive.services.records import record_enrol, record_withdraw
from unionaid.archive.tests.helpers_records import (  # noqa: F401 (fixtures)
    archive,
    clock,
    decide,
    pending_task,
    people,
    record_profile,
    through_workshop,
)
from unionaid.core.errors import Conflict

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pg_race(pg_only):
    """The audit journal refuses TRUNCATE, which is how Django empties the database after a
    ``transaction=True`` test: switch triggers off for this connection just before that
    flush (the connection is closed right after it)."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")


def _someone_waits_for_a_lock(rounds: int = 100) -> bool:
    """Poll (up to ~5 s) until another session of this database waits for a row lock."""
    for _n in range(rounds):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


def _pause_after(module, name: str, started: threading.Event):
    """Wrap ``module.name`` so that the first call waits, before running, until another
    transaction is stuck on a lock this one holds."""
    original = getattr(module, name)
    paused = threading.Event()

    def wrapper(*args, **kwargs):
        if not paused.is_set():
            paused.set()
            started.set()
            _someone_waits_for_a_lock()
        return original(*args, **kwargs)

    return wrapper


def _race(first, second, started: threading.Event) -> list:
    """Run ``first`` in a thread; once it holds its locks (``started``), run ``second`` in
    another. Returns what each returned or raised."""
    results: list = [None, None]

    def run(i, target, wait_for=None):
        try:
            if wait_for is not None:
                assert wait_for.wait(timeout=10)
            results[i] = target()
        except Exception as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(0, first)),
               threading.Thread(target=run, args=(1, second, started))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def pending(archive, make_member):
    member = make_member(archive.union.team_a)
    record_profile(archive, member, monthly="2500")
    return record_enrol(actor=archive.filer, member=member)


def test_withdrawing_while_the_case_is_being_decided_does_not_deadlock(
        pg_race, archive, pending, monkeypatch):
    """A 车间 officer rejects (the engine: case, then record) while the filer withdraws the
    same enrolment: the withdrawal waits for the decision and then finds nothing to
    withdraw."""
    from unionaid.approvals.services import cases

    started = threading.Event()
    wrapper = _pause_after(cases, "_handler", started)
    monkeypatch.setattr(cases, "_handler", wrapper)  # called with the case already locked
    task = pending_task(pending)
    decided, withdrawn = _race(
        lambda: cases.task_decide(actor=archive.workshop_officer, task=task,
                                  decision="reject", comment="收入核实不符"),
        lambda: record_withdraw(actor=archive.filer, record=pending, reason="本人放弃"),
        started)
    assert isinstance(decided, ApprovalTask), decided
    assert isinstance(withdrawn, Conflict), withdrawn
    assert withdrawn.code == "not_withdrawable"
    pending.refresh_from_db()
    assert pending.status == RecordStatus.REJECTED


def test_an_objection_racing_the_notice_approval_is_counted_or_refused(
        pg_race, archive, pending, clock, monkeypatch):
    """The filer records an objection while the station officer approves the notice: the
    objection holds case and record; the approval waits, then sees it and is refused."""
    notice = through_workshop(archive, pending)
    clock.move_to(notice.due_at)
    started = threading.Event()
    wrapper = _pause_after(objections, "notice_task", started)
    monkeypatch.setattr(objections, "notice_task", wrapper)  # called with the locks held
    recorded, approved = _race(
        lambda: objections.objection_record(actor=archive.filer, record=pending,
                                            raised_by_label="同事", content="家中另有商铺"),
        lambda: decide(archive.station_officer, pending),
        started)
    assert isinstance(recorded, Objection), recorded
    assert isinstance(approved, Conflict), approved
    assert approved.code == "objection_open"
    assert pending_task(pending).pk == notice.pk  # the notice step still waits
