"""The portal's periodic job: old login attempts and expired login codes are deleted."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.portal.activation import login_codes_purge
from unionaid.schedules.registry import register_job


def purge_login_codes(*, now) -> str:
    attempts, codes = login_codes_purge(now=now)
    return gettext("删除登录尝试 %(a)d 条、过期验证码 %(c)d 个") % {"a": attempts, "c": codes}


def register() -> None:
    register_job(
        "portal.login_codes_purge", purge_login_codes, default_schedule="15 4 * * *",
        label=_("清理登录验证码"),
        description=_("删除超过限流统计期的登录尝试记录和已过期一周的验证码。默认每天 4:15。"))
