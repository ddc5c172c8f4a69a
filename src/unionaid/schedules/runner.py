"""The scheduler's tick: run each registered job's latest due slot once, across processes.

On each tick, for every registered job (in key order, one after another):

1. a run asked for by hand ("run now") is claimed and run, enabled or not;
2. if the job is enabled, the latest slot of its expression at or before now is computed. It
   is run only if it is newer than the job's last scheduled run and than ``not_before`` (the
   moment the row was made, its expression changed or it was switched back on). So a scheduler
   that was down for a day runs a daily job once, not once per missed slot.

A slot is claimed by inserting its run row (outcome "running") in its own transaction, which
commits before the job starts: the unique (job, slot) constraint lets exactly one process win;
the others get IntegrityError and skip. A second constraint allows one "running" run per job, so
a job still running elsewhere is not started again (its due slot runs on a later tick).

A run left "running" by a process that died is marked failed: at once when it was this host's
and its process is gone (or is this very process, just started), otherwise once it has run
longer than ``SCHEDULER_RUN_TIMEOUT_MINUTES`` (6 hours by default). A failed run notifies the
system admins (unless that job already has a failure they have not acknowledged) and stays a
to-do on their home page and on the schedules page until acknowledged.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.holders import PermissionHolders
from unionaid.accounts.models import User
from unionaid.core.errors import ServiceError
from unionaid.notifications.services import notify
from unionaid.schedules import expressions, registry
from unionaid.schedules.access import PERMISSION
from unionaid.schedules.models import RunOutcome, RunTrigger, Schedule, ScheduleRun

logger = logging.getLogger(__name__)

DEFAULT_RUN_TIMEOUT_MINUTES = 360


def this_host() -> str:
    return socket.gethostname()[:100]


def run_timeout() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "SCHEDULER_RUN_TIMEOUT_MINUTES",
                                        DEFAULT_RUN_TIMEOUT_MINUTES))


def schedule_for(job: registry.Job, *, now: dt.datetime) -> Schedule:
    """The job's stored schedule, made with its default expression on first use."""
    schedule, _created = Schedule.objects.get_or_create(
        key=job.key, defaults={"expression": job.default_schedule, "not_before": now})
    return schedule


# -- claiming -----------------------------------------------------------------------------------

def run_claim(*, schedule: Schedule, slot: dt.datetime, trigger: str, now: dt.datetime,
              host: str, pid: int, requested_by=None) -> ScheduleRun | None:
    """Insert the run of ``slot``, committed before the job starts; None when another process
    holds that slot, or a run of the job is still running."""
    try:
        with transaction.atomic():
            if trigger == RunTrigger.MANUAL:
                # Take the request; a process that took it first leaves nothing to update.
                taken = Schedule.objects.filter(pk=schedule.pk, run_requested_at=slot).update(
                    run_requested_at=None, run_requested_by=None)
                if not taken:
                    return None
            return ScheduleRun.objects.create(
                schedule=schedule, slot=slot, trigger=trigger, requested_by=requested_by,
                started_at=now, outcome=RunOutcome.RUNNING, host=host, pid=pid)
    except IntegrityError:
        return None


def due_slot(schedule: Schedule, *, now: dt.datetime) -> dt.datetime | None:
    """The slot to run now, or None: the latest slot at or before ``now``, if it is newer than
    the last scheduled run's and than ``not_before``."""
    if not schedule.enabled:
        return None
    slot = expressions.latest_slot(schedule.expression, now)
    if slot is None or slot <= schedule.not_before:
        return None
    if ScheduleRun.objects.filter(schedule=schedule, trigger=RunTrigger.SCHEDULED,
                                  slot__gte=slot).exists():
        return None
    return slot


# -- running ------------------------------------------------------------------------------------

def safe_error(exc: BaseException) -> str:
    """What a failure is recorded as: a job's own JobFailed message, else the exception's class
    (and a service error's code) — never its text, which might carry personal data."""
    if isinstance(exc, registry.JobFailed):
        return str(exc)[:200]
    name = type(exc).__name__
    if isinstance(exc, ServiceError):
        return f"{name} ({exc.code})"[:200]
    return name[:200]


def run_execute(job: registry.Job, run: ScheduleRun, *, now: dt.datetime) -> ScheduleRun:
    """Run ``job`` for its claimed ``run`` and record how it went."""
    started = time.monotonic()
    summary, error = "", ""
    try:
        result = job.func(now=now)
        summary = "" if result is None else str(result)[:200]
    except registry.JobFailed as exc:
        logger.warning("scheduled job %s failed: %s", job.key, exc)
        error = safe_error(exc)
    except Exception as exc:
        logger.exception("scheduled job %s failed", job.key)
        error = safe_error(exc)
    elapsed = dt.timedelta(seconds=time.monotonic() - started)
    run.finished_at = run.started_at + elapsed
    run.duration_ms = int(elapsed.total_seconds() * 1000)
    run.outcome = RunOutcome.FAILED if error else RunOutcome.OK
    run.summary, run.error = summary, error
    with transaction.atomic():
        # Left alone if it was meanwhile given up as stale (then it is already failed).
        updated = ScheduleRun.objects.filter(pk=run.pk, outcome=RunOutcome.RUNNING).update(
            finished_at=run.finished_at, duration_ms=run.duration_ms, outcome=run.outcome,
            summary=summary, error=error)
        if updated and error:
            notify_failure(run)
    return run


def notify_failure(run: ScheduleRun) -> int:
    """Tell the system admins that ``run`` failed, unless its job already has a failure they
    have not acknowledged (one open to-do per job is enough). Returns how many were told."""
    schedule = run.schedule
    if (ScheduleRun.objects.filter(schedule=schedule, outcome=RunOutcome.FAILED,
                                   acknowledged_at__isnull=True).exclude(pk=run.pk).exists()):
        return 0
    user_ids = {grant.user_id for grant in PermissionHolders(PERMISSION).grants}
    link = reverse("schedules:detail", args=[schedule.key])
    when = timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M")
    title = _("定时任务运行失败：%(job)s") % {"job": schedule.label}
    body = _("%(when)s 的运行失败（%(error)s）。请到“定时任务”页面查看，处理后点“确认已处理”。") % {
        "when": when, "error": run.error}
    users = list(User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk"))
    for user in users:
        notify(recipient=user, title=title, body=body, link=link)
    return len(users)


# -- runs left behind ---------------------------------------------------------------------------

def _process_gone(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, someone else's
        return False
    return False


def runs_fail_abandoned(*, now: dt.datetime, host: str, pid: int | None = None) -> int:
    """Mark failed the runs still "running" that nobody runs any more: this host's whose
    process is gone (or is ``pid``, given by a scheduler that has just started, so no run is
    its own yet), and anyone's older than the run timeout. Returns how many."""
    stale_before = now - run_timeout()
    count = 0
    for run in ScheduleRun.objects.filter(outcome=RunOutcome.RUNNING).select_related("schedule"):
        if run.started_at < stale_before:
            error = _("运行超时（超过 %(minutes)d 分钟仍未结束），视为中断") % {
                "minutes": int(run_timeout().total_seconds() // 60)}
        elif run.host == host and (run.pid == pid or _process_gone(run.pid)):
            error = _("运行中断：运行它的进程已退出")
        else:
            continue
        with transaction.atomic():
            updated = ScheduleRun.objects.filter(pk=run.pk, outcome=RunOutcome.RUNNING).update(
                outcome=RunOutcome.FAILED, finished_at=now, error=error[:200],
                duration_ms=max(0, int((now - run.started_at).total_seconds() * 1000)))
            if updated:
                run.outcome, run.error = RunOutcome.FAILED, error[:200]
                notify_failure(run)
                count += 1
    return count


# -- the tick -----------------------------------------------------------------------------------

def scheduler_tick(*, now: dt.datetime | None = None, host: str | None = None,
                   pid: int | None = None,
                   stop: Callable[[], bool] | None = None) -> list[ScheduleRun]:
    """One pass over the registered jobs; returns the runs it made. ``now`` fixes the clock
    (tests); otherwise each job reads the time when its turn comes. ``stop()`` is asked
    between jobs (a scheduler asked to stop finishes the job it is running, no more)."""
    clock = (lambda: now) if now is not None else timezone.now
    host = host if host is not None else this_host()
    pid = pid if pid is not None else os.getpid()
    runs_fail_abandoned(now=clock(), host=host)
    done: list[ScheduleRun] = []
    for job in registry.jobs():
        if stop is not None and stop():
            break
        moment = clock()
        schedule = schedule_for(job, now=moment)
        if schedule.run_requested_at is not None:
            run = run_claim(schedule=schedule, slot=schedule.run_requested_at,
                            trigger=RunTrigger.MANUAL, now=moment, host=host, pid=pid,
                            requested_by=schedule.run_requested_by)
            if run is not None:
                done.append(run_execute(job, run, now=moment))
                moment = clock()
        slot = due_slot(schedule, now=moment)
        if slot is not None:
            run = run_claim(schedule=schedule, slot=slot, trigger=RunTrigger.SCHEDULED,
                            now=moment, host=host, pid=pid)
            if run is not None:
                done.append(run_execute(job, run, now=moment))
    return done
