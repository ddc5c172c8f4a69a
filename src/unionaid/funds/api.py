"""/api/v1/funds: budgets and their ledger in the caller's funds scope; confirming a payment
batch (funds.confirm; never its creator: 四眼原则), paying a reversed
disbursement again (重新发放) or closing it without re-payment (终止发放), both funds.manage;
and the auditor's payment trace (``trace.view``; every read journaled by
``funds.selectors.payment_trace``).

Money is returned as decimal strings ("5000.00"). Bank accounts never leave here; the member
shows masked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from unionaid.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset_page, next_link
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema, QuerySchema
from unionaid.core.errors import ServiceError
from unionaid.funds import selectors, services
from unionaid.org.selectors import unit_get_for_user

router = Router(tags=["funds"])


def _no_store(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"


def _name(user) -> str:
    return user.display_name if user is not None else ""


# -- GET /budgets -------------------------------------------------------------------------------

class BudgetListQuery(QuerySchema):
    year: int | None = Field(None, ge=2000, le=2100)
    unit_id: int | None = Field(None, description="只看该单位及其下级的预算")
    funding_source: str = Field("", max_length=40, description="经费口径编码")
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class BudgetListItemOut(Schema):
    id: int
    year: int
    org_unit_id: int
    org_unit_name: str = Field(..., alias="org_unit.name")
    funding_source_code: str = Field(..., alias="funding_source.code")
    funding_source_name: str = Field(..., alias="funding_source.name")
    allocated: Decimal
    available: Decimal
    reserved: Decimal
    paid: Decimal
    allocated_down: Decimal
    parent_id: int | None


class BudgetListOut(Schema):
    items: list[BudgetListItemOut]
    next_cursor: str | None
    next: str | None


@router.get("/budgets", response={200: BudgetListOut, **READ_ERRORS, 422: ErrorOut},
            summary="预算（经费额度）列表：可用、已核定待发、已发放、下拨")
def budget_list(request, response: HttpResponse, filters: Query[BudgetListQuery]):
    qs = selectors.budgets_visible_to(user=request.auth)
    if filters.unit_id is not None:
        unit = unit_get_for_user(user=request.auth, pk=filters.unit_id, perm="funds.view")
        qs = qs.filter(org_unit__path__startswith=unit.path)
    if filters.year is not None:
        qs = qs.filter(year=filters.year)
    if filters.funding_source:
        qs = qs.filter(funding_source__code=filters.funding_source.strip())
    page = keyset_page(qs.order_by("-year", "pk"), cursor=filters.cursor, limit=filters.limit)
    _no_store(response)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- GET /budgets/{id}/entries ------------------------------------------------------------------

class EntryListQuery(QuerySchema):
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class EntryOut(Schema):
    id: int
    txn: uuid.UUID
    account: str
    account_label: str = Field(..., alias="get_account_display")
    amount: Decimal = Field(..., description="带符号金额")
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    subject_kind: str
    subject_id: int | None
    disbursement_id: int | None
    reverses_txn: uuid.UUID | None
    memo: str
    created_at: dt.datetime
    created_by: str = Field(..., alias="created_by_name")


class EntryListOut(Schema):
    budget_id: int
    items: list[EntryOut]
    next_cursor: str | None
    next: str | None


@router.get("/budgets/{budget_id}/entries",
            response={200: EntryListOut, **READ_ERRORS, 422: ErrorOut},
            summary="预算的资金流水（只增不改，最新的在前）")
def budget_entries(request, response: HttpResponse, budget_id: int,
                   filters: Query[EntryListQuery]):
    budget = selectors.budget_get_for_user(user=request.auth, pk=budget_id)
    page = keyset_page(selectors.entries_for_budget(budget=budget), cursor=filters.cursor,
                       limit=filters.limit)
    for entry in page.items:
        entry.created_by_name = _name(entry.created_by)
    _no_store(response)
    return {"budget_id": budget.pk, "items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- GET /disbursements/{id}/trace --------------------------------------------------------------

class _DisbursementStateOut(Schema):
    id: int
    amount: Decimal
    status: str
    status_label: str
    reserved_at: dt.datetime
    paid_at: dt.datetime | None
    reversed_at: dt.datetime | None
    reversal_reason: str
    closed_at: dt.datetime | None = Field(..., description="终止发放（不再重新发放）的时间")
    close_reason: str


class TraceDisbursementOut(_DisbursementStateOut):
    released_at: dt.datetime | None
    repays_id: int | None = Field(..., description="重新发放时：被冲正的原发放编号")


class TraceHistoryOut(_DisbursementStateOut):
    repays_id: int | None
    batch_id: int | None
    confirmed_by: str


class TraceMemberOut(Schema):
    id: int
    name: str
    id_number_masked: str
    org_unit_name: str


class TraceMaterialOut(Schema):
    id: int
    material: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime


class TraceDecisionOut(Schema):
    order: int
    step: str
    status: str
    status_label: str
    decided_by: str
    decided_as: str
    on_behalf_of: str
    decided_at: dt.datetime | None
    comment: str
    skip_kind: str


class TraceBudgetOut(Schema):
    id: int
    org_unit_name: str
    funding_source_name: str
    year: int


class TraceEntryOut(Schema):
    id: int
    txn: uuid.UUID
    budget_id: int
    disbursement_id: int | None
    account: str
    amount: Decimal
    kind: str
    memo: str
    created_at: dt.datetime
    created_by: str


class TraceBatchOut(Schema):
    id: int
    org_unit_name: str
    status: str
    total: Decimal
    created_at: dt.datetime
    created_by: str
    exported_at: dt.datetime | None
    exported_by: str
    confirmed_at: dt.datetime | None
    confirmed_by: str


class TraceEventOut(Schema):
    id: int
    occurred_at: dt.datetime
    action: str
    action_label: str  # the action in words (确认发放 …)
    outcome: str
    actor: str  # the display name
    actor_positions: str
    changes: dict[str, Any]


class TraceOut(Schema):
    disbursement: TraceDisbursementOut
    member: TraceMemberOut
    application: dict[str, Any] | None = Field(
        ..., description="发放事项（如帮扶申请）的摘要，由登记该事项的业务提供；未知事项为 null")
    materials: list[TraceMaterialOut]
    decisions: list[TraceDecisionOut]
    budgets: list[TraceBudgetOut] = Field(..., description="出资预算及其上级来源（逐级下拨）")
    history: list[TraceHistoryOut] = Field(
        ..., description="同一事项的全部发放，按先后：原发放、冲正、重新发放")
    entries: list[TraceEntryOut]
    batch: TraceBatchOut | None
    events: list[TraceEventOut]


def _batch(batch) -> dict | None:
    if batch is None:
        return None
    return {"id": batch.pk, "org_unit_name": batch.org_unit.name, "status": batch.status,
            "total": batch.total, "created_at": batch.created_at,
            "created_by": _name(batch.created_by), "exported_at": batch.exported_at,
            "exported_by": _name(batch.exported_by), "confirmed_at": batch.confirmed_at, "confirmed_by": _name(batch.confirmed_by)}


@router.get("/disbursements/{disbursement_id}/trace",
            response={200: TraceOut, **READ_ERRORS},
            summary="资金追溯：一笔发放的完整链条（申请、材料、每级审批、预算、批次、确认；查询留痕）")
def disbursement_trace(request, response: HttpResponse, disbursement_id: int):
    trace = selectors.payment_trace(user=request.auth, disbursement_id=disbursement_id)
    d, member = trace["disbursement"], trace["member"]
    _no_store(response)
    return {
        "disbursement": {"id": d.pk, "amount": d.amount, "status": d.status,
                         "status_label": d.get_status_display(), "reserved_at": d.reserved_at,
                         "paid_at": d.paid_at, "reversed_at": d.reversed_at,
                         "reversal_reason": d.reversal_reason, "closed_at": d.closed_at,
                         "close_reason": d.close_reason, "released_at": d.released_at,
                         "repays_id": d.repays_id},
        "member": {"id": member.pk, "name": member.name,
                   "id_number_masked": member.id_number_masked,
                   "org_unit_name": member.org_unit.name},
        "application": trace["summary"].api if trace["summary"] else None,
        "materials": [{"id": m.pk, "material": m.material, "original_name": m.original_name,
                       "content_type": m.content_type, "size": m.size, "sha256": m.sha256,
                       "uploaded_by": _name(m.uploaded_by), "uploaded_at": m.uploaded_at}
                      for m in trace["materials"]],
        "decisions": trace["decisions"],
        "budgets": [{"id": b.pk, "org_unit_name": b.org_unit.name,
                     "funding_source_name": b.funding_source.name, "year": b.year}
                    for b in trace["budgets"]],
        "history": [{"id": h.pk, "amount": h.amount, "status": h.status,
                     "status_label": h.get_status_display(), "reserved_at": h.reserved_at,
                     "paid_at": h.paid_at, "reversed_at": h.reversed_at,
                     "reversal_reason": h.reversal_reason, "closed_at": h.closed_at,
                     "close_reason": h.close_reason, "repays_id": h.repays_id,
                     "batch_id": h.batch_id,
                     "confirmed_by": _name(h.batch.confirmed_by) if h.batch else ""}
                    for h in trace["history"]],
        "entries": [{"id": e.pk, "txn": e.txn, "budget_id": e.budget_id,
                     "disbursement_id": e.disbursement_id, "account": e.account,
                     "amount": e.amount, "kind": e.kind, "memo": e.memo,
                     "created_at": e.created_at, "created_by": _name(e.created_by)}
                    for e in trace["entries"]],
        "batch": _batch(trace["batch"]),
        "events": [{"id": ev.pk, "occurred_at": ev.occurred_at, "action": ev.action,
                    "action_label": ev.label, "outcome": ev.outcome,
                    "actor": ev.person["name"], "actor_positions": ev.actor_positions,
                    "changes": ev.changes} for ev in trace["events"]],
    }


# -- POST /batches/{id}/confirm -----------------------------------------------------------------

class BatchConfirmIn(InputSchema):
    checked: bool = Field(..., description="已核对银行回单，本批次款项均已到账")


class BatchConfirmOut(Schema):
    id: int
    status: str
    total: Decimal
    created_by: str
    exported_by: str
    confirmed_by: str
    confirmed_at: dt.datetime | None


@router.post("/batches/{batch_id}/confirm", response={200: BatchConfirmOut, **WRITE_ERRORS},
             summary="确认发放：本批次款项记为已发放（制单人不能确认；重复确认只发放一次）")
def batch_confirm(request, batch_id: int, payload: BatchConfirmIn):
    batch = selectors.batch_get_for_user(user=request.auth, pk=batch_id)
    if not payload.checked:
        message = _("请先勾选确认已核对银行回单。")
        raise ServiceError(message, code="validation_error", fields={"checked": message})
    batch = services.batch_confirm(actor=request.auth, batch=batch)
    return {"id": batch.pk, "status": batch.status, "total": batch.total,
            "created_by": _name(batch.created_by), "exported_by": _name(batch.exported_by),
            "confirmed_by": _name(batch.confirmed_by), "confirmed_at": batch.confirmed_at}


# -- POST /disbursements/{id}/repay -------------------------------------------------------------

class RepayIn(InputSchema):
    reason: str = Field(..., max_length=200, description="重新发放的原因，如：收款账号已更正")


class RepayOut(Schema):
    id: int
    repays_id: int
    status: str
    amount: Decimal
    budget_id: int
    subject_kind: str
    subject_id: int


@router.post("/disbursements/{disbursement_id}/repay",
             response={200: RepayOut, **WRITE_ERRORS},
             summary="重新发放：为已冲正的发放再次预留同样金额，生成新的发放（重复提交不重复预留）")
def disbursement_repay(request, disbursement_id: int, payload: RepayIn):
    disbursement = selectors.disbursement_get_for_user(user=request.auth, pk=disbursement_id)
    return services.disbursement_repay(actor=request.auth, disbursement=disbursement,
                                       reason=payload.reason)


# -- POST /disbursements/{id}/close -------------------------------------------------------------

class CloseIn(InputSchema):
    reason: str = Field(..., max_length=200, description="终止发放的原因，如：职工本人放弃")


class CloseOut(Schema):
    id: int
    status: str
    amount: Decimal
    budget_id: int
    subject_kind: str
    subject_id: int
    reversed_at: dt.datetime | None
    closed_at: dt.datetime
    close_reason: str


@router.post("/disbursements/{disbursement_id}/close",
             response={200: CloseOut, **WRITE_ERRORS},
             summary="终止发放：已冲正的发放不再重新发放（不变动预算；重复提交只记录一次）")
def disbursement_close(request, disbursement_id: int, payload: CloseIn):
    disbursement = selectors.disbursement_get_for_user(user=request.auth, pk=disbursement_id)
    return services.disbursement_close(actor=request.auth, disbursement=disbursement,
                                       reason=payload.reason)
