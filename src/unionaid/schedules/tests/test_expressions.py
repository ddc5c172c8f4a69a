"""Schedule expressions: validation in Chinese, the latest slot due, the next ones, in words."""

from __future__ import annotations

import datetime as dt

import pytest

from unionaid.schedules import expressions
from unionaid.schedules.expressions import InvalidExpression
from unionaid.schedules.tests.conftest import SHANGHAI, T0


def test_the_latest_slot_is_at_or_before_now_in_beijing_time():
    assert expressions.latest_slot("0 2 * * *", T0) == dt.datetime(2026, 12, 7, 2, 0,
                                                                   tzinfo=SHANGHAI)
    on_the_dot = dt.datetime(2026, 12, 7, 2, 0, tzinfo=SHANGHAI)
    assert expressions.latest_slot("0 2 * * *", on_the_dot) == on_the_dot
    # a UTC clock gives the same answer: the expression is local time
    assert expressions.latest_slot("0 2 * * *", T0.astimezone(dt.UTC)) == on_the_dot


def test_the_next_slots_come_after_now():
    assert expressions.next_slots("30 8 * * 1-5", T0, count=2) == [
        dt.datetime(2026, 12, 8, 8, 30, tzinfo=SHANGHAI),
        dt.datetime(2026, 12, 9, 8, 30, tzinfo=SHANGHAI)]


@pytest.mark.parametrize(("expression", "words"), [
    ("61 * * * *", "“分”一段不正确"),
    ("0 25 * * *", "“时”一段不正确"),
    ("0 0 32 * *", "“日”一段不正确"),
    ("0 0 * 13 *", "“月”一段不正确"),
    ("0 0 * * 9", "“周”一段不正确"),
    ("0 2 * *", "应为用空格分开的 5 段"),
    ("每天两点", "应为用空格分开的 5 段"),
    ("", "请填写时间表达式"),
    ("0 0 " + "1," * 60 + "2 * *", "不能超过"),
])
def test_a_bad_expression_is_refused_in_chinese(expression, words):
    with pytest.raises(InvalidExpression) as exc:
        expressions.normalize(expression)
    assert exc.value.code == "invalid_expression"
    assert words in exc.value.message
    assert exc.value.message.startswith("时间表达式无效")
    assert exc.value.fields == {"expression": exc.value.message}


def test_spaces_are_tidied():
    assert expressions.normalize("  0   2 * *\t* ") == "0 2 * * *"


@pytest.mark.parametrize(("expression", "words"), [
    ("* * * * *", "每分钟"),
    ("*/15 * * * *", "每 15 分钟"),
    ("5 * * * *", "每小时第 5 分"),
    ("0 2 * * *", "每天 02:00"),
    ("0 9,14 * * *", "每天 09:00、14:00"),
    ("30 8 * * 1-5", "每周一至周五 08:30"),
    ("0 7 * * 0,6", "每周日、周六 07:00"),
    ("0 3 1 * *", "每月 1 日 03:00"),
    ("0 3 1 1 *", ""),
    ("0 */2 * * *", ""),
])
def test_common_shapes_are_said_in_words(expression, words):
    assert expressions.describe(expression) == words
