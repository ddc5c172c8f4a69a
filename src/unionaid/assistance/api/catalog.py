"""/api/v1/assistance/items: the catalog (items open today), one item, and an estimate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Query, Router, Schema

from unionaid.assistance import selectors
from unionaid.assistance.api.common import item_for, member_for
from unionaid.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset_page, next_link
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema, QuerySchema

router = Router(tags=["assistance"])


# -- GET /items ---------------------------------------------------------------------------------

class ItemListQuery(QuerySchema):
    category: str = Field("", max_length=30, description="类别编码，如 zhukun、zhuyi、zhuxue")
    q: str = Field("", max_length=50, description="项目名称包含的文字")
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class ItemListItemOut(Schema):
    code: str
    name: str
    category_code: str = Field(..., alias="category.code")
    category_name: str = Field(..., alias="category.name")
    funding_source: str = Field(..., alias="funding_source.name")
    per_person_cap: Decimal | None
    per_household_cap: Decimal | None
    period_kind: str
    valid_to: dt.date | None


class ItemListOut(Schema):
    items: list[ItemListItemOut]
    next_cursor: str | None
    next: str | None


@router.get("/items", response={200: ItemListOut, **READ_ERRORS, 422: ErrorOut},
            summary="帮扶项目目录（当前受理的项目，可按类别筛选）")
def item_list(request, filters: Query[ItemListQuery]):
    qs = selectors.items_available_to(None)
    if filters.category:
        qs = qs.filter(category__code=filters.category.strip().lower())
    if filters.q.strip():
        qs = qs.filter(name__contains=filters.q.strip())
    page = keyset_page(qs, cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- GET /items/{code} --------------------------------------------------------------------------

class ItemDetailOut(Schema):
    code: str
    name: str
    category_code: str = Field(..., alias="category.code")
    category_name: str = Field(..., alias="category.name")
    funding_source: str = Field(..., alias="funding_source.name")
    description: str
    facts: list[dict[str, Any]] = Field(..., description="申请时需填写的事项（名称、类型、选项）")
    conditions: list[str] = Field(..., description="申请条件（不符合时的提示语）")
    amount_rule: dict[str, Any]
    per_person_cap: Decimal | None
    per_household_cap: Decimal | None
    required_materials: list[dict[str, Any]]
    period_kind: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    is_active: bool


@router.get("/items/{code}", response={200: ItemDetailOut, **READ_ERRORS},
            summary="帮扶项目详情（需填事项、条件、金额规则、所需材料）")
def item_detail(request, code: str):
    item = item_for(request.auth, code)
    item.conditions = [entry.get("message", "") for entry in item.eligibility or []]
    return item


# -- POST /items/{code}/estimate ----------------------------------------------------------------

class EstimateIn(InputSchema):
    facts: dict[str, Any] = Field(default_factory=dict, description="按项目 facts 填写的事项")


class EstimateOut(Schema):
    item_code: str
    member_id: int
    amount: Decimal = Field(..., description="按规则并扣除年度上限后的金额")
    calculation: list[str]
    eligible: bool
    problems: list[str] = Field(..., description="不能申请的原因（中文）")


@router.post("/items/{code}/estimate", response={200: EstimateOut, **WRITE_ERRORS},
             summary="试算：填写事项后可得金额、计算过程和资格提示（干部用 ?member_id= 指定职工）")
def item_estimate(request, code: str, payload: EstimateIn, member_id: int | None = None):
    item = item_for(request.auth, code)
    member = member_for(request.auth, member_id, perm="assistance.apply")
    result = selectors.item_estimate(item=item, member=member, facts=payload.facts)
    return {"item_code": item.code, "member_id": member.pk, **result}
