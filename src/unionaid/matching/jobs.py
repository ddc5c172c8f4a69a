"""The matching domain's periodic jobs, run by the scheduler (``unionaid.schedules``)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.matching.services import datasets_purge_expired, leads_catch_up
from unionaid.schedules.registry import register_job


def purge(*, now) -> str:
    counts = datasets_purge_expired(now=now)
    return gettext("清除到期数据 %(d)d 批，记录 %(r)d 条") % {"d": counts["datasets"],
                                                        "r": counts["records"]}


def catch_up(*, now) -> str:
    counts = leads_catch_up()
    return gettext("补发线索：检查比对 %(r)d 次，新增线索 %(l)d 条") % {"r": counts["runs"],
                                                               "l": counts["leads"]}


def register() -> None:
    register_job(
        "matching.purge", purge, default_schedule="15 2 * * *",
        label=_("外部数据到期清除"),
        description=_("按数据来源的保留天数，删除到期的外部数据记录（个人信息最小化），比对结论保留；"
                      "每次清除记入审计日志。默认每天 2:15。"))
    register_job(
        "matching.leads_catch_up", catch_up, default_schedule="45 2 * * *",
        label=_("比对线索补发"),
        description=_("为各数据当前比对中已匹配、已确认的结果补发线索（比对完成时发线索失败的，"
                      "在此补上；已有的线索不会重复）。默认每天 2:45。"))
