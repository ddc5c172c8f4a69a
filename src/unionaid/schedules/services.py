"""The system admin's changes to the schedules: expression and on/off, "run now", and
acknowledging failures. Each checks ``system.config``, refuses a job nobody registered as not
found, validates before writing (nothing is saved on a bad expression) and journals the change
in the same transaction."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, NotFound
from unionaid.schedules import expressions, registry
from unionaid.schedules.access import require_manage
from unionaid.schedules.models import RunOutcome, Schedule, ScheduleRun
from unionaid.schedules.runner import schedule_for


def _job(key: str) -> registry.Job:
    job = registry.job_or_none(key)
    if job is None:
        raise NotFound()
    return job


def _locked(job: registry.Job, now: dt.datetime) -> Schedule:
    schedule = schedule_for(job, now=now)
    return Schedule.objects.select_for_update().get(pk=schedule.pk)


@transaction.atomic
def schedule_update(*, actor, key: str, expression: str | None = None,
                    enabled: bool | None = None, now: dt.datetime | None = None) -> Schedule:
    """Change a job's expression and/or switch it on or off. A new expression, or switching
    back on, counts from now: slots before it are not "missed"."""
    require_manage(actor)
    job = _job(key)
    if expression is not None:
        expression = expressions.normalize(expression)  # InvalidExpression before any write
    now = now or timezone.now()
    schedule = _locked(job, now)
    changes: dict = {}
    if expression is not None and expression != schedule.expression:
        changes["expression"] = {"before": schedule.expression, "after": expression}
        schedule.expression = expression
        schedule.not_before = now
    if enabled is not None and enabled != schedule.enabled:
        changes["enabled"] = {"before": schedule.enabled, "after": enabled}
        schedule.enabled = enabled
        if enabled:
            schedule.not_before = max(schedule.not_before, now)
    if changes:
        schedule.updated_by, schedule.updated_at = actor, now
        schedule.save(update_fields=["expression", "enabled", "not_before", "updated_by",
                                     "updated_at"])
        audit_record(actor=actor, action="schedule.update", target=schedule, changes=changes)
    return schedule


@transaction.atomic
def schedule_run_request(*, actor, key: str, now: dt.datetime | None = None) -> Schedule:
    """Ask the scheduler to run a job on its next tick, whatever its schedule (also when it is
    switched off). A request still waiting is not asked twice (Conflict)."""
    require_manage(actor)
    job = _job(key)
    now = now or timezone.now()
    schedule = _locked(job, now)
    if schedule.run_requested_at is not None:
        raise Conflict(_("已经请求过立即运行，正在等待调度程序执行。"), code="run_already_requested")
    schedule.run_requested_at, schedule.run_requested_by = now, actor
    schedule.save(update_fields=["run_requested_at", "run_requested_by"])
    audit_record(actor=actor, action="schedule.run_request", target=schedule)
    return schedule


@transaction.atomic
def schedule_failures_acknowledge(*, actor, key: str, now: dt.datetime | None = None) -> int:
    """Mark a job's failed runs as seen and handled: they leave the system admins' to-do.
    Returns how many; none to acknowledge is a Conflict."""
    require_manage(actor)
    job = _job(key)
    now = now or timezone.now()
    schedule = _locked(job, now)
    run_ids = list(ScheduleRun.objects.filter(
        schedule=schedule, outcome=RunOutcome.FAILED, acknowledged_at__isnull=True,
    ).values_list("pk", flat=True))
    if not run_ids:
        raise Conflict(_("没有待确认的失败记录。"), code="nothing_to_acknowledge")
    ScheduleRun.objects.filter(pk__in=run_ids).update(acknowledged_at=now, acknowledged_by=actor)
    audit_record(actor=actor, action="schedule.failures_acknowledge", target=schedule,
                 changes={"runs": run_ids})
    return len(run_ids)
