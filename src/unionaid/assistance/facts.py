"""The facts an application states and the facts known about the member, as rule inputs.

An item declares the facts its application must state (``AssistanceItem.facts``)::

    [{"name": "self_paid", "label": "自付医疗费用", "type": "money"},
     {"name": "case", "label": "情形", "type": "choice", "choices": ["本科新生", "专科新生"]},
     {"name": "note", "label": "备注", "type": "text", "required": false}]

Values are stored JSON-safe on the application (money as a "1234.50" string). Rules see them
next to the member's facts (``MEMBER_FACTS``): eligibility expressions, skip conditions.
"""

from __future__ import annotations

import datetime as dt
import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from unionaid.assistance.models import Application, ApplicationStatus
from unionaid.core.errors import ServiceError
from unionaid.members.models import EmploymentForm, Relation, Sex

FACT_TYPES = {
    "money": gettext_lazy("金额（元）"),
    "int": gettext_lazy("整数"),
    "choice": gettext_lazy("选项"),
    "bool": gettext_lazy("是/否"),
    "text": gettext_lazy("文字"),
    "date": gettext_lazy("日期"),
}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_MONEY = Decimal("10000000")
MAX_TEXT = 200

# Names every rule may use, about the member (not stated by the applicant).
MEMBER_FACTS: dict[str, Any] = {
    "membership_active": gettext_lazy("是否在籍会员"),
    "membership_years": gettext_lazy("入会年限（整年）"),
    "employment_form": gettext_lazy("用工形式编码（regular、dispatched、new_employment_form …）"),
    "new_employment_form": gettext_lazy("是否新就业形态劳动者"),
    "age": gettext_lazy("年龄"),
    "is_female": gettext_lazy("是否女职工"),
    "household_size": gettext_lazy("家庭人口（含本人）"),
    "children_count": gettext_lazy("登记的子女人数"),
    "hardship_category": gettext_lazy("困难类别（深度困难、相对困难、意外致困；未建档为空）"),
    "in_archive": gettext_lazy("是否已建档困难职工"),
    "grants_this_year": gettext_lazy("本年度已获帮扶次数（全部项目）"),
    "amount_this_year": gettext_lazy("本年度已获帮扶金额（元，全部项目）"),
    "item_grants_this_year": gettext_lazy("本年度本项目已获帮扶次数"),
}
_MEMBER_SAMPLE: dict[str, Any] = {
    "membership_active": True, "membership_years": 0, "employment_form": "regular",
    "new_employment_form": False, "age": 40, "is_female": False, "household_size": 1,
    "children_count": 0, "hardship_category": "", "in_archive": False, "grants_this_year": 0,
    "amount_this_year": 0.0, "item_grants_this_year": 0,
}
RESERVED = {*MEMBER_FACTS, "amount", "item_code", "category", "on_behalf", "fast_track"}

# Other apps (the hardship archive) add what they know about a member, e.g.
# ``{"hardship_category": "深度困难", "in_archive": True}``. Keys must be in MEMBER_FACTS.
_PROVIDERS: list[Callable[[Any], dict[str, Any]]] = []


def register_member_fact_provider(provider: Callable[[Any], dict[str, Any]]) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def _invalid(field: str, message: str) -> ServiceError:
    return ServiceError(message, code="invalid_item", fields={field: message})


def validate_fact_definitions(definitions) -> list[dict[str, Any]]:
    """Normalise an item's fact list; raise ServiceError with a Chinese message if malformed."""
    if definitions in (None, ""):
        return []
    if not isinstance(definitions, list):
        raise _invalid("facts", _("申请需填写的事项格式不正确。"))
    seen: set[str] = set()
    clean: list[dict[str, Any]] = []
    for raw in definitions:
        if not isinstance(raw, dict):
            raise _invalid("facts", _("申请需填写的事项格式不正确。"))
        name = str(raw.get("name", "")).strip()
        if not NAME_RE.match(name) or keyword.iskeyword(name):
            raise _invalid("facts", _("事项编码“%(name)s”须为小写字母开头的字母、数字、下划线。")
                           % {"name": name})
        if name in RESERVED or name in seen:
            raise _invalid("facts", _("事项编码“%(name)s”重复或为系统保留名称。") % {"name": name})
        kind = raw.get("type", "text")
        if kind not in FACT_TYPES:
            raise _invalid("facts", _("事项“%(name)s”的类型无效。") % {"name": name})
        label = str(raw.get("label", "")).strip() or name
        fact: dict[str, Any] = {"name": name, "label": label[:60], "type": kind,
                                "required": bool(raw.get("required", True))}
        if kind == "choice":
            choices = [str(c).strip() for c in raw.get("choices") or [] if str(c).strip()]
            if not choices or len(set(choices)) != len(choices):
                raise _invalid("facts", _("选项事项“%(label)s”须列出不重复的选项。")
                               % {"label": label})
            fact["choices"] = choices
        if raw.get("help"):
            fact["help"] = str(raw["help"])[:200]
        seen.add(name)
        clean.append(fact)
    return clean


def _money(value) -> Decimal:
    amount = Decimal(str(value).replace(",", "").replace("，", "").strip())
    if not amount.is_finite() or amount < 0 or amount > MAX_MONEY:
        raise ValueError
    return amount.quantize(Decimal("0.01"))


def _coerce(fact: dict[str, Any], value) -> Any:
    kind = fact["type"]
    if kind == "money":
        return str(_money(value))
    if kind == "int":
        number = int(str(value).strip())
        if number < 0 or number > 100_000:
            raise ValueError
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on", "是"}:
            return True
        if text in {"0", "false", "no", "off", "否", ""}:
            return False
        raise ValueError
    if kind == "choice":
        text = str(value).strip()
        if text not in fact["choices"]:
            raise ValueError
        return text
    if kind == "date":
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise ValueError
    return text


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_facts(definitions, raw, *, require_all: bool) -> dict[str, Any]:
    """The applicant's facts, typed and JSON-safe; unknown keys are dropped.

    ``require_all`` (at submit) also demands every required fact. Errors are collected per fact
    and raised together as one ServiceError (code "invalid_facts").
    """
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ServiceError(_("申请事项格式不正确。"), code="invalid_facts")
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for fact in definitions or []:
        name, value = fact["name"], raw.get(fact["name"])
        if value is None and fact["type"] == "bool":
            continue  # an unticked box: False for the rules
        if _is_blank(value) and fact["type"] != "bool":
            if require_all and fact.get("required", True):
                errors[name] = _("请填写“%(label)s”。") % {"label": fact["label"]}
            continue
        try:
            clean[name] = _coerce(fact, value)
        except (ValueError, TypeError, InvalidOperation):
            if fact["type"] == "choice":
                errors[name] = _("“%(label)s”须从以下选项中选择：%(choices)s。") % {
                    "label": fact["label"], "choices": "、".join(fact["choices"])}
            else:
                errors[name] = _("“%(label)s”的填写不正确（应为%(kind)s）。") % {
                    "label": fact["label"], "kind": FACT_TYPES[fact["type"]]}
    if errors:
        raise ServiceError("；".join(errors.values()), code="invalid_facts", fields=errors)
    return clean


_DEFAULTS = {"money": Decimal("0"), "int": 0, "bool": False, "choice": "", "text": "",
             "date": ""}


def rule_values(definitions, clean: dict[str, Any]) -> dict[str, Any]:
    """The applicant's facts as rule inputs: money as Decimal, missing facts as neutral values."""
    values: dict[str, Any] = {}
    for fact in definitions or []:
        value = clean.get(fact["name"], _DEFAULTS[fact["type"]])
        if fact["type"] == "money":
            value = Decimal(str(value))
        values[fact["name"]] = value
    return values


def sample_values(definitions) -> dict[str, Any]:
    """Typed sample inputs used to check a rule's syntax and names when an admin saves it."""
    values = dict(_MEMBER_SAMPLE)
    for fact in definitions or []:
        sample = _DEFAULTS[fact["type"]]
        if fact["type"] == "choice":
            sample = fact["choices"][0]
        elif fact["type"] == "date":
            sample = "2026-01-01"
        values[fact["name"]] = sample
    return values


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz))


def _years_between(start: dt.date | None, day: dt.date) -> int:
    if start is None:
        return 0
    return max(0, day.year - start.year - ((day.month, day.day) < (start.month, start.day)))


@dataclass(frozen=True)
class MemberContext:
    """What the system knows about one member for one year, read once (a few small queries,
    however many items are then checked): the member's facts, what the registered providers
    add (the archive, the visits), and this year's grants counted per item. ``values(item)``
    gives the rule inputs for one item without another query; ``member_values`` is the same
    for a single item."""

    base: dict[str, Any]
    provided: dict[str, Any]
    item_grants: dict[int, int]

    @classmethod
    def build(cls, member, *, year: int | None = None) -> MemberContext:
        today = timezone.localdate()
        year = year or today.year
        household = list(member.household.values_list("relation", flat=True))
        start, end = year_bounds(year)
        granted = (Application.objects.filter(
            member_id=member.pk, status__in=[ApplicationStatus.APPROVED, ApplicationStatus.PAID,
                                             ApplicationStatus.PAYMENT_REVERSED],
            submitted_at__gte=start, submitted_at__lt=end,
        ).order_by().values("item_id").annotate(n=Count("pk"), total=Sum("amount")))
        item_grants: dict[int, int] = {}
        total = Decimal("0")
        for row in granted:
            item_grants[row["item_id"]] = row["n"]
            if row["total"] is not None:
                total += row["total"]
        base: dict[str, Any] = {
            "membership_active": member.is_active_member,
            "membership_years": _years_between(member.joined_on, today),
            "employment_form": member.employment_form,
            "new_employment_form": member.employment_form == EmploymentForm.NEW_EMPLOYMENT_FORM,
            "age": _years_between(member.birth_date, today),
            "is_female": member.sex == Sex.FEMALE,
            "household_size": 1 + len(household),
            "children_count": sum(1 for r in household if r == Relation.CHILD),
            "hardship_category": "",
            "in_archive": False,
            "grants_this_year": sum(item_grants.values()),
            "amount_this_year": total,
        }
        provided: dict[str, Any] = {}
        for provider in _PROVIDERS:
            extra = provider(member) or {}
            provided.update({k: v for k, v in extra.items() if k in MEMBER_FACTS})
        return cls(base=base, provided=provided, item_grants=item_grants)

    def values(self, item=None) -> dict[str, Any]:
        """The rule inputs about the member when applying for ``item`` (or for no item)."""
        return {**self.base,
                "item_grants_this_year": self.item_grants.get(getattr(item, "pk", None), 0),
                **self.provided}


def member_values(member, *, item=None, year: int | None = None) -> dict[str, Any]:
    """What the system knows about the member, as rule inputs (a few small queries; to check
    many items, build a ``MemberContext`` once and ask it for each item)."""
    return MemberContext.build(member, year=year).values(item)
