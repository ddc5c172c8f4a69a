"""/api/v1/schedules: the periodic jobs and their schedules, for the system admin
(``system.config``; anyone else gets 403 ``permission_denied``).

``GET /schedules`` lists every registered job with its expression, the next times and its last
run; ``PATCH /schedules/{key}`` changes the expression and/or switches it on or off (a bad
expression is 422 ``invalid_expression`` and nothing is saved; an unknown job is 404).
"""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema

from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema
from unionaid.schedules import selectors, services
from unionaid.schedules.models import RunOutcome, RunTrigger
from unionaid.schedules.selectors import JobView

router = Router(tags=["schedules"])


class LastRunOut(Schema):
    slot: dt.datetime
    trigger: RunTrigger
    started_at: dt.datetime
    finished_at: dt.datetime | None
    duration_ms: int | None
    outcome: RunOutcome
    summary: str
    error: str


class ScheduleOut(Schema):
    key: str
    label: str
    description: str
    expression: str = Field(..., description="5 段时间表达式：分 时 日 月 周（北京时间）")
    default_expression: str
    in_words: str = Field(..., description="常见写法的中文说明；其他写法为空")
    enabled: bool
    next_runs: list[dt.datetime]
    run_requested_at: dt.datetime | None
    late_slot: dt.datetime | None = Field(
        ..., description="到时间未运行的计划时间（调度程序可能没有在运行）；按时则为空")
    last_run: LastRunOut | None
    failures_to_acknowledge: int


def _out(view: JobView) -> dict:
    run = view.last_run
    return {
        "key": view.key, "label": str(view.job.label), "description": str(view.job.description),
        "expression": view.schedule.expression, "default_expression": view.job.default_schedule,
        "in_words": view.words, "enabled": view.schedule.enabled, "next_runs": view.next_runs,
        "run_requested_at": view.schedule.run_requested_at, "late_slot": view.late_slot,
        "last_run": None if run is None else {
            "slot": run.slot, "trigger": run.trigger, "started_at": run.started_at,
            "finished_at": run.finished_at, "duration_ms": run.duration_ms,
            "outcome": run.outcome, "summary": run.summary, "error": run.error},
        "failures_to_acknowledge": view.failures,
    }


# -- GET /schedules -----------------------------------------------------------------------------

@router.get("", response={200: list[ScheduleOut], 401: ErrorOut, 403: ErrorOut},
            summary="定时任务列表（系统管理员）")
def schedule_list(request):
    return [_out(view) for view in selectors.schedules_overview(user=request.auth)]


# -- PATCH /schedules/{key} ---------------------------------------------------------------------

class ScheduleUpdateIn(InputSchema):
    expression: str | None = Field(None, max_length=100,
                                   description="新的时间表达式；不填则不改")
    enabled: bool | None = Field(None, description="启用或停用；不填则不改")


@router.patch("/{key}", response={200: ScheduleOut, **WRITE_ERRORS, **READ_ERRORS},
              summary="修改定时任务的运行时间或启用状态")
def schedule_update(request, key: str, payload: ScheduleUpdateIn):
    services.schedule_update(actor=request.auth, key=key, expression=payload.expression,
                             enabled=payload.enabled)
    return _out(selectors.schedule_view(user=request.auth, key=key))
