"""Assistance's periodic job, run by the scheduler (``unionaid.schedules``)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.assistance.storage import storage_sweep
from unionaid.schedules.registry import JobFailed, register_job


def sweep(*, now) -> str:
    result = storage_sweep(actor=None)
    if result.failed:
        raise JobFailed(gettext("有 %(n)d 个无引用文件无法删除（见日志）") % {"n": result.failed})
    return gettext("检查文件 %(scanned)d 个，删除无引用文件 %(orphans)d 个") % {
        "scanned": result.scanned, "orphans": result.orphans}


def register() -> None:
    register_job(
        "assistance.storage_sweep", sweep, default_schedule="0 3 * * *",
        label=_("清理无主上传文件"),
        description=_("删除私有存储中没有任何记录引用、且超过一天的上传文件（申请材料、走访照片）。"
                      "默认每天 3:00。"))
