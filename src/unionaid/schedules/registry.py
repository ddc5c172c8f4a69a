"""Scheduled jobs (定时任务): what the scheduler may run. The engine knows no domain; each periodic
job is registered at start-up by the app that owns its work, in its ``AppConfig.ready()``::

    from unionaid.schedules.registry import register_job
    register_job("approvals.escalate", escalate_job, default_schedule="0 * * * *",
                 label=_("超期待办督办"), description=_("…"))

``func`` is called as ``func(now=<aware datetime>)`` (the scheduler's tick time; tests pass
their own) outside any transaction, so it opens its own; it returns a short summary for the
admins' page (no personal data: counts, not names) or None, and fails by raising. Raise
``JobFailed("…")`` for a failure whose message is fit to show the admins as it is; any other
exception is recorded by its class name only (its message might carry personal data; the log
has the traceback, redacted by the logging filter).

A job nobody registered is "not found" on the page and in the API, and never run (a row left
by a removed app stays, untouched).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from unionaid.schedules import expressions

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\Z")
KEY_MAX_LENGTH = 60


class JobFailed(Exception):
    """Raised by a job for a failure whose message may be shown to the admins as it is (it
    carries no personal data), e.g. "有 3 个文件无法删除"."""


@dataclass(frozen=True)
class Job:
    """One registered periodic job.

    ``key``               "<app>.<job>", at most 60 characters, e.g. "approvals.escalate";
    ``func``              ``func(*, now) -> str | None`` (see the module's docstring);
    ``default_schedule``  a five-field cron expression in the server's time zone (Asia/Shanghai),
                          used until an admin changes it;
    ``label``             the job's name for people, e.g. "超期待办督办";
    ``description``       one or two sentences: what it does, why it runs then.
    """

    key: str
    func: Callable[..., Any]
    default_schedule: str
    label: Any
    description: Any


_JOBS: dict[str, Job] = {}


def register_job(key: str, func: Callable[..., Any], *, default_schedule: str, label,
                 description) -> Job:
    """Register a periodic job. A malformed key or default schedule, or another job under a
    taken key, is a programming error (ValueError at start-up)."""
    if len(key) > KEY_MAX_LENGTH or not KEY_PATTERN.match(key):
        raise ValueError(f"job key {key!r} is not '<app>.<job>' (lower case, at most "
                         f"{KEY_MAX_LENGTH} characters)")
    if not callable(func):
        raise ValueError(f"job {key!r}: func is not callable")
    try:
        schedule = expressions.normalize(default_schedule)
    except expressions.InvalidExpression as exc:
        raise ValueError(f"job {key!r}: bad default schedule {default_schedule!r}: "
                         f"{exc.message}") from None
    job = Job(key=key, func=func, default_schedule=schedule, label=label,
              description=description)
    current = _JOBS.get(key)
    if current is not None and current.func is not func:
        raise ValueError(f"job {key!r} is already registered")
    _JOBS[key] = job
    return job


def unregister_job(key: str) -> None:
    """For tests that register a throwaway job."""
    _JOBS.pop(key, None)


def job_or_none(key: str) -> Job | None:
    return _JOBS.get(key)


def jobs() -> list[Job]:
    """Every registered job, in key order."""
    return [_JOBS[key] for key in sorted(_JOBS)]
