"""/api/v1/matching/leads: leads of members in the caller's scope (``matching.view``; out of
scope = 404 ``not_found``), their evidence, accept / dismiss (``matching.manage`` over the
member's unit, plus the rights of the domain the lead starts work in), the conversion figures,
and the lead rules (read; changed on the rules page or here with ``matching.config``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from unionaid.accounts.access import access_for
from unionaid.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset_page, next_link
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema, QuerySchema
from unionaid.core.errors import NotFound
from unionaid.matching.leads import selectors, services
from unionaid.matching.models import LeadAction, LeadStatus, ReviewKind, SourceKind
from unionaid.matching.selectors import MANAGE, VIEW

router = Router(tags=["matching"])


def _require(user, perm: str = VIEW) -> None:
    if not access_for(user).has_perm(perm):
        raise NotFound()


class FiguresOut(Schema):
    raised: int
    accepted: int
    dismissed: int
    open: int
    paid: int
    paid_amount: Decimal
    accept_rate: float | None
    days_to_money_median: float | None
    days_to_money_max: int | None


@router.get("/figures", response={200: FiguresOut, **READ_ERRORS},
            summary="线索转化：发现、采纳、发放的条数，发放金额，从数据到发放的天数")
def lead_figures(request, response: HttpResponse):
    _require(request.auth)
    response["Cache-Control"] = "no-store"
    return selectors.conversion(user=request.auth)


class RuleOut(Schema):
    id: int
    code: str
    name: str
    description: str
    source_kinds: list[str]
    condition: str
    action: str
    item_code: str
    item_facts: dict[str, str]
    amount_expression: str
    material: str
    review_kind: str
    due_days: int
    is_active: bool
    order: int


@router.get("/rules", response={200: list[RuleOut], **READ_ERRORS}, summary="线索规则")
def rule_list(request):
    _require(request.auth)
    return list(selectors.lead_rules())


class RuleIn(InputSchema):
    code: str
    name: str
    action: LeadAction
    condition: str = "True"
    description: str = ""
    source_kinds: list[SourceKind] = []
    item_code: str = ""
    item_facts: dict[str, str] = {}
    amount_expression: str = ""
    material: str = ""
    review_kind: ReviewKind | None = None
    due_days: int = 14
    is_active: bool = True
    order: int = 0


@router.post("/rules", response={201: RuleOut, **WRITE_ERRORS},
             summary="新增线索规则（matching.config；表达式保存时检查，有误为 400 invalid_rule）")
def rule_create(request, payload: RuleIn):
    data = payload.dict()
    data["review_kind"] = data["review_kind"] or ""
    return 201, services.lead_rule_save(actor=request.auth, **data)


class LeadListQuery(QuerySchema):
    status: LeadStatus | None = None
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class LeadItemOut(Schema):
    id: int
    member_id: int
    member_name: str = Field(..., alias="member.name")
    org_unit_name: str = Field(..., alias="member.org_unit.name")
    rule_id: int
    rule_name: str = Field(..., alias="rule.name")
    action: str = Field(..., alias="rule.action")
    amount: Decimal | None
    status: str
    dataset_id: int | None
    created_at: dt.datetime


class LeadListOut(Schema):
    items: list[LeadItemOut]
    next_cursor: str | None
    next: str | None


@router.get("", response={200: LeadListOut, **READ_ERRORS, 422: ErrorOut},
            summary="线索（只含管辖范围内的职工），新的在前")
def lead_list(request, response: HttpResponse, filters: Query[LeadListQuery]):
    _require(request.auth)
    response["Cache-Control"] = "no-store"
    qs = selectors.leads_visible_to(user=request.auth, status=filters.status)
    page = keyset_page(qs, cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


class LeadOut(LeadItemOut):
    evidence: dict = Field(..., alias="evidence_data")
    evidence_note: str
    dismiss_reason: str
    accepted_by_id: int | None
    accepted_at: dt.datetime | None
    dismissed_by_id: int | None
    dismissed_at: dt.datetime | None
    target_kind: str
    target_id: int | None

    @staticmethod
    def resolve_evidence_note(obj) -> str:
        return services.evidence_note(obj)


@router.get("/{lead_id}", response={200: LeadOut, **READ_ERRORS}, summary="一条线索及其依据")
def lead_detail(request, response: HttpResponse, lead_id: int):
    response["Cache-Control"] = "no-store"
    return selectors.lead_get_for_user(user=request.auth, pk=lead_id)


class AcceptIn(InputSchema):
    due_on: dt.date | None = None


@router.post("/{lead_id}/accept", response={200: LeadOut, **WRITE_ERRORS},
             summary="采纳：发起预填的帮扶申请、走访、建档或档案复核（名单记录作为佐证）；"
                     "重复采纳不再新建")
def lead_accept(request, lead_id: int, payload: AcceptIn):
    lead = selectors.lead_get_for_user(user=request.auth, pk=lead_id, perm=MANAGE)
    return services.lead_accept(actor=request.auth, lead=lead, due_on=payload.due_on)


class DismissIn(InputSchema):
    reason: str


@router.post("/{lead_id}/dismiss", response={200: LeadOut, **WRITE_ERRORS},
             summary="排除（须填写原因）")
def lead_dismiss(request, lead_id: int, payload: DismissIn):
    lead = selectors.lead_get_for_user(user=request.auth, pk=lead_id, perm=MANAGE)
    return services.lead_dismiss(actor=request.auth, lead=lead, reason=payload.reason)
