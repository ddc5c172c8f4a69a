"""``unionaid scheduler``: one tick with --once; the loop stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from unionaid.schedules import runner
from unionaid.schedules.models import Schedule, ScheduleRun

pytestmark = pytest.mark.django_db


def test_once_runs_the_due_jobs_and_exits(toy):
    Schedule.objects.create(key="test.toy", expression="* * * * *",
                            not_before=timezone.now() - timezone.timedelta(hours=1))
    out = StringIO()
    call_command("scheduler", "--once", stdout=out)
    assert len(toy.calls) == 1
    assert ScheduleRun.objects.get().outcome == "ok"
    assert "test.toy ok" in out.getvalue()


def test_sigterm_stops_the_loop_after_the_tick_and_restores_the_handlers(toy, monkeypatch):
    ticks = []

    def tick(**kwargs):
        ticks.append(kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # as systemd or `serve` would
        return []

    monkeypatch.setattr(runner, "scheduler_tick", tick)
    before = signal.getsignal(signal.SIGTERM)
    call_command("scheduler", "--interval", "3600")  # returns: no hour-long wait
    assert len(ticks) == 1
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_failed_tick_is_logged_and_does_not_end_the_scheduler(toy, monkeypatch, caplog):
    def tick(**kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # so that the loop ends after this tick
        raise RuntimeError("database went away")

    monkeypatch.setattr(runner, "scheduler_tick", tick)
    call_command("scheduler", "--interval", "3600")  # no exception: logged, and on to the next
    assert "scheduler tick failed" in caplog.text


def test_the_interval_must_be_at_least_a_second():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("scheduler", "--interval", "0")


def test_verbosity_0_runs_the_jobs_without_printing_them(toy):
    """make run starts the scheduler with -v 0: the demo's terminal is not flooded by runs."""
    Schedule.objects.create(key="test.toy", expression="* * * * *",
                            not_before=timezone.now() - timezone.timedelta(hours=1))
    out = StringIO()
    call_command("scheduler", "--once", verbosity=0, stdout=out)
    assert len(toy.calls) == 1
    assert out.getvalue() == ""
