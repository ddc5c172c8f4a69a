"""The statistics' periodic job: the incremental refresh, every minute."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.schedules.registry import register_job
from unionaid.stats.store import refresh


def refresh_job(*, now) -> str:
    counts = refresh(now=now)
    return gettext("统计已更新：%(n)d 条记录有变化") % {"n": sum(counts.values())}


def register() -> None:
    register_job(
        "stats.refresh", refresh_job, default_schedule="* * * * *",
        label=_("统计数据更新"),
        description=_("把新的申请、审批结果、发放、建档和走访计入统计汇总表（增量，按水位线读取，"
                      "重复运行不会重复计数）。默认每分钟。"))
