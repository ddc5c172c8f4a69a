"""The hardship category (困难类别) of a household, computed with every step shown.

Inputs: a household profile snapshot (``visits.HouseholdProfile``: its plain columns and its
six-clear data), the local 低保 line for the year (``dibao_standard_for``) and the category rules
of the member's unit (``rules_for``). Pure arithmetic on ``Decimal``; the only queries are the
two look-ups up the org tree.

Per-capita monthly income = max(0, annual disposable income − rigid expenses) ÷ 12 ÷ household
size (``visits.profile.derive`` computes it once, when the profile is recorded). Then, with
``line`` the 低保 line (yuan per person per month):

* per-capita < line × ``deep_multiplier``            → 深度困难 (deep)
* else a sudden loss > ``sudden_ratio`` × annual household income (strictly; with no income,
  any loss counts)                                   → 意外致困 (sudden)
* else per-capita < line × ``relative_multiplier``   → 相对困难 (relative)
* else                                               → not eligible ("")

Every comparison is strict: a household exactly at the line is not deep (it is relative), one
exactly at 2× the line is not relative, a loss of exactly 80 % of a year's income is not
sudden.

Precedence when several apply: deep > sudden > relative. Deep hardship is the most severe
status and opens the most help (深度困难 items), so it always wins; a sudden loss is the more
specific cause for a household that also sits below 2× the line, and it is what the help
(临时救助, 大病救助) must answer, so it wins over relative. The calculation says so when more
than one applied.

Exclusions do not refuse: a household with more homes than ``max_homes``, owning a business
that employs others, or paying private-school fees above ``private_school_fee_limit`` gets a
review flag (``{"code", "message"}``) that the approvers see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from unionaid.archive.models import CategoryRules, DibaoStandard, HardshipCategory
from unionaid.core.errors import ServiceError
from unionaid.org.models import OrgUnit
from unionaid.visits.services.profiles import profile_data

CENT = Decimal("0.01")

# The Chinese names the catalog's eligibility rules compare with (``hardship_category ==
# '深度困难'``). Fixed strings, not translations: a rule must not change meaning with the
# user's language.
RULE_LABELS = {
    HardshipCategory.DEEP: "深度困难",
    HardshipCategory.RELATIVE: "相对困难",
    HardshipCategory.SUDDEN: "意外致困",
}


def yuan(value: Decimal) -> str:
    """1234.5 → "1,234.50"."""
    return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def times(value: Decimal) -> str:
    """A multiplier or ratio as written in the rules: 1 → "1.00"."""
    return f"{Decimal(value):.2f}"


def _unit_of(member_or_unit) -> OrgUnit:
    return member_or_unit if isinstance(member_or_unit, OrgUnit) else member_or_unit.org_unit


def _ancestor_paths(unit: OrgUnit) -> list[str]:
    depth = len(unit.path) // OrgUnit.steplen
    return [unit.path[: i * OrgUnit.steplen] for i in range(1, depth + 1)]


def dibao_standard_for(member_or_unit, year: int) -> DibaoStandard:
    """The 低保 line of the nearest unit up the tree (the unit itself first) that has one for
    ``year``; none → ServiceError ``no_dibao_line`` naming the unit and the year."""
    unit = _unit_of(member_or_unit)
    rows = list(DibaoStandard.objects.filter(org_unit__path__in=_ancestor_paths(unit), year=year)
                .select_related("org_unit"))
    if not rows:
        raise ServiceError(
            _("“%(unit)s”及其上级单位都没有设置 %(year)s 年的低保标准，请联系管理员维护后再认定。")
            % {"unit": unit.name, "year": year},
            code="no_dibao_line",
        )
    return max(rows, key=lambda row: len(row.org_unit.path))


def rules_for(unit_or_member) -> CategoryRules:
    """The category rules of the nearest unit up the tree that has its own; none → the
    defaults (an unsaved ``CategoryRules``: 1×, 2×, 80 %, recheck 12 months, follow-up 6)."""
    unit = _unit_of(unit_or_member)
    rows = list(CategoryRules.objects.filter(org_unit__path__in=_ancestor_paths(unit))
                .select_related("org_unit"))
    if not rows:
        return CategoryRules()
    return max(rows, key=lambda row: len(row.org_unit.path))


@dataclass(frozen=True)
class CategoryResult:
    category: str  # a HardshipCategory value, or "" when the household does not qualify
    per_capita_monthly: Decimal
    line: Decimal
    lines: list[str]
    review_flags: list[dict[str, str]] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)

    @property
    def eligible(self) -> bool:
        return bool(self.category)

    @property
    def label(self) -> str:
        return str(HardshipCategory(self.category).label) if self.category else _("不符合建档条件")

    def as_calculation(self) -> dict[str, Any]:
        """What ``HardshipRecord.calculation`` / ``Recheck.calculation`` keep."""
        return {"category": self.category, "lines": list(self.lines), "inputs": dict(self.inputs),
                "review_flags": list(self.review_flags)}


def _sudden_loss(data: dict[str, Any]) -> Decimal:
    raw = (data.get("sudden_loss") or {}).get("amount") or "0"
    return Decimal(str(raw))


def review_flags(data: dict[str, Any], rules: CategoryRules) -> list[dict[str, str]]:
    """The exclusions that send the case to review (not a refusal)."""
    flags: list[dict[str, str]] = []
    homes = int((data.get("housing") or {}).get("homes") or 0)
    if homes > rules.max_homes:
        flags.append({"code": "homes", "message": _(
            "家庭住房 %(homes)s 套，超过 %(max)s 套，须复核。") % {"homes": homes,
                                                          "max": rules.max_homes}})
    business = data.get("business") or {}
    employees = int(business.get("employees") or 0)
    if business.get("owns_business") and employees > 0:
        flags.append({"code": "business", "message": _(
            "家庭经营企业并雇用他人（%(n)s 人），须复核。") % {"n": employees}})
    limit = Decimal(rules.private_school_fee_limit)
    for row in data.get("schooling") or []:
        cost = Decimal(str(row.get("annual_cost") or "0"))
        if row.get("private") and cost > limit:
            flags.append({"code": "private_school", "message": _(
                "子女就读私立/择校，年学费 %(cost)s 元，超过 %(limit)s 元，须复核。")
                % {"cost": yuan(cost), "limit": yuan(limit)}})
            break
    return flags


def compute_category(*, profile, line: Decimal, rules: CategoryRules,
                     data: dict[str, Any] | None = None) -> CategoryResult:
    """The category of the household in ``profile`` against ``line`` under ``rules``, with the
    calculation in Chinese, one line per step. ``data`` is the decrypted six-clear profile
    (read from ``profile`` when not given)."""
    if data is None:
        data = profile_data(profile)
    line = Decimal(line)
    size = int(profile.household_size)
    income = Decimal(profile.annual_income)
    rigid = Decimal(profile.rigid_expenses)
    per_capita = Decimal(profile.per_capita_monthly)
    loss = _sudden_loss(data)
    deep_m, relative_m = Decimal(rules.deep_multiplier), Decimal(rules.relative_multiplier)
    ratio = Decimal(rules.sudden_ratio)
    deep_line, relative_line = line * deep_m, line * relative_m
    sudden_threshold = (income * ratio).quantize(CENT, rounding=ROUND_HALF_UP)

    lines = []
    if income - rigid < 0:
        lines.append(_("人均月收入 =（家庭年可支配收入 %(income)s − 刚性支出 %(rigid)s）为负数，"
                       "按 0 计 ÷ 12 ÷ %(size)s 人 = %(pc)s 元")
                     % {"income": yuan(income), "rigid": yuan(rigid), "size": size,
                        "pc": yuan(per_capita)})
    else:
        lines.append(_("人均月收入 =（家庭年可支配收入 %(income)s − 刚性支出 %(rigid)s）÷ 12 ÷ "
                       "%(size)s 人 = %(pc)s 元")
                     % {"income": yuan(income), "rigid": yuan(rigid), "size": size,
                        "pc": yuan(per_capita)})

    # 1. against the line
    pc, ln = yuan(per_capita), yuan(line)
    is_deep = per_capita < deep_line
    is_relative = not is_deep and per_capita < relative_line
    head = _("低保标准 %(line)s 元") % {"line": ln}
    if is_deep:
        lines.append(_("%(head)s；%(pc)s < %(line)s × %(m)s → 深度困难")
                     % {"head": head, "pc": pc, "line": ln, "m": times(deep_m)})
    elif is_relative:
        lines.append(_("%(head)s；%(pc)s ≥ %(line)s × %(dm)s；%(pc)s < %(line)s × %(rm)s → 相对困难")
                     % {"head": head, "pc": pc, "line": ln, "dm": times(deep_m),
                        "rm": times(relative_m)})
    else:
        lines.append(_("%(head)s；%(pc)s ≥ %(line)s × %(dm)s；%(pc)s ≥ %(line)s × %(rm)s → "
                       "人均收入不在困难标准内")
                     % {"head": head, "pc": pc, "line": ln, "dm": times(deep_m),
                        "rm": times(relative_m)})

    # 2. a sudden loss against a year's household income
    if income <= 0:
        is_sudden = loss > 0
        if is_sudden:
            lines.append(_("意外支出 %(loss)s 元，家庭年收入为 0 → 意外致困") % {"loss": yuan(loss)})
        else:
            lines.append(_("无意外支出 → 不属意外致困"))
    else:
        is_sudden = loss > income * ratio
        values = {"loss": yuan(loss), "income": yuan(income), "ratio": times(ratio),
                  "threshold": yuan(sudden_threshold)}
        if is_sudden:
            lines.append(_("意外支出 %(loss)s > 家庭年收入 %(income)s × %(ratio)s = %(threshold)s "
                           "→ 意外致困") % values)
        else:
            lines.append(_("意外支出 %(loss)s ≤ 家庭年收入 %(income)s × %(ratio)s = %(threshold)s "
                           "→ 不属意外致困") % values)

    # 3. the decision, deep > sudden > relative
    applies = [c for c, hit in ((HardshipCategory.DEEP, is_deep),
                                (HardshipCategory.SUDDEN, is_sudden),
                                (HardshipCategory.RELATIVE, is_relative)) if hit]
    category = applies[0] if applies else ""
    if not applies:
        lines.append(_("认定：不符合建档条件（人均月收入不低于低保标准的 %(rm)s 倍，且没有超过家庭年收入 "
                       "%(ratio)s 的意外支出）") % {"rm": times(relative_m), "ratio": times(ratio)})
    elif len(applies) == 1:
        lines.append(_("认定：%(label)s") % {"label": HardshipCategory(category).label})
    else:
        lines.append(_("认定：%(label)s（同时符合%(all)s，按 深度困难 > 意外致困 > 相对困难 取在先者）")
                     % {"label": HardshipCategory(category).label,
                        "all": "、".join(str(HardshipCategory(c).label) for c in applies)})
    flags = review_flags(data, rules)
    inputs = {
        "household_size": str(size), "annual_income": str(income), "rigid_expenses": str(rigid),
        "per_capita_monthly": str(per_capita), "sudden_loss": str(loss), "dibao_line": str(line),
        "deep_multiplier": times(deep_m), "relative_multiplier": times(relative_m),
        "sudden_ratio": times(ratio),
    }
    return CategoryResult(category=str(category), per_capita_monthly=per_capita, line=line,
                          lines=lines, review_flags=flags, inputs=inputs)
