"""Schedule expressions: five-field cron (分 时 日 月 周) in the server's time zone (TIME_ZONE,
Asia/Shanghai), read by cronsim (the library healthchecks uses for the same job). This module is
the only one that touches it: validation with Chinese messages, the latest slot due, the next
slots, and a few common shapes said in words."""

from __future__ import annotations

import datetime as dt
import re

from cronsim import CronSim, CronSimError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.core.errors import ServiceError

MAX_LENGTH = 100

# cronsim's messages (English, stable) → which part of the expression is wrong.
_PARTS = {
    "Bad minute": _("“分”一段不正确，应为 0–59。"),
    "Bad hour": _("“时”一段不正确，应为 0–23。"),
    "Bad day-of-month": _("“日”一段不正确，应为 1–31，且该月要有这一天。"),
    "Bad month": _("“月”一段不正确，应为 1–12。"),
    "Bad day-of-week": _("“周”一段不正确，应为 0–7（0 和 7 都是周日）。"),
    "Wrong number of fields": _("应为用空格分开的 5 段：分 时 日 月 周，例如“0 2 * * *”表示每天 2:00。"),
}


class InvalidExpression(ServiceError):
    status = 422  # invalid input, like a schema error
    default_code = "invalid_expression"
    default_message = _("时间表达式无效。")

    def __init__(self, detail=None):
        message = gettext("时间表达式无效：%(detail)s") % {"detail": detail} if detail else None
        super().__init__(message)
        self.fields = {"expression": self.message}


def normalize(expression: str) -> str:
    """The expression with its spaces tidied, or InvalidExpression (a Chinese message saying
    which part is wrong, or that it never comes round)."""
    text = " ".join(str(expression or "").split())
    if not text:
        raise InvalidExpression(gettext("请填写时间表达式。"))
    if len(text) > MAX_LENGTH:
        raise InvalidExpression(gettext("不能超过 %(n)d 个字符。") % {"n": MAX_LENGTH})
    try:
        next(CronSim(text, timezone.localtime()))
    except CronSimError as exc:
        raise InvalidExpression(_PARTS.get(str(exc), gettext("格式不正确。"))) from None
    except StopIteration:
        raise InvalidExpression(gettext("这个时间永远不会到来（例如 4 月 31 日）。")) from None
    return text


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment).replace(microsecond=0)


def latest_slot(expression: str, now: dt.datetime) -> dt.datetime | None:
    """The latest moment at or before ``now`` that ``expression`` names (None if none in
    the last 50 years)."""
    # cronsim's reverse iteration yields moments strictly before its start.
    try:
        return next(CronSim(expression, _local(now) + dt.timedelta(seconds=1), reverse=True))
    except StopIteration:
        return None


def next_slots(expression: str, now: dt.datetime, count: int = 3) -> list[dt.datetime]:
    """The next ``count`` moments after ``now`` (local time), fewer if the expression is bad."""
    slots: list[dt.datetime] = []
    try:
        it = CronSim(expression, _local(now))
        for _n in range(count):
            slots.append(next(it))
    except (CronSimError, StopIteration):
        pass
    return slots


# -- in words ------------------------------------------------------------------------------------

_NUMBER = re.compile(r"\d{1,2}\Z")
_NUMBERS = re.compile(r"\d{1,2}(,\d{1,2})*\Z")
_STEP = re.compile(r"\*/(\d{1,2})\Z")
_RANGE = re.compile(r"(\d)-(\d)\Z")
_WEEKDAYS = (_("周日"), _("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"),
             _("周日"))


def _weekdays(field: str) -> str | None:
    if (m := _RANGE.match(field)) and int(m[2]) <= 7:
        return gettext("%(first)s至%(last)s") % {"first": _WEEKDAYS[int(m[1])],
                                                  "last": _WEEKDAYS[int(m[2])]}
    if _NUMBERS.match(field) and all(int(d) <= 7 for d in field.split(",")):
        return "、".join(str(_WEEKDAYS[int(d)]) for d in field.split(","))
    return None


def describe(expression: str) -> str:
    """Common shapes in words ("每天 02:00", "每 15 分钟", "每周一至周五 08:30", "每月 1 日
    03:00"); "" for anything else (the page then shows the next times only)."""
    parts = expression.split()
    if len(parts) != 5:
        return ""
    minute, hour, dom, month, dow = parts
    if month != "*":
        return ""
    if (hour, dom, dow) == ("*", "*", "*"):
        if minute == "*":
            return gettext("每分钟")
        if m := _STEP.match(minute):
            return gettext("每 %(n)s 分钟") % {"n": m[1]}
        if _NUMBER.match(minute):
            return gettext("每小时第 %(m)s 分") % {"m": int(minute)}
        return ""
    if not (_NUMBER.match(minute) and _NUMBERS.match(hour)):
        return ""
    times = "、".join(f"{int(h):02d}:{int(minute):02d}" for h in hour.split(","))
    if (dom, dow) == ("*", "*"):
        return gettext("每天 %(times)s") % {"times": times}
    if dom == "*" and (days := _weekdays(dow)):
        return gettext("每%(days)s %(times)s") % {"days": days, "times": times}
    if dow == "*" and _NUMBERS.match(dom):
        return gettext("每月 %(days)s 日 %(times)s") % {"days": dom.replace(",", "、"),
                                                      "times": times}
    return ""
