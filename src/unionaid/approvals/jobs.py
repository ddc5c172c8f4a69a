"""The approval engine's periodic job, run by the scheduler (``unionaid.schedules``)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.approvals.services import tasks_escalate_overdue
from unionaid.schedules.registry import register_job


def escalate(*, now) -> str:
    count = tasks_escalate_overdue(now=now)
    return gettext("已督办超期待办 %(n)d 条") % {"n": count}


def register() -> None:
    register_job(
        "approvals.escalate", escalate, default_schedule="0 * * * *",
        label=_("超期待办督办"),
        description=_("把超过办理时限的审批待办标记为超期，并通知上一级同名岗位（每条待办只督办一次）。"
                      "默认每小时整点运行。"))
