"""The catalog (帮扶项目): categories, items and their rules, yearly caps across items.

Rules are data an admin edits; they are checked here when saved (syntax and names, with
``core.rules`` — never ``eval``) and evaluated when an application is checked or submitted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.assistance import amounts
from unionaid.assistance import facts as factlib
from unionaid.assistance.models import AnnualCap, AssistanceCategory, AssistanceItem
from unionaid.audit.services import audit_record
from unionaid.core import rules
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
OTHER_MATERIAL = "其他材料"
MAX_MATERIALS = 20
MAX_RULES = 20
MAX_CAP = Decimal("10000000000")  # the DecimalField holds 10 digits before the point


def require_catalog(actor) -> None:
    """Catalog changes need ``assistance.catalog``; ``actor=None`` is the system (commands)."""
    if actor is not None and not access_for(actor).has_perm("assistance.catalog"):
        raise PermissionDenied(_("您无权维护帮扶项目。"))


def _invalid(field: str, message: str) -> ServiceError:
    return ServiceError(message, code="invalid_item", fields={field: message})


def _code(value: str) -> str:
    code = (value or "").strip().lower()
    if not CODE_RE.match(code):
        raise _invalid("code", _("编码须为小写字母、数字、短横线或下划线，最长 40 位。"))
    return code


@transaction.atomic
def category_save(*, actor, code: str, name: str, order: int = 0,
                  category: AssistanceCategory | None = None) -> AssistanceCategory:
    require_catalog(actor)
    code, name = _code(code)[:30], (name or "").strip()
    if not name or len(name) > 30:
        raise _invalid("name", _("请填写类别名称（不超过 30 字）。"))
    clash = AssistanceCategory.objects.filter(code=code)
    if category is not None:
        clash = clash.exclude(pk=category.pk)
    if clash.exists():
        raise Conflict(_("类别编码“%(code)s”已存在。") % {"code": code}, code="duplicate_code")
    before = {"code": category.code, "name": category.name} if category else {}
    category = category or AssistanceCategory()
    category.code, category.name, category.order = code, name, int(order or 0)
    category.save()
    audit_record(actor=actor, action="assistance_category.save", target=category,
                 changes={"before": before, "after": {"code": code, "name": name}})
    return category


def validate_eligibility(eligibility, fact_definitions) -> list[dict[str, str]]:
    if eligibility in (None, ""):
        return []
    if not isinstance(eligibility, list) or len(eligibility) > MAX_RULES:
        raise _invalid("eligibility", _("申请条件格式不正确。"))
    sample = factlib.sample_values(fact_definitions)
    clean = []
    for raw in eligibility:
        if not isinstance(raw, dict):
            raise _invalid("eligibility", _("申请条件格式不正确。"))
        rule, message = str(raw.get("rule", "")).strip(), str(raw.get("message", "")).strip()
        if not message:
            raise _invalid("eligibility", _("每条申请条件都要写明不符合时的提示语。"))
        try:
            rules.evaluate(rule, sample)
        except rules.RuleError as exc:
            raise _invalid("eligibility", _("申请条件“%(rule)s”有误：%(error)s")
                           % {"rule": rule, "error": exc.message}) from None
        clean.append({"rule": rule, "message": message[:200]})
    return clean


def normalise_materials(materials) -> list[dict[str, Any]]:
    """``["诊断证明", {"name": "身份证", "required": false}]`` → list of {name, required}."""
    if materials in (None, ""):
        return []
    if not isinstance(materials, list) or len(materials) > MAX_MATERIALS:
        raise _invalid("required_materials", _("所需材料格式不正确。"))
    clean, seen = [], set()
    for raw in materials:
        entry = raw if isinstance(raw, dict) else {"name": raw}
        name = str(entry.get("name", "")).strip()
        if not name or len(name) > 60 or name in seen:
            raise _invalid("required_materials", _("材料名称不能为空、重复或超过 60 字。"))
        seen.add(name)
        item = {"name": name, "required": bool(entry.get("required", True))}
        if entry.get("hint"):
            item["hint"] = str(entry["hint"])[:200]
        clean.append(item)
    return clean


def _cap(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        cap = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise _invalid(field, _("上限须为金额数字。")) from None
    if cap <= 0:
        raise _invalid(field, _("上限须大于 0，不设上限请留空。"))
    if cap >= MAX_CAP:
        raise _invalid(field, _("上限金额过大，请核对。"))
    return cap


@transaction.atomic
def item_save(
    *, actor, code: str, name: str, category: AssistanceCategory, funding_source,
    facts: list | None = None, eligibility: list | None = None, amount_rule: dict,
    per_person_cap=None, per_household_cap=None, required_materials: list | None = None,
    valid_from: dt.date | None = None, valid_to: dt.date | None = None,
    period_kind: str = "year", is_active: bool = True, description: str = "",
    item: AssistanceItem | None = None,
) -> AssistanceItem:
    """Create or change a catalog item; every rule is checked before anything is written."""
    require_catalog(actor)
    code, name = _code(code), (name or "").strip()
    if not name or len(name) > 100:
        raise _invalid("name", _("请填写项目名称（不超过 100 字）。"))
    fact_definitions = factlib.validate_fact_definitions(facts)
    clean = {
        "code": code, "name": name, "category": category, "funding_source": funding_source,
        "description": (description or "").strip(),
        "facts": fact_definitions,
        "eligibility": validate_eligibility(eligibility, fact_definitions),
        "amount_rule": amounts.validate_amount_rule(amount_rule, fact_definitions),
        "per_person_cap": _cap(per_person_cap, "per_person_cap"),
        "per_household_cap": _cap(per_household_cap, "per_household_cap"),
        "required_materials": normalise_materials(required_materials),
        "valid_from": valid_from, "valid_to": valid_to,
        "period_kind": period_kind, "is_active": bool(is_active),
    }
    if category is None or funding_source is None:
        raise _invalid("category", _("请选择帮扶类别和经费口径。"))
    if period_kind not in ("year", "case"):
        raise _invalid("period_kind", _("申请周期须为“每年一次”或“每次事项”。"))
    if valid_from and valid_to and valid_from > valid_to:
        raise _invalid("valid_to", _("有效期结束日期不能早于开始日期。"))
    clash = AssistanceItem.objects.filter(code=code)
    if item is not None:
        item = AssistanceItem.objects.select_for_update().get(pk=item.pk)
        clash = clash.exclude(pk=item.pk)
        if item.code != code and item.applications.exists():
            raise Conflict(_("该项目已有申请，不能修改编码。"), code="code_in_use")
    if clash.exists():
        raise Conflict(_("项目编码“%(code)s”已存在。") % {"code": code}, code="duplicate_code")
    before = _snapshot(item) if item else {}
    item = item or AssistanceItem()
    for key, value in clean.items():
        setattr(item, key, value)
    item.save()
    after = _snapshot(item)
    audit_record(actor=actor, action="assistance_item.save", target=item,
                 changes={k: {"before": before.get(k), "after": v}
                          for k, v in after.items() if before.get(k) != v})
    return item


def _snapshot(item: AssistanceItem) -> dict[str, Any]:
    return {
        "code": item.code, "name": item.name, "category": item.category_id,
        "funding_source": item.funding_source_id, "facts": item.facts,
        "eligibility": item.eligibility, "amount_rule": item.amount_rule,
        "per_person_cap": str(item.per_person_cap) if item.per_person_cap is not None else None,
        "per_household_cap": (str(item.per_household_cap)
                              if item.per_household_cap is not None else None),
        "required_materials": item.required_materials,
        "valid_from": item.valid_from.isoformat() if item.valid_from else None,
        "valid_to": item.valid_to.isoformat() if item.valid_to else None,
        "period_kind": item.period_kind, "is_active": item.is_active,
    }


def _money(value) -> str | None:
    return str(value) if value is not None else None


@transaction.atomic
def annual_cap_save(*, actor, category: AssistanceCategory | None, per_person=None,
                    per_household=None, effective_from: dt.date | None = None,
                    initial: bool = False) -> AnnualCap:
    """A new version of a yearly cap across items (one category, or all when ``category`` is
    None), in force from ``effective_from`` (today when not given) until the next version.

    Nothing already in force is changed: the date cannot be in the past, so the checks made
    before it keep their cap. A version for the same scope and date replaces that version (a
    correction before it counts, or on its first day). Leaving both amounts empty lifts the cap
    from that date; that needs a cap to lift. ``initial`` (loading a new catalog) lets the
    first version of a scope start in the past: there is nothing before it to rewrite."""
    require_catalog(actor)
    today = timezone.localdate()
    effective_from = effective_from or today
    if not isinstance(effective_from, dt.date) or isinstance(effective_from, dt.datetime):
        raise _invalid("effective_from", _("生效日期格式不正确。"))
    scope = AnnualCap.objects.select_for_update().filter(category=category)
    if effective_from < today and not (initial and not scope.exists()):
        raise _invalid("effective_from",
                       _("生效日期不能早于今天，已作出的决定按当时的上限，不能改写。"))
    if effective_from > today + dt.timedelta(days=3 * 366):
        raise _invalid("effective_from", _("生效日期不能晚于三年以后。"))
    per_person, per_household = _cap(per_person, "per_person"), _cap(per_household,
                                                                      "per_household")
    previous = scope.filter(effective_from__lt=effective_from).order_by("-effective_from").first()
    if per_person is None and per_household is None and (
            previous is None or (previous.per_person is None and previous.per_household is None)):
        raise _invalid("per_person", _("请至少填写每人或每户的年度上限。"))
    replaced = scope.filter(effective_from=effective_from).first()
    cap = replaced or AnnualCap(category=category, effective_from=effective_from)
    cap.per_person, cap.per_household, cap.created_by = per_person, per_household, actor
    try:
        with transaction.atomic():
            cap.save()
    except IntegrityError:  # another maintainer saved this scope and day at the same moment
        raise Conflict(_("该范围当天的上限刚被他人修改，请刷新后重试。"),
                       code="duplicate_cap") from None
    before = replaced if replaced is not None else previous
    audit_record(actor=actor, action="assistance_cap.save", target=cap, changes={
        "category": category.code if category else "",
        "effective_from": effective_from.isoformat(),
        "per_person": [_money(before.per_person) if before else None, _money(per_person)],
        "per_household": [_money(before.per_household) if before else None,
                          _money(per_household)],
        "replaced_same_day": replaced is not None})
    return cap


def calculate_amount(*, item: AssistanceItem, facts: dict) -> tuple[Decimal, list[str]]:
    """The amount this item's rule gives for these facts, with the calculation in Chinese
    (before yearly caps, which depend on the member: see ``caps.apply_caps``)."""
    clean = factlib.clean_facts(item.facts, facts, require_all=False)
    return amounts.calculate(item.amount_rule, factlib.rule_values(item.facts, clean), item.facts)


def check_eligibility(*, item: AssistanceItem, member, facts: dict,
                      context: factlib.MemberContext | None = None) -> list[str]:
    """Chinese refusal messages; empty when the member qualifies for ``item``. To check many
    items for one member, pass the ``context`` built once for that member."""
    clean = factlib.clean_facts(item.facts, facts, require_all=False)
    context = context or factlib.MemberContext.build(member)
    values = {**context.values(item), **factlib.rule_values(item.facts, clean)}
    messages = []
    for entry in item.eligibility or []:
        try:
            ok = rules.holds(entry["rule"], values)
        except rules.RuleError:
            ok = False
            messages.append(_("申请条件无法判断（%(m)s），请联系工会。") % {"m": entry["message"]})
            continue
        if not ok:
            messages.append(entry["message"])
    return messages


def items_by_fit(
    *, member, items: Iterable[AssistanceItem],
    facts_for: Callable[[AssistanceItem], dict] | None = None,
) -> tuple[list[dict], list[dict]]:
    """The items split into those ``member`` qualifies for and the others, each row
    ``{"item", "problems"}`` with the Chinese reasons — the same check an application meets
    when submitted (``check_eligibility``), on what the system knows of the member (the
    registered providers included: archive, visits) and the facts ``facts_for(item)`` gives
    (the visit page pre-fills them from the household profile; none by default).

    What is known of the member is read once; each item is then checked in Python, so the cost
    does not grow with the catalog. Used by the 代办 page and the visit need's page."""
    context = factlib.MemberContext.build(member)
    fitting: list[dict] = []
    others: list[dict] = []
    for item in items:
        problems = check_eligibility(item=item, member=member,
                                     facts=facts_for(item) if facts_for else {},
                                     context=context)
        (others if problems else fitting).append({"item": item, "problems": problems})
    return fitting, others
