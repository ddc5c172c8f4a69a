"""The portal's periodic job: old login attempts and expired login codes are deleted."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.portal.activation import login_codes_purge, login_codes_send_queued
from unionaid.schedules.registry import register_job


def purge_login_codes(*, now) -> str:
    attempts, codes = login_codes_purge(now=now)
    return gettext("删除登录尝试 %(a)d 条、过期验证码 %(c)d 个") % {"a": attempts, "c": codes}


def send_lost_login_codes(*, now) -> str:
    """Codes whose send task was lost (the process ended between commit and queue)."""
    sent = login_codes_send_queued(before=now - dt.timedelta(minutes=2))
    return gettext("补发验证码 %(n)d 个") % {"n": sent}


def register() -> None:
    register_job(
        "portal.login_codes_send", send_lost_login_codes, default_schedule="* * * * *",
        label=_("补发登录验证码"),
        description=_("把发送任务丢失（进程在提交后、排队前结束）的登录验证码交给短信发送；"
                      "两分钟内生成的留给各自的任务。默认每分钟。"))
    register_job(
        "portal.login_codes_purge", purge_login_codes, default_schedule="15 4 * * *",
        label=_("清理登录验证码"),
        description=_("删除超过限流统计期的登录尝试记录和已过期一周的验证码。默认每天 4:15。"))
