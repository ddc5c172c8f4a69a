"""Set-up for the scheduler's tests: the registry holds only the jobs a test registers (the
real ones are put aside, so a tick never sweeps files or verifies the journal here), a toy job
that records its calls, and a fixed clock."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from unionaid.schedules import registry

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 12, 7, 10, 30, tzinfo=SHANGHAI)  # a Monday, 10:30 Beijing time


class ToyJob:
    """A job that records each call's ``now`` and fails with ``fail`` when it is set."""

    def __init__(self):
        self.calls: list[dt.datetime] = []
        self.fail: BaseException | None = None

    def __call__(self, *, now):
        self.calls.append(now)
        if self.fail is not None:
            raise self.fail
        return "处理 1 条"


@pytest.fixture
def only_jobs(monkeypatch):
    monkeypatch.setattr(registry, "_JOBS", {})
    return registry


@pytest.fixture
def toy(only_jobs) -> ToyJob:
    job = ToyJob()
    only_jobs.register_job("test.toy", job, default_schedule="0 * * * *", label="测试任务",
                           description="测试用的任务，每小时整点")
    return job
