"""Funding sources and budgets: money entering a unit's budget and moving down the tree."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.accounts.models import DataScope
from unionaid.audit.services import audit_record
from unionaid.core.errors import PermissionDenied, ServiceError
from unionaid.funds.models import Account, Budget, EntryKind, FundingSource
from unionaid.funds.services.ledger import Leg, insufficient, lock_budgets, positive_money, post
from unionaid.org.models import OrgUnit

MANAGE = "funds.manage"
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MIN_YEAR, MAX_YEAR = 2000, 2100


def require_unit_perm(actor, perm: str, unit: OrgUnit) -> None:
    if not access_for(actor).covers_unit(perm, unit):
        raise PermissionDenied(_("您无权管理“%(unit)s”的经费。") % {"unit": unit.name})


def ancestor_paths(unit: OrgUnit) -> list[str]:
    """The unit's own path and its ancestors' paths, computed from the materialised path."""
    step = OrgUnit.steplen
    return [unit.path[:i] for i in range(step, len(unit.path) + 1, step)]


def _check_year(year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        message = _("年度不正确。")
        raise ServiceError(message, code="validation_error", fields={"year": message})
    return year


@transaction.atomic
def funding_source_save(*, actor, code: str, name: str) -> FundingSource:
    """Create a funding source (经费口径) or rename the one with ``code``. Funding sources are
    shared by the whole union, so only a finance manager whose grant covers everything may."""
    access = access_for(actor)
    root_level = any(
        g.scope == DataScope.ALL
        or (g.scope == DataScope.UNIT_AND_BELOW and len(g.unit_path) == OrgUnit.steplen)
        for g in access.grants_for(MANAGE)
    )
    if not root_level:
        raise PermissionDenied(_("只有总工会（路局）层级的经费管理人员可以维护经费口径。"))
    code, name = (code or "").strip().lower(), (name or "").strip()
    errors = {}
    if not CODE_RE.match(code):
        errors["code"] = _("编码只能包含小写字母、数字、下划线和连字符，最长 40 位。")
    if not name or len(name) > 60:
        errors["name"] = _("请填写名称（最长 60 字）。")
    if errors:
        raise ServiceError(next(iter(errors.values())), code="validation_error", fields=errors)
    source = FundingSource.objects.select_for_update().filter(code=code).first()
    if source is None:
        source = FundingSource.objects.create(code=code, name=name)
        audit_record(actor=actor, action="funds.source_create", target=source,
                     changes={"code": code, "name": name})
    elif source.name != name:
        before, source.name = source.name, name
        source.save(update_fields=["name"])
        audit_record(actor=actor, action="funds.source_update", target=source,
                     changes={"name": {"before": before, "after": name}})
    return source


def _budget_get_or_create(*, org_unit: OrgUnit, funding_source: FundingSource, year: int,
                          parent: Budget | None = None) -> Budget:
    budget, created = Budget.objects.get_or_create(
        org_unit=org_unit, funding_source=funding_source, year=year,
        defaults={"parent": parent},
    )
    if not created and parent is not None and budget.parent_id is None:
        Budget.objects.filter(pk=budget.pk, parent__isnull=True).update(parent=parent)
    return budget


@transaction.atomic
def budget_allocate(*, actor, org_unit: OrgUnit, funding_source: FundingSource, year: int,
                    amount, memo: str = "") -> Budget:
    """Money into a unit's budget from outside (拨入); creates the budget if needed."""
    require_unit_perm(actor, MANAGE, org_unit)
    if org_unit.is_closed:
        raise ServiceError(_("该单位已撤销，不能拨入经费。"), code="unit_closed")
    year = _check_year(year)
    amount = positive_money(amount)
    budget = _budget_get_or_create(org_unit=org_unit, funding_source=funding_source, year=year)
    budget = lock_budgets([budget.pk])[budget.pk]
    memo = (memo or "").strip()[:200]
    txn = post(kind=EntryKind.ALLOCATE, actor=actor, memo=memo, legs=[
        Leg(budget, Account.SOURCE, -amount),
        Leg(budget, Account.AVAILABLE, amount),
    ])
    audit_record(actor=actor, action="funds.allocate", target=budget,
                 org_unit_path=org_unit.path,
                 changes={"amount": str(amount), "memo": memo, "txn": str(txn)})
    return budget


@transaction.atomic
def budget_allocate_down(*, actor, parent_budget: Budget, child_unit: OrgUnit, amount,
                         memo: str = "") -> Budget:
    """Move available money from ``parent_budget`` to the budget of ``child_unit`` (a unit
    below the parent's unit) for the same funding source and year (下拨)."""
    parent_unit = OrgUnit.objects.get(pk=parent_budget.org_unit_id)
    require_unit_perm(actor, MANAGE, parent_unit)
    if child_unit.pk == parent_unit.pk or not child_unit.path.startswith(parent_unit.path):
        message = _("只能下拨给本单位的下级单位。")
        raise ServiceError(message, code="not_a_child_unit", fields={"child_unit": message})
    if child_unit.is_closed:
        raise ServiceError(_("该单位已撤销，不能下拨经费。"), code="unit_closed")
    amount = positive_money(amount)
    child = _budget_get_or_create(org_unit=child_unit, funding_source=parent_budget.funding_source,
                                  year=parent_budget.year, parent=parent_budget)
    locked = lock_budgets([parent_budget.pk, child.pk])
    parent, child = locked[parent_budget.pk], locked[child.pk]
    if parent.available < amount:
        raise insufficient(parent, amount)
    memo = (memo or "").strip()[:200]
    txn = post(kind=EntryKind.ALLOCATE_DOWN, actor=actor, memo=memo, legs=[
        Leg(parent, Account.AVAILABLE, -amount),
        Leg(parent, Account.ALLOCATED_DOWN, amount),
        Leg(child, Account.SOURCE, -amount),
        Leg(child, Account.AVAILABLE, amount),
    ])
    audit_record(actor=actor, action="funds.allocate_down", target=parent,
                 org_unit_path=parent_unit.path,
                 changes={"amount": str(amount), "child_budget": child.pk,
                          "child_unit": child_unit.name, "memo": memo, "txn": str(txn)})
    parent_budget.refresh_from_db()
    return child


def budget_for(*, org_unit: OrgUnit, funding_source: FundingSource, year: int) -> Budget | None:
    """The nearest budget up the tree (the unit itself first) for this source and year."""
    return (
        Budget.objects.select_related("org_unit", "funding_source")
        .filter(funding_source=funding_source, year=year,
                org_unit__path__in=ancestor_paths(org_unit))
        .order_by("-org_unit__depth")
        .first()
    )
