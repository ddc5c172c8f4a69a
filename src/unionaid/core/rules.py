"""Safe evaluation of the small rule expressions admins type (eligibility, skip conditions).

Expressions are Python-like (``amount <= 2000 and membership_active``, ``case in ['本科新生']``)
and are evaluated by simpleeval over a dict of named facts: no attribute access, no imports, no
calls except a few whitelisted functions, bounded sizes. Never ``eval``.
"""

from __future__ import annotations

import ast
import operator
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from simpleeval import (
    DEFAULT_OPERATORS,
    EvalWithCompoundTypes,
    FeatureNotAvailable,
    InvalidExpression,
    NumberTooHigh,
)

from unionaid.core.errors import ServiceError

MAX_LENGTH = 300
FUNCTIONS = {"min": min, "max": max, "abs": abs, "len": len, "round": round}
MAX_EXPONENT = 100          # simpleeval allows 4,000,000 ** 4,000,000 (minutes of CPU)
MAX_POWER_BASE = 10 ** 6


def _power(base, exponent):
    if abs(exponent) > MAX_EXPONENT or abs(base) > MAX_POWER_BASE:
        raise NumberTooHigh(f"{base} ** {exponent}")
    return operator.pow(base, exponent)


OPERATORS = {**DEFAULT_OPERATORS, ast.Pow: _power}


class _Evaluator(EvalWithCompoundTypes):
    """simpleeval without method calls: ``school.ljust(10**10)`` would pass its checks (only
    a few dangerous names are refused) and allocate gigabytes."""

    def _eval_call(self, node):
        if isinstance(node.func, ast.Attribute):
            raise FeatureNotAvailable(_("规则中不能调用方法（%(name)s）。") % {"name": node.func.attr})
        return super()._eval_call(node)


class RuleError(ServiceError):
    default_code = "invalid_rule"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def evaluate(expression: str, facts: dict[str, Any]) -> Any:
    """Evaluate ``expression`` over ``facts``. Unknown names or bad syntax raise RuleError."""
    expression = (expression or "").strip()
    if not expression:
        raise RuleError(_("规则为空。"))
    if len(expression) > MAX_LENGTH:
        raise RuleError(_("规则过长。"))
    evaluator = _Evaluator(
        names={k: _plain(v) for k, v in facts.items()}, functions=FUNCTIONS, operators=OPERATORS
    )
    try:
        return evaluator.eval(expression)
    except InvalidExpression as exc:
        raise RuleError(_("规则无法计算：%(error)s") % {"error": exc}) from None
    except (SyntaxError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise RuleError(_("规则无法计算：%(error)s") % {"error": exc}) from None


def holds(expression: str, facts: dict[str, Any]) -> bool:
    return bool(evaluate(expression, facts))


def check_syntax(expression: str, names: set[str]) -> None:
    """Validate an expression when an admin saves it: every name must be a known fact."""
    sample = dict.fromkeys(names, 0)
    evaluate(expression, sample)
