"""Reads for the schedules page and API: every registered job with its stored schedule (or its
default, before the scheduler first saw it), its last run, unacknowledged failures and next
times; one job's recent runs; the system admin's to-do count."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.utils import timezone

from unionaid.core.errors import NotFound
from unionaid.schedules import expressions, registry
from unionaid.schedules.access import may_manage, require_manage
from unionaid.schedules.models import RunOutcome, RunTrigger, Schedule, ScheduleRun

RECENT_RUNS = 20
# A slot not run this long after it came means no scheduler is running (or it is stuck).
LATE_AFTER = dt.timedelta(minutes=10)


@dataclass
class JobView:
    job: registry.Job
    schedule: Schedule  # unsaved (the defaults) until the scheduler or an admin made the row
    last_run: ScheduleRun | None = None
    failures: int = 0  # failed runs not acknowledged
    next_runs: list[dt.datetime] = field(default_factory=list)
    words: str = ""  # the expression in words, "" when it is not a common shape
    late_slot: dt.datetime | None = None  # a slot that should have run by now and has not

    @property
    def key(self) -> str:
        return self.job.key

    @property
    def is_default(self) -> bool:
        return self.schedule.expression == self.job.default_schedule


def _failures_q() -> Q:
    return Q(runs__outcome=RunOutcome.FAILED, runs__acknowledged_at__isnull=True)


def _views(jobs: list[registry.Job], now: dt.datetime) -> list[JobView]:
    last_run_id = Subquery(ScheduleRun.objects.filter(schedule=OuterRef("pk"))
                           .order_by("-started_at", "-pk").values("pk")[:1])
    rows = {s.key: s for s in Schedule.objects.filter(key__in=[j.key for j in jobs])
            .annotate(last_run_id=last_run_id, failures=Count("runs", filter=_failures_q()),
                      last_slot=Max("runs__slot",
                                    filter=Q(runs__trigger=RunTrigger.SCHEDULED)))
            .select_related("updated_by", "run_requested_by")}
    last_runs = ScheduleRun.objects.in_bulk(
        [s.last_run_id for s in rows.values() if s.last_run_id])
    views = []
    for job in jobs:
        schedule = rows.get(job.key) or Schedule(key=job.key, expression=job.default_schedule,
                                                 enabled=True, not_before=now)
        view = JobView(job=job, schedule=schedule,
                       last_run=last_runs.get(getattr(schedule, "last_run_id", None)),
                       failures=getattr(schedule, "failures", 0),
                       words=expressions.describe(schedule.expression))
        if schedule.enabled:
            view.next_runs = expressions.next_slots(schedule.expression, now)
            view.late_slot = _late_slot(schedule, now)
        views.append(view)
    return views


def _late_slot(schedule: Schedule, now: dt.datetime) -> dt.datetime | None:
    if schedule.pk is None:
        return None
    slot = expressions.latest_slot(schedule.expression, now - LATE_AFTER)
    if slot is None or slot <= schedule.not_before:
        return None
    last = getattr(schedule, "last_slot", None)
    return slot if last is None or last < slot else None


def schedules_overview(*, user, now: dt.datetime | None = None) -> list[JobView]:
    """Every registered job, in key order (three queries)."""
    require_manage(user)
    return _views(registry.jobs(), now or timezone.now())


def schedule_view(*, user, key: str, now: dt.datetime | None = None) -> JobView:
    """One registered job; an unregistered key is not found."""
    require_manage(user)
    job = registry.job_or_none(key)
    if job is None:
        raise NotFound()
    return _views([job], now or timezone.now())[0]


def runs_recent(*, view: JobView, limit: int = RECENT_RUNS) -> list[ScheduleRun]:
    if view.schedule.pk is None:
        return []
    return list(ScheduleRun.objects.filter(schedule=view.schedule)
                .select_related("requested_by", "acknowledged_by")[:limit])


def failures_to_acknowledge(*, user) -> int:
    """Failed runs of registered jobs not yet acknowledged (0 for anyone but the system
    admin)."""
    if not may_manage(user):
        return 0
    return ScheduleRun.objects.filter(
        outcome=RunOutcome.FAILED, acknowledged_at__isnull=True,
        schedule__key__in=[job.key for job in registry.jobs()]).count()


def schedule_todos(*, user, now: dt.datetime | None = None) -> int:
    """The system admin's to-do count: failed runs to acknowledge, plus jobs whose slot has
    not run on time (no scheduler running?). 0 for anyone else."""
    if not may_manage(user):
        return 0
    late = sum(1 for view in _views(registry.jobs(), now or timezone.now()) if view.late_slot)
    return failures_to_acknowledge(user=user) + late
