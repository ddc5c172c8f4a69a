"""Two scheduler processes on PostgreSQL: two threads, each with its own connection, tick at
the same moment; the slot runs once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from unionaid.schedules import runner
from unionaid.schedules.models import Schedule, ScheduleRun
from unionaid.schedules.tests.conftest import T0

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pg_race(pg_only):
    """The audit journal refuses TRUNCATE, which is how Django empties the database after a
    ``transaction=True`` test: switch triggers off for this connection just before that flush."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")


def test_two_schedulers_on_two_connections_run_a_slot_once(pg_race, toy):
    Schedule.objects.create(key="test.toy", expression="0 * * * *", not_before=T0)
    slot_passed = T0.replace(hour=11, minute=0, second=5)
    barrier = threading.Barrier(2, timeout=10)
    results: list = [None, None]

    def scheduler(i: int) -> None:
        try:
            barrier.wait()
            results[i] = runner.scheduler_tick(now=slot_passed, host=f"app-{i}", pid=100 + i)
        except Exception as exc:  # asserted below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(isinstance(r, list) for r in results), results
    assert sorted(len(r) for r in results) == [0, 1]
    assert len(toy.calls) == 1
    assert ScheduleRun.objects.count() == 1
