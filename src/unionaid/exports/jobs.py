"""The exports engine's periodic job, run by the scheduler (``unionaid.schedules``)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.exports.services import export_jobs_cleanup
from unionaid.schedules.registry import register_job


def cleanup(*, now) -> str:
    result = export_jobs_cleanup(actor=None, now=now)
    return gettext("删除过期文件 %(deleted)d 个、无主文件 %(orphans)d 个，取消 %(cancelled)d 个，"
                   "终止 %(stuck)d 个") % {
        "deleted": result.deleted, "orphans": result.orphans, "cancelled": result.cancelled,
        "stuck": result.stuck}


def register() -> None:
    register_job(
        "exports.cleanup", cleanup, default_schedule="15 * * * *",
        label=_("清理过期导出"),
        description=_("删除超过 24 小时的后台导出文件，取消过期未执行的导出，终止运行超时的导出。"
                      "默认每小时第 15 分。"))
