"""Configuration of the archive (``archive.config``): the 低保 lines per unit and year, the
category rules per unit subtree, and admins' corrections to the working-day calendar that
public notices count in.

Lines and rules belong to a unit and apply to its subtree (nearest ancestor wins, see
``archive.category``), so an admin maintains them for units in their ``archive.config``
scope. The working-day calendar is one for the whole installation, so changing it needs
``archive.config`` over the whole tree (every root unit).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.approvals.models import WorkdayOverride
from unionaid.archive.models import CategoryRules, DibaoStandard
from unionaid.archive.services.common import CONFIG
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.org.models import OrgUnit

MAX_LINE = Decimal("100000")
MIN_YEAR, MAX_YEAR = 2000, 2100
MIN_FOLLOW_UP_MONTHS = 6  # follow-up visits for at least six months after an exit


def _invalid(field: str, message: str) -> ServiceError:
    return ServiceError(message, code="validation_error", fields={field: message})


def _require_config(actor, unit: OrgUnit) -> None:
    if actor is not None and not access_for(actor).covers_unit(CONFIG, unit):
        raise PermissionDenied(_("您无权维护“%(unit)s”的困难认定配置。") % {"unit": unit.name})


def may_edit_calendar(actor) -> bool:
    access = access_for(actor)
    roots = list(OrgUnit.objects.get_root_nodes())
    return bool(roots) and all(access.covers_unit(CONFIG, root) for root in roots)


def _require_calendar(actor) -> None:
    if actor is not None and not may_edit_calendar(actor):
        raise PermissionDenied(_("工作日调整对全系统生效，须由具有全局困难认定配置权限的管理员维护。"))


def _decimal(value, field: str, label: str, *, low: Decimal, high: Decimal,
             places: str = "0.01") -> Decimal:
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise _invalid(field, _("%(label)s须为数字。") % {"label": label}) from None
    if not number.is_finite() or not low <= number <= high:
        raise _invalid(field, _("%(label)s须在 %(low)s 到 %(high)s 之间。")
                       % {"label": label, "low": low, "high": high})
    return number.quantize(Decimal(places))


def _int(value, field: str, label: str, *, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise _invalid(field, _("%(label)s须为整数。") % {"label": label}) from None
    if not low <= number <= high:
        raise _invalid(field, _("%(label)s须在 %(low)s 到 %(high)s 之间。")
                       % {"label": label, "low": low, "high": high})
    return number


# -- 低保标准 ----------------------------------------------------------------------------------

@transaction.atomic
def dibao_standard_save(*, actor, org_unit: OrgUnit, year: int, monthly_amount, region: str = "",
                        standard: DibaoStandard | None = None) -> DibaoStandard:
    """Create the 低保 standard of ``org_unit`` for ``year`` (``standard`` None), or change
    ``standard``."""
    _require_config(actor, org_unit)
    year = _int(year, "year", _("年度"), low=MIN_YEAR, high=MAX_YEAR)
    amount = _decimal(monthly_amount, "monthly_amount", _("低保标准"), low=Decimal("0.01"),
                      high=MAX_LINE)
    region = (region or "").strip()[:60] or org_unit.name[:60]
    if standard is None:
        row = DibaoStandard(org_unit=org_unit, year=year)
        before = None
    else:
        row = DibaoStandard.objects.select_for_update().get(pk=standard.pk)
        _require_config(actor, row.org_unit)
        before = {"year": row.year, "monthly_amount": str(row.monthly_amount),
                  "region": row.region}
        row.org_unit, row.year = org_unit, year
    row.monthly_amount, row.region = amount, region
    row.updated_by = actor if getattr(actor, "pk", None) else None
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict(_("“%(unit)s”已有 %(year)s 年的低保标准，请直接修改。")
                       % {"unit": org_unit.name, "year": year}, code="duplicate_dibao_line",
                       ) from None
    audit_record(actor=actor, action="archive.dibao_save", target=row,
                 org_unit_path=org_unit.path,
                 changes={"unit": org_unit.pk, "year": year, "monthly_amount": str(amount),
                          "region": region, "before": before})
    return row


@transaction.atomic
def dibao_standard_delete(*, actor, standard: DibaoStandard) -> None:
    row = DibaoStandard.objects.select_for_update().select_related("org_unit").get(
        pk=standard.pk)
    _require_config(actor, row.org_unit)
    audit_record(actor=actor, action="archive.dibao_delete", target=row,
                 org_unit_path=row.org_unit.path,
                 changes={"unit": row.org_unit_id, "year": row.year,
                          "monthly_amount": str(row.monthly_amount)})
    row.delete()


# -- 认定规则 ----------------------------------------------------------------------------------

RULE_FIELDS = ("deep_multiplier", "relative_multiplier", "sudden_ratio", "edge_multiplier",
               "max_homes", "private_school_fee_limit", "recheck_months", "follow_up_months")


def clean_rules(values: dict) -> dict:
    """Validate rule values (missing ones take the defaults)."""
    defaults = CategoryRules()
    raw = {name: values.get(name) if values.get(name) not in (None, "") else
           getattr(defaults, name) for name in RULE_FIELDS}
    ten = Decimal("10")
    clean = {
        "deep_multiplier": _decimal(raw["deep_multiplier"], "deep_multiplier",
                                    _("深度困难倍数"), low=Decimal("0.01"), high=ten),
        "relative_multiplier": _decimal(raw["relative_multiplier"], "relative_multiplier",
                                        _("相对困难倍数"), low=Decimal("0.01"), high=ten),
        "sudden_ratio": _decimal(raw["sudden_ratio"], "sudden_ratio", _("意外致困比例"),
                                 low=Decimal("0.01"), high=ten),
        "edge_multiplier": _decimal(raw["edge_multiplier"], "edge_multiplier",
                                    _("边缘困难倍数"), low=Decimal("0.01"), high=ten),
        "max_homes": _int(raw["max_homes"], "max_homes", _("住房套数"), low=0, high=50),
        "private_school_fee_limit": _decimal(
            raw["private_school_fee_limit"], "private_school_fee_limit", _("择校学费上限"),
            low=Decimal("0"), high=Decimal("10000000")),
        "recheck_months": _int(raw["recheck_months"], "recheck_months", _("复核周期"),
                               low=1, high=60),
        "follow_up_months": _int(raw["follow_up_months"], "follow_up_months", _("回访期"),
                                 low=MIN_FOLLOW_UP_MONTHS, high=60),
    }
    if clean["relative_multiplier"] < clean["deep_multiplier"]:
        raise _invalid("relative_multiplier", _("相对困难倍数不能小于深度困难倍数。"))
    if clean["edge_multiplier"] < clean["relative_multiplier"]:
        raise _invalid("edge_multiplier", _("边缘困难倍数不能小于相对困难倍数。"))
    return clean


@transaction.atomic
def category_rules_save(*, actor, org_unit: OrgUnit, **values) -> CategoryRules:
    """Set the rules of ``org_unit``'s subtree (creates them or changes them)."""
    _require_config(actor, org_unit)
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise _invalid(sorted(unknown)[0], _("未知的规则项。"))
    clean = clean_rules(values)
    rules = CategoryRules.objects.select_for_update().filter(org_unit=org_unit).first()
    before = ({name: str(getattr(rules, name)) for name in RULE_FIELDS} if rules else None)
    if rules is None:
        rules = CategoryRules(org_unit=org_unit)
    for name, value in clean.items():
        setattr(rules, name, value)
    rules.updated_by = actor if getattr(actor, "pk", None) else None
    rules.save()
    audit_record(actor=actor, action="archive.rules_save", target=rules,
                 org_unit_path=org_unit.path,
                 changes={"unit": org_unit.pk, "before": before,
                          "after": {k: str(v) for k, v in clean.items()}})
    return rules


@transaction.atomic
def category_rules_delete(*, actor, rules: CategoryRules) -> None:
    """Remove a unit's own rules: its subtree follows the nearest ancestor's (or defaults)."""
    row = CategoryRules.objects.select_for_update().select_related("org_unit").get(pk=rules.pk)
    _require_config(actor, row.org_unit)
    audit_record(actor=actor, action="archive.rules_delete", target=row,
                 org_unit_path=row.org_unit.path,
                 changes={"unit": row.org_unit_id,
                          "before": {name: str(getattr(row, name)) for name in RULE_FIELDS}})
    row.delete()


# -- 工作日调整 --------------------------------------------------------------------------------

@transaction.atomic
def workday_override_save(*, actor, day: dt.date, is_workday: bool, note: str = ""
                          ) -> WorkdayOverride:
    """Mark ``day`` as a working day or a holiday, whatever chinese-calendar says. Public
    notices started after the change count with it; tasks already started keep their end."""
    _require_calendar(actor)
    if not isinstance(day, dt.date):
        raise _invalid("day", _("请填写日期。"))
    row = WorkdayOverride.objects.select_for_update().filter(day=day).first()
    before = None if row is None else {"is_workday": row.is_workday, "note": row.note}
    if row is None:
        row = WorkdayOverride(day=day)
    row.is_workday, row.note = bool(is_workday), (note or "").strip()[:100]
    row.updated_by = actor if getattr(actor, "pk", None) else None
    row.save()
    audit_record(actor=actor, action="archive.workday_save", target=row,
                 changes={"day": day.isoformat(), "is_workday": row.is_workday,
                          "note": row.note, "before": before})
    return row


@transaction.atomic
def workday_override_delete(*, actor, override: WorkdayOverride) -> None:
    _require_calendar(actor)
    row = WorkdayOverride.objects.select_for_update().get(pk=override.pk)
    audit_record(actor=actor, action="archive.workday_delete", target=row,
                 changes={"day": row.day.isoformat(), "is_workday": row.is_workday})
    row.delete()
