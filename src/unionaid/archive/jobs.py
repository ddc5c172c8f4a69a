"""The archive's periodic jobs, run by the scheduler (``unionaid.schedules``)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.archive.services.reminders import recheck_remind
from unionaid.archive.services.watch import RULE_KINDS, watchlists_refresh
from unionaid.schedules.registry import register_job


def remind(*, now) -> str:
    count = recheck_remind(today=timezone.localdate(now))
    return gettext("已发送提醒 %(n)d 条") % {"n": count}


def refresh_watchlists(*, now) -> str:
    result = watchlists_refresh(actor=None, today=timezone.localdate(now), kinds=RULE_KINDS)
    counts = [c for c in result.values() if isinstance(c, dict)]
    return gettext("符合 %(matched)d 人，新增 %(added)d，移出 %(removed)d") % {
        "matched": sum(c["matched"] for c in counts), "added": sum(c["added"] for c in counts),
        "removed": sum(c["removed"] for c in counts)}


def register() -> None:
    register_job(
        "archive.recheck_remind", remind, default_schedule="0 8 * * *",
        label=_("复核与跟进到期提醒"),
        description=_("提醒干部 30 天内到期的年度复核和已到期的跟进事项（同一到期日只提醒一次）。"
                      "默认每天 8:00，上班时收到。"))
    register_job(
        "archive.watch_refresh", refresh_watchlists, default_schedule="30 1 * * *",
        label=_("动态管理清单刷新"),
        description=_("按规则重算边缘困难职工、新就业形态劳动者、困难企业职工清单；手工列入的不受影响。"
                      "默认每天 1:30。"))
