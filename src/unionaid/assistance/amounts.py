"""Amount rules: data an admin edits, turned into an amount and the calculation people see.

* ``{"kind": "fixed", "amount": 500}``
* ``{"kind": "share", "fact": "self_paid", "deductible": 2000, "rate": 0.5, "ceiling": 8000}``
  (a share of the part above a deductible, up to a ceiling)
* ``{"kind": "table", "fact": "case", "rows": {"本科新生": 5000, "专科新生": 4000}}``
* ``{"kind": "per_unit", "fact": "days", "rate": 100, "unit": "天", "ceiling": 3000}``
  (so much per day / per person, up to a ceiling)
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.core.errors import ServiceError

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("10000000")
KINDS = {
    "fixed": gettext_lazy("定额"),
    "share": gettext_lazy("按自付费用比例（起付线、封顶线）"),
    "table": gettext_lazy("按情形查表"),
    "per_unit": gettext_lazy("按天数/人数计算"),
}


def yuan(amount: Decimal) -> str:
    """5000 → "5,000.00"."""
    return f"{Decimal(amount).quantize(CENT, ROUND_HALF_UP):,.2f}"


def percent(rate: Decimal) -> str:
    text = format((rate * 100).normalize(), "f")
    return f"{text}%"


def _invalid(message: str) -> ServiceError:
    return ServiceError(message, code="invalid_amount_rule", fields={"amount_rule": message})


def _number(rule: dict, key: str, label: str, *, required: bool = True,
            positive: bool = False) -> Decimal | None:
    value = rule.get(key)
    if value in (None, ""):
        if required:
            raise _invalid(_("金额规则缺少“%(label)s”。") % {"label": label})
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _invalid(_("金额规则的“%(label)s”须为数字。") % {"label": label}) from None
    if not number.is_finite() or number < 0 or number > MAX_AMOUNT or (positive and number == 0):
        raise _invalid(_("金额规则的“%(label)s”超出范围。") % {"label": label})
    return number


def _fact(rule: dict, facts_by_name: dict[str, dict], types: set[str]) -> str:
    name = rule.get("fact")
    fact = facts_by_name.get(name or "")
    if fact is None or fact["type"] not in types:
        raise _invalid(_("金额规则引用的申请事项“%(name)s”不存在或类型不符。") % {"name": name or ""})
    return name


def validate_amount_rule(rule, fact_definitions) -> dict[str, Any]:
    """Normalise an amount rule (numbers kept as strings, so JSON holds them exactly)."""
    if not isinstance(rule, dict) or rule.get("kind") not in KINDS:
        raise _invalid(_("请选择金额规则：定额、按比例、查表或按天数计算。"))
    facts_by_name = {f["name"]: f for f in fact_definitions or []}
    kind = rule["kind"]
    if kind == "fixed":
        return {"kind": kind, "amount": str(_number(rule, "amount", _("金额"), positive=True))}
    if kind == "share":
        rate = _number(rule, "rate", _("补助比例"), positive=True)
        if rate > 1:
            raise _invalid(_("补助比例须在 0 到 1 之间（如 0.5 表示 50%）。"))
        clean = {"kind": kind, "fact": _fact(rule, facts_by_name, {"money"}),
                 "deductible": str(_number(rule, "deductible", _("起付线"))), "rate": str(rate)}
        ceiling = _number(rule, "ceiling", _("封顶线"), required=False, positive=True)
        if ceiling is not None:
            clean["ceiling"] = str(ceiling)
        return clean
    if kind == "table":
        name = _fact(rule, facts_by_name, {"choice"})
        rows = rule.get("rows")
        if not isinstance(rows, dict) or not rows:
            raise _invalid(_("查表规则须列出每种情形的金额。"))
        choices = set(facts_by_name[name]["choices"])
        unknown = [key for key in rows if key not in choices]
        if unknown:
            raise _invalid(_("标准表中的情形“%(case)s”不在申请事项的选项中。")
                           % {"case": "、".join(unknown)})
        return {"kind": kind, "fact": name,
                "rows": {key: str(_number(rows, key, key)) for key in rows}}
    clean = {"kind": kind, "fact": _fact(rule, facts_by_name, {"int", "money"}),
             "rate": str(_number(rule, "rate", _("单价"), positive=True)),
             "unit": str(rule.get("unit") or _("天"))[:10]}
    ceiling = _number(rule, "ceiling", _("封顶线"), required=False, positive=True)
    if ceiling is not None:
        clean["ceiling"] = str(ceiling)
    return clean


def _label(facts_by_name: dict[str, dict], name: str) -> str:
    return facts_by_name.get(name, {}).get("label", name)


def calculate(rule: dict[str, Any], values: dict[str, Any],
              fact_definitions) -> tuple[Decimal, list[str]]:
    """The amount for these fact values and the steps behind it, in Chinese.

    ``values`` are typed rule inputs (money as Decimal). Raises ServiceError when a fact the rule
    needs has no usable value (e.g. a case not in the table).
    """
    facts_by_name = {f["name"]: f for f in fact_definitions or []}
    kind = rule.get("kind")
    steps: list[str] = []
    if kind == "fixed":
        amount = Decimal(rule["amount"])
        steps.append(_("定额标准：%(amount)s 元。") % {"amount": yuan(amount)})
    elif kind == "share":
        label = _label(facts_by_name, rule["fact"])
        base = Decimal(str(values.get(rule["fact"]) or 0))
        deductible, rate = Decimal(rule["deductible"]), Decimal(rule["rate"])
        steps.append(_("%(label)s：%(base)s 元。") % {"label": label, "base": yuan(base)})
        if base <= deductible:
            steps.append(_("未超过起付线 %(d)s 元，不予补助。") % {"d": yuan(deductible)})
            return Decimal("0.00"), steps
        excess = base - deductible
        amount = (excess * rate).quantize(CENT, ROUND_HALF_UP)
        steps.append(_("超过起付线部分：%(base)s − %(d)s = %(x)s 元。")
                     % {"base": yuan(base), "d": yuan(deductible), "x": yuan(excess)})
        steps.append(_("按 %(rate)s 补助：%(x)s × %(rate)s = %(amount)s 元。")
                     % {"rate": percent(rate), "x": yuan(excess), "amount": yuan(amount)})
        amount = _apply_ceiling(rule, amount, steps)
    elif kind == "table":
        label = _label(facts_by_name, rule["fact"])
        case = str(values.get(rule["fact"]) or "")
        if case not in rule["rows"]:
            raise ServiceError(_("“%(label)s”为“%(case)s”，不在本项目的标准表中。")
                               % {"label": label, "case": case or _("未填写")},
                               code="amount_case_unknown")
        amount = Decimal(rule["rows"][case])
        steps.append(_("%(label)s：%(case)s，对应标准 %(amount)s 元。")
                     % {"label": label, "case": case, "amount": yuan(amount)})
    elif kind == "per_unit":
        label = _label(facts_by_name, rule["fact"])
        count, rate, unit = Decimal(str(values.get(rule["fact"]) or 0)), Decimal(rule["rate"]), rule["unit"]
        amount = (count * rate).quantize(CENT, ROUND_HALF_UP)
        steps.append(_("%(label)s %(n)s %(unit)s × %(rate)s 元/%(unit)s = %(amount)s 元。")
                     % {"label": label, "n": format(count.normalize(), "f"), "unit": unit,
                        "rate": yuan(rate), "amount": yuan(amount)})
        amount = _apply_ceiling(rule, amount, steps)
    else:
        raise ServiceError(_("本项目的金额规则无效，请联系管理员。"), code="invalid_amount_rule")
    amount = amount.quantize(CENT, ROUND_HALF_UP)
    steps.append(_("按规则计算金额：%(amount)s 元。") % {"amount": yuan(amount)})
    return amount, steps


def _apply_ceiling(rule: dict[str, Any], amount: Decimal, steps: list[str]) -> Decimal:
    if rule.get("ceiling") is None:
        return amount
    ceiling = Decimal(rule["ceiling"])
    if amount > ceiling:
        steps.append(_("超过封顶线 %(c)s 元，按封顶线计。") % {"c": yuan(ceiling)})
        return ceiling
    return amount
