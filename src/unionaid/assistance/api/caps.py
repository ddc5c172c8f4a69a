"""/api/v1/assistance/caps: the yearly caps across items (年度帮扶上限) — read by anyone signed
in (a worker's app may show what applies), changed by catalog maintainers
(``assistance.catalog``) as a new version from a date, exactly as on the page.

A scope is ``all`` (all items together) or a category code (``zhuyi`` …).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from unionaid.assistance import selectors, services
from unionaid.assistance.models import AssistanceCategory
from unionaid.core.api.schemas import WRITE_ERRORS, ErrorOut, InputSchema
from unionaid.core.errors import NotFound

router = Router(tags=["assistance"])
ALL = "all"


class CapVersionOut(Schema):
    per_person: Decimal | None
    per_household: Decimal | None
    effective_from: dt.date


class CapScopeOut(Schema):
    scope: str = Field(..., description="all（全部项目合计）或类别编码")
    scope_name: str
    per_person: Decimal | None = Field(..., description="现行每人每年上限（元），无则为 null")
    per_household: Decimal | None = Field(..., description="现行每户每年上限（元），无则为 null")
    effective_from: dt.date | None = Field(..., description="现行上限的生效日期")
    scheduled: list[CapVersionOut] = Field(..., description="已定但尚未生效的版本")


class CapListOut(Schema):
    today: dt.date
    caps: list[CapScopeOut]


def _scope_out(row: dict) -> dict:
    category, current = row["category"], row["current"]
    return {
        "scope": category.code if category else ALL,
        "scope_name": category.name if category else _("全部项目合计"),
        "per_person": current.per_person if current else None,
        "per_household": current.per_household if current else None,
        "effective_from": current.effective_from if current else None,
        "scheduled": row["scheduled"],
    }


@router.get("/caps", response={200: CapListOut, 401: ErrorOut},
            summary="年度帮扶上限（全部项目合计及各类别；现行与已定待生效的版本）")
def cap_list(request):
    overview = selectors.annual_cap_overview()
    return {"today": timezone.localdate(), "caps": [_scope_out(r) for r in overview["rows"]]}


class CapSetIn(InputSchema):
    per_person: Decimal | None = Field(None, description="每人每年上限（元）；null 为不设")
    per_household: Decimal | None = Field(None, description="每户每年上限（元）；null 为不设")
    effective_from: dt.date | None = Field(
        None, description="生效日期（不早于今天；省略为今天）。两项都为 null 表示自该日起取消上限")


@router.put("/caps/{scope}", response={200: CapScopeOut, **WRITE_ERRORS},
            summary="设置年度帮扶上限：新增自某日起生效的版本（需维护帮扶项目的权限）")
def cap_set(request, scope: str, payload: CapSetIn):
    scope = (scope or "").strip().lower()
    category = None
    if scope != ALL:
        category = AssistanceCategory.objects.filter(code=scope).first() \
            if "\x00" not in scope else None
        if category is None:
            raise NotFound(_("没有这个上限范围（all 或类别编码）。"), code="scope_not_found")
    services.annual_cap_save(actor=request.auth, category=category,
                             per_person=payload.per_person, per_household=payload.per_household,
                             effective_from=payload.effective_from)
    overview = selectors.annual_cap_overview()
    row = next(r for r in overview["rows"]
               if (r["category"].pk if r["category"] else None)
               == (category.pk if category else None))
    return _scope_out(row)
