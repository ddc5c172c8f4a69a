"""The six-clear household profile (家庭情况, 六清) as data: its shape, its validation and the
figures derived from it. Pure functions, no database: the visit form, the API, the archive
ledger import and the archive's category calculation all go through ``clean_profile`` and
``derive``.

The profile, as stored (encrypted) in ``HouseholdProfile.data_json``::

    {
      "household": [                      # 家庭成员, the member first (relation "self")
        {"name": "王某", "relation": "self", "age": 45, "health": "healthy",
         "schooling": "", "occupation": "调车员"},
        {"name": "李某", "relation": "spouse", "age": 43, "health": "major_illness",
         "schooling": "", "occupation": "无业"},
        {"name": "王小某", "relation": "child", "age": 19, "health": "healthy",
         "schooling": "college", "occupation": ""}
      ],
      "incomes": [                        # 收入来源, monthly amounts in yuan (strings)
        {"source": "wage", "monthly": "4200.00", "note": ""},
        {"source": "allowance", "monthly": "300.00", "note": "残疾补贴"}
      ],
      "housing": {"kind": "rent", "homes": 0, "area": 45, "note": ""},      # 住房
      "causes": ["illness", "schooling"],                                     # 致困原因
      "health": {"major_illness": true, "chronic": false, "disability": false,
                 "note": "配偶尿毒症，每周透析"},                               # 健康
      "schooling": [                      # 子女就学
        {"name": "王小某", "stage": "college", "annual_cost": "12000.00", "private": false}
      ],
      "expenses": {"medical_annual": "36000.00", "schooling_annual": "12000.00",
                   "other_rigid_annual": "0.00"},                             # 刚性支出
      "sudden_loss": {"kind": "", "amount": "0.00", "note": ""},  # 意外/灾害/大病 支出
      "business": {"owns_business": false, "employees": 0}
    }

Derived (``derive``): household size = number of household rows; annual disposable income =
12 × the sum of monthly incomes; rigid expenses = medical + schooling + other rigid (a year);
per-capita monthly income = max(0, income − rigid) ÷ 12 ÷ size, rounded to the fen.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.core.errors import ServiceError
from unionaid.visits.models import HardshipCause, HousingKind

RELATIONS = {
    "self": gettext_lazy("本人"), "spouse": gettext_lazy("配偶"), "child": gettext_lazy("子女"),
    "parent": gettext_lazy("父母"), "parent_in_law": gettext_lazy("岳父母/公婆"),
    "sibling": gettext_lazy("兄弟姐妹"), "grandchild": gettext_lazy("孙子女"),
    "other": gettext_lazy("其他"),
}
HEALTH = {
    "healthy": gettext_lazy("健康"), "chronic": gettext_lazy("慢性病"),
    "major_illness": gettext_lazy("大病"), "disabled": gettext_lazy("残疾"),
    "incapacitated": gettext_lazy("失能"),
}
STAGES = {
    "": gettext_lazy("未就学"), "preschool": gettext_lazy("学前"),
    "primary": gettext_lazy("小学"), "junior": gettext_lazy("初中"),
    "senior": gettext_lazy("高中"), "vocational": gettext_lazy("中职/技校"),
    "college": gettext_lazy("大学（专科/本科）"), "postgraduate": gettext_lazy("研究生"),
}
INCOME_SOURCES = {
    "wage": gettext_lazy("工资"), "pension": gettext_lazy("养老金"),
    "business": gettext_lazy("经营收入"), "farming": gettext_lazy("种养殖"),
    "rent": gettext_lazy("财产/租金"), "allowance": gettext_lazy("补贴/低保"),
    "support": gettext_lazy("赡养/抚养费"), "other": gettext_lazy("其他"),
}
SUDDEN_KINDS = {
    "": gettext_lazy("无"), "disaster": gettext_lazy("自然灾害"),
    "accident": gettext_lazy("意外事故"), "major_illness": gettext_lazy("突发重大疾病"),
}
MAX_MONEY = Decimal("100000000")
MAX_PEOPLE = 20
CENT = Decimal("0.01")


def _error(field: str, message: str) -> ServiceError:
    return ServiceError(message, code="invalid_profile", fields={field: message})


def _money(value, field: str) -> Decimal:
    if value in (None, ""):
        return Decimal("0.00")
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise _error(field, _("金额格式不正确：%(value)s") % {"value": str(value)[:20]}) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_MONEY:
        raise _error(field, _("金额须在 0 到 1 亿元之间。"))
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _int(value, field: str, low: int, high: int, label: str) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(str(value).strip())
    except ValueError:
        raise _error(field, _("%(label)s须为整数。") % {"label": label}) from None
    if not low <= number <= high:
        raise _error(field, _("%(label)s须在 %(low)s 到 %(high)s 之间。")
                     % {"label": label, "low": low, "high": high})
    return number


def _choice(value, choices, field: str, label: str) -> str:
    value = (value or "").strip() if isinstance(value, str) else value
    if value not in choices:
        raise _error(field, _("%(label)s的取值无效。") % {"label": label})
    return value


def _text(value, limit: int = 200) -> str:
    return str(value or "").strip()[:limit]


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "yes", "是"}
    return bool(value)


def _rows(raw: dict, key: str) -> list[dict]:
    rows = raw.get(key) or []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise _error(key, _("数据格式不正确。"))
    if len(rows) > MAX_PEOPLE:
        raise _error(key, _("最多填写 %(n)s 行。") % {"n": MAX_PEOPLE})
    return rows


def clean_profile(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise a profile; raises ServiceError (code ``invalid_profile``) naming
    the first bad field in Chinese. Blank rows (no name, no amount) are dropped."""
    if not isinstance(raw, dict):
        raise _error("profile", _("家庭情况数据格式不正确。"))
    household = []
    for n, row in enumerate(_rows(raw, "household")):
        name = _text(row.get("name"), 50)
        if not name:
            continue
        prefix = f"household.{n}"
        household.append({
            "name": name,
            "relation": _choice(row.get("relation") or "other", RELATIONS, f"{prefix}.relation",
                                _("关系")),
            "age": _int(row.get("age"), f"{prefix}.age", 0, 120, _("年龄")),
            "health": _choice(row.get("health") or "healthy", HEALTH, f"{prefix}.health",
                              _("健康状况")),
            "schooling": _choice(row.get("schooling") or "", STAGES, f"{prefix}.schooling",
                                 _("就学阶段")),
            "occupation": _text(row.get("occupation"), 60),
        })
    if not household:
        raise _error("household", _("请至少填写一位家庭成员（含职工本人）。"))
    if sum(1 for p in household if p["relation"] == "self") > 1:
        raise _error("household", _("家庭成员中只能有一位“本人”。"))
    incomes = []
    for n, row in enumerate(_rows(raw, "incomes")):
        if not row.get("source") and row.get("monthly") in (None, ""):
            continue
        incomes.append({
            "source": _choice(row.get("source") or "other", INCOME_SOURCES,
                              f"incomes.{n}.source", _("收入来源")),
            "monthly": str(_money(row.get("monthly"), f"incomes.{n}.monthly")),
            "note": _text(row.get("note"), 100),
        })
    housing_raw = raw.get("housing") or {}
    housing = {
        "kind": _choice(housing_raw.get("kind") or "", {"": "", **dict(HousingKind.choices)},
                        "housing.kind", _("住房情况")),
        "homes": _int(housing_raw.get("homes"), "housing.homes", 0, 50, _("住房套数")),
        "area": _int(housing_raw.get("area"), "housing.area", 0, 10000, _("住房面积")),
        "note": _text(housing_raw.get("note"), 200),
    }
    causes = []
    for cause in raw.get("causes") or []:
        causes.append(_choice(cause, dict(HardshipCause.choices), "causes", _("致困原因")))
    health_raw = raw.get("health") or {}
    health = {
        "major_illness": _bool(health_raw.get("major_illness")),
        "chronic": _bool(health_raw.get("chronic")),
        "disability": _bool(health_raw.get("disability")),
        "note": _text(health_raw.get("note"), 300),
    }
    schooling = []
    for n, row in enumerate(_rows(raw, "schooling")):
        name = _text(row.get("name"), 50)
        if not name and row.get("annual_cost") in (None, ""):
            continue
        schooling.append({
            "name": name,
            "stage": _choice(row.get("stage") or "", STAGES, f"schooling.{n}.stage",
                             _("就学阶段")),
            "annual_cost": str(_money(row.get("annual_cost"), f"schooling.{n}.annual_cost")),
            "private": _bool(row.get("private")),
        })
    expenses_raw = raw.get("expenses") or {}
    expenses = {key: str(_money(expenses_raw.get(key), f"expenses.{key}"))
                for key in ("medical_annual", "schooling_annual", "other_rigid_annual")}
    loss_raw = raw.get("sudden_loss") or {}
    sudden_loss = {
        "kind": _choice(loss_raw.get("kind") or "", SUDDEN_KINDS, "sudden_loss.kind",
                        _("意外支出类型")),
        "amount": str(_money(loss_raw.get("amount"), "sudden_loss.amount")),
        "note": _text(loss_raw.get("note"), 200),
    }
    business_raw = raw.get("business") or {}
    business = {
        "owns_business": _bool(business_raw.get("owns_business")),
        "employees": _int(business_raw.get("employees"), "business.employees", 0, 100000,
                          _("雇工人数")),
    }
    return {"household": household, "incomes": incomes, "housing": housing,
            "causes": sorted(set(causes)), "health": health, "schooling": schooling,
            "expenses": expenses, "sudden_loss": sudden_loss, "business": business}


def derive(data: dict[str, Any]) -> dict[str, Any]:
    """The plain columns of ``HouseholdProfile`` from a cleaned profile."""
    size = max(1, len(data["household"]))
    annual_income = sum((Decimal(i["monthly"]) for i in data["incomes"]), Decimal(0)) * 12
    rigid = sum((Decimal(v) for v in data["expenses"].values()), Decimal(0))
    per_capita = (max(Decimal(0), annual_income - rigid) / 12 / size).quantize(
        CENT, rounding=ROUND_HALF_UP)
    health = data["health"]
    return {
        "household_size": size,
        "annual_income": annual_income.quantize(CENT),
        "rigid_expenses": rigid.quantize(CENT),
        "per_capita_monthly": per_capita,
        "causes": ",".join(data["causes"]),
        "housing": data["housing"]["kind"],
        "has_major_illness": health["major_illness"] or any(
            p["health"] == "major_illness" for p in data["household"]),
        "has_disability": health["disability"] or any(
            p["health"] in ("disabled", "incapacitated") for p in data["household"]),
        "children_in_school": sum(1 for p in data["household"]
                                  if p["relation"] in ("child", "grandchild") and p["schooling"]),
    }


# Causes of hardship and a kind of sudden loss that say something about someone's health.
HEALTH_CAUSES = frozenset({"illness", "disability"})
HEALTH_LOSS_KINDS = frozenset({"major_illness"})


def is_health_loss(sudden_loss: dict[str, Any] | None) -> bool:
    """A sudden loss caused by an illness (its kind, amount and note are health data)."""
    return bool(sudden_loss) and sudden_loss.get("kind") in HEALTH_LOSS_KINDS


def visible_causes(causes, *, health_ok: bool) -> list[str]:
    """``causes`` (codes) without the health ones (因病, 因残) unless the consent is in force."""
    return [c for c in causes if health_ok or c not in HEALTH_CAUSES]


def needs_health_consent(data: dict[str, Any]) -> bool:
    """Health details are sensitive personal data: illness, disability, a health note, medical
    spending, a cause of hardship 因病/因残, or a sudden loss from a major illness."""
    health = data["health"]
    return bool(health["major_illness"] or health["chronic"] or health["disability"]
                or health["note"] or any(p["health"] != "healthy" for p in data["household"])
                or Decimal(data["expenses"]["medical_annual"]) > 0  # medical spending
                or HEALTH_CAUSES.intersection(data.get("causes") or ())
                or is_health_loss(data.get("sudden_loss")))


def needs_children_consent(data: dict[str, Any]) -> bool:
    """Data about minors (age < 14 per PIPL art. 28, as members.services treats it)."""
    return any(p["relation"] in ("child", "grandchild") and p["age"] < 14
               for p in data["household"])
