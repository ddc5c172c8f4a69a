"""The scheduler's tick: each slot runs once across processes, a gap of missed slots runs once,
failures are recorded without personal data and become the system admin's to-do, runs left
behind by a dead process are failed."""

from __future__ import annotations

import datetime as dt

import pytest

from unionaid.notifications.models import Notification
from unionaid.schedules import runner, selectors, services
from unionaid.schedules.models import RunOutcome, RunTrigger, Schedule, ScheduleRun
from unionaid.schedules.registry import JobFailed
from unionaid.schedules.tests.conftest import SHANGHAI, T0

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, 7, hour, minute, tzinfo=SHANGHAI)


def tick(now, host="app-1", pid=101):
    return runner.scheduler_tick(now=now, host=host, pid=pid)


def test_a_new_job_waits_for_its_first_slot_after_it_was_first_seen(toy):
    assert tick(T0) == []  # 10:00 was before the scheduler knew the job: not "missed"
    schedule = Schedule.objects.get(key="test.toy")
    assert (schedule.expression, schedule.enabled, schedule.not_before) == ("0 * * * *", True, T0)
    assert tick(at(10, 59)) == []
    [run] = tick(at(11, 0))
    assert run.slot == at(11)
    assert run.trigger == RunTrigger.SCHEDULED
    assert run.outcome == RunOutcome.OK
    assert run.summary == "处理 1 条"
    assert toy.calls == [at(11)]


def test_two_schedulers_ticking_at_the_same_slot_run_it_once(toy):
    tick(T0)
    first = tick(at(11, 0), host="app-1", pid=101)
    second = tick(at(11, 0), host="app-2", pid=202)  # the other process, same moment
    assert len(first) == 1
    assert second == []
    assert len(toy.calls) == 1
    assert ScheduleRun.objects.count() == 1


def test_a_slot_claimed_by_another_process_is_skipped_even_when_it_looked_due(toy, monkeypatch):
    """Two processes both saw the slot due (neither saw the other's run yet): the unique
    (job, slot) constraint lets only the first INSERT win."""
    tick(T0)
    monkeypatch.setattr(runner, "due_slot", lambda schedule, *, now: at(11))
    assert len(tick(at(11, 0), host="app-1", pid=101)) == 1
    assert tick(at(11, 0), host="app-2", pid=202) == []
    assert len(toy.calls) == 1


def test_the_claim_itself_lets_one_process_win(toy):
    tick(T0)
    schedule = Schedule.objects.get(key="test.toy")
    claim = {"schedule": schedule, "slot": at(11), "trigger": RunTrigger.SCHEDULED,
             "now": at(11)}
    first = runner.run_claim(**claim, host="app-1", pid=101)
    assert first is not None
    # while it runs, no other run of the job starts, whatever the slot
    assert runner.run_claim(**{**claim, "slot": at(12)}, host="app-2", pid=202) is None
    ScheduleRun.objects.filter(pk=first.pk).update(outcome=RunOutcome.OK)
    # finished: its slot is still taken
    assert runner.run_claim(**claim, host="app-2", pid=202) is None
    assert ScheduleRun.objects.count() == 1


def test_after_a_gap_of_several_slots_the_job_runs_once_for_the_latest(toy):
    tick(T0)
    tick(at(11, 0))
    # the scheduler was down from 11:00 to 16:20: five hourly slots missed
    [run] = tick(at(16, 20))
    assert run.slot == at(16)
    assert tick(at(16, 40)) == []
    assert len(tick(at(17, 0))) == 1
    assert toy.calls == [at(11), at(16, 20), at(17)]


def test_a_changed_expression_counts_from_the_change(toy, personas):
    tick(T0)
    services.schedule_update(actor=personas.bureau_admin, key="test.toy",
                             expression="30 * * * *", now=at(10, 40))
    assert tick(at(10, 50)) == []  # 10:30 came before the change
    assert [r.slot for r in tick(at(11, 30))] == [at(11, 30)]


def test_a_disabled_job_does_not_run_and_switched_on_again_does_not_catch_up(toy, personas):
    tick(T0)
    services.schedule_update(actor=personas.bureau_admin, key="test.toy", enabled=False,
                             now=at(10, 45))
    assert tick(at(13, 10)) == []
    services.schedule_update(actor=personas.bureau_admin, key="test.toy", enabled=True,
                             now=at(13, 20))
    assert tick(at(13, 30)) == []
    assert len(tick(at(14, 0))) == 1


def test_run_now_runs_once_at_the_next_tick_even_when_disabled(toy, personas):
    tick(T0)
    services.schedule_update(actor=personas.bureau_admin, key="test.toy", enabled=False,
                             now=at(10, 31))
    services.schedule_run_request(actor=personas.bureau_admin, key="test.toy", now=at(10, 32))
    [run] = tick(at(10, 33))
    assert run.trigger == RunTrigger.MANUAL
    assert run.requested_by == personas.bureau_admin
    assert run.slot == at(10, 32)
    assert Schedule.objects.get(key="test.toy").run_requested_at is None
    assert tick(at(10, 34), host="app-2") == []
    assert len(toy.calls) == 1


def test_a_failing_job_is_recorded_without_its_message_and_tells_the_system_admin(toy, personas):
    tick(T0)
    toy.fail = ValueError("王某某 110105199001011234 的记录不对")  # a message with personal data
    [run] = tick(at(11))
    run.refresh_from_db()
    assert run.outcome == RunOutcome.FAILED
    assert run.error == "ValueError"  # the class only: the message may hold personal data
    assert run.finished_at is not None
    assert run.duration_ms is not None
    [note] = Notification.objects.filter(title__contains="定时任务运行失败")
    assert note.recipient == personas.bureau_admin  # the holder of system.config, nobody else
    assert "测试任务" in note.title
    assert note.link == "/schedules/test.toy/"
    assert "110105" not in note.body
    assert "王某某" not in note.body
    assert selectors.failures_to_acknowledge(user=personas.bureau_admin) == 1
    assert selectors.failures_to_acknowledge(user=personas.station_cadre) == 0

    # failing again: one more failure to acknowledge, but no second notice
    toy.fail = JobFailed("有 2 个文件无法删除")
    [again] = tick(at(12))
    again.refresh_from_db()
    assert again.error == "有 2 个文件无法删除"  # a job's own message is shown as it is
    assert Notification.objects.filter(title__contains="定时任务运行失败").count() == 1
    assert selectors.failures_to_acknowledge(user=personas.bureau_admin) == 2

    assert services.schedule_failures_acknowledge(actor=personas.bureau_admin,
                                                  key="test.toy") == 2
    assert selectors.failures_to_acknowledge(user=personas.bureau_admin) == 0
    toy.fail = RuntimeError("again")
    tick(at(13))
    assert Notification.objects.filter(title__contains="定时任务运行失败").count() == 2


def test_a_run_left_running_by_a_process_that_died_is_failed(toy, personas):
    tick(T0)
    schedule = Schedule.objects.get(key="test.toy")
    dead = ScheduleRun.objects.create(schedule=schedule, slot=at(11), trigger="scheduled",
                                      started_at=at(11), host="app-1", pid=999_999_999)
    elsewhere = ScheduleRun.objects.create(schedule=Schedule.objects.create(
        key="test.other", expression="0 * * * *", not_before=T0), slot=at(11),
        trigger="scheduled", started_at=at(11), host="app-9", pid=1)
    # this host's run whose process is gone: failed at the next tick, and the slot not re-run
    assert tick(at(11, 1), host="app-1") == []
    dead.refresh_from_db()
    assert dead.outcome == RunOutcome.FAILED
    assert "进程已退出" in dead.error
    assert Notification.objects.filter(recipient=personas.bureau_admin).count() == 1
    # another host's: only once it has run longer than the timeout (6 hours)
    elsewhere.refresh_from_db()
    assert elsewhere.outcome == RunOutcome.RUNNING
    runner.runs_fail_abandoned(now=at(17, 1), host="app-1")
    elsewhere.refresh_from_db()
    assert elsewhere.outcome == RunOutcome.FAILED
    assert "超时" in elsewhere.error


def test_a_scheduler_that_just_started_fails_the_runs_of_its_own_pid(toy):
    """In a container the restarted scheduler often gets the dead one's pid."""
    tick(T0)
    left = ScheduleRun.objects.create(schedule=Schedule.objects.get(key="test.toy"),
                                      slot=at(11), trigger="scheduled", started_at=at(11),
                                      host="app-1", pid=7)
    assert runner.runs_fail_abandoned(now=at(11, 5), host="app-1", pid=7) == 1
    left.refresh_from_db()
    assert left.outcome == RunOutcome.FAILED


def test_a_job_still_running_elsewhere_is_not_started_again_and_its_slot_follows(toy):
    tick(T0)
    schedule = Schedule.objects.get(key="test.toy")
    running = ScheduleRun.objects.create(schedule=schedule, slot=at(11), trigger="scheduled",
                                         started_at=at(11), host="app-9", pid=1)
    assert tick(at(12, 0)) == []
    ScheduleRun.objects.filter(pk=running.pk).update(outcome=RunOutcome.OK)
    [run] = tick(at(12, 10))
    assert run.slot == at(12)


def test_an_unregistered_jobs_row_is_left_alone(only_jobs):
    Schedule.objects.create(key="gone.job", expression="* * * * *", not_before=T0)
    assert tick(at(12)) == []
    assert not ScheduleRun.objects.exists()
