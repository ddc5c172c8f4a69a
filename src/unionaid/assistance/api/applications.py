"""/api/v1/assistance/applications: list, detail, draft, change, submit, withdraw, resubmit.

A worker sees and files only their own; a cadre files on a worker's behalf (代办) within their
``assistance.apply`` scope and sees their ``assistance.view`` scope. Out of scope is "not found".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from unionaid.approvals.api import PublicTimelineRowOut, public_timeline
from unionaid.approvals.selectors import case_timeline
from unionaid.assistance import selectors, services
from unionaid.assistance.api.common import file_url, item_for, member_for, no_store
from unionaid.assistance.models import ApplicationStatus
from unionaid.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset_page, next_link
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema, QuerySchema
from unionaid.core.api.search import refuse_identifier_in_url
from unionaid.org.selectors import unit_get_for_user

router = Router(tags=["assistance"])


# -- GET /applications --------------------------------------------------------------------------

class ApplicationListQuery(QuerySchema):
    status: ApplicationStatus | None = None
    item_code: str = Field("", max_length=40)
    member_id: int | None = None
    unit_id: int | None = Field(None, description="只看该单位及其下级")
    q: str = Field("", max_length=50, description=(
        "职工姓名开头或项目名称。身份证号、手机号请用 POST /applications/search（不进访问日志）"))
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class ApplicationListItemOut(Schema):
    id: int
    status: str
    status_label: str = Field(..., alias="get_status_display")
    member_id: int
    member_name: str = Field(..., alias="member.name")
    org_unit_name: str = Field(..., alias="org_unit.name")
    item_code: str = Field(..., alias="item.code")
    item_name: str = Field(..., alias="item.name")
    category_name: str = Field(..., alias="item.category.name")
    period: str
    amount: Decimal
    on_behalf: bool
    created_at: dt.datetime
    submitted_at: dt.datetime | None


class ApplicationListOut(Schema):
    items: list[ApplicationListItemOut]
    next_cursor: str | None
    next: str | None


def _application_page(request, filters, *, identifiers: bool = False):
    user = request.auth
    unit = (unit_get_for_user(user=user, pk=filters.unit_id, perm="assistance.view")
            if filters.unit_id is not None else None)
    qs = selectors.application_list(user=user, status=filters.status, unit=unit, query=filters.q,
                                    identifiers=identifiers)
    if filters.item_code:
        qs = qs.filter(item__code=filters.item_code.strip().lower())
    if filters.member_id is not None:
        qs = qs.filter(member_id=filters.member_id)
    return keyset_page(qs, cursor=filters.cursor, limit=filters.limit)


@router.get("/applications",
            response={200: ApplicationListOut, **READ_ERRORS, 400: ErrorOut, 422: ErrorOut},
            summary="帮扶申请列表（职工只看到本人的；干部看到管辖范围内的）")
def application_list(request, response: HttpResponse, filters: Query[ApplicationListQuery]):
    refuse_identifier_in_url(filters.q, search_path="/api/v1/assistance/applications/search")
    page = _application_page(request, filters)
    no_store(response)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- POST /applications/search ------------------------------------------------------------------

class ApplicationSearchIn(InputSchema):
    q: str = Field("", max_length=50,
                   description="职工完整身份证号或手机号（或姓名开头、项目名称），放在请求体里，不进访问日志")
    status: ApplicationStatus | None = None
    item_code: str = Field("", max_length=40)
    member_id: int | None = None
    unit_id: int | None = None
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class ApplicationSearchOut(Schema):
    items: list[ApplicationListItemOut]
    next_cursor: str | None


@router.post("/applications/search",
             response={200: ApplicationSearchOut, **READ_ERRORS, 422: ErrorOut},
             summary="按职工身份证号/手机号查找申请（条件在请求体中）")
def application_search(request, response: HttpResponse, payload: ApplicationSearchIn):
    page = _application_page(request, payload, identifiers=True)
    no_store(response)
    return {"items": page.items, "next_cursor": page.next_cursor}


# -- GET /applications/{id} ---------------------------------------------------------------------

class MaterialOut(Schema):
    name: str
    required: bool
    hint: str = ""
    uploaded: bool


class AttachmentOut(Schema):
    id: int
    material: str
    original_name: str
    content_type: str
    size: int
    uploaded_at: dt.datetime
    url: str
    thumbnail_url: str | None


class ApplicationDetailOut(Schema):
    id: int
    status: str
    status_label: str
    member_id: int
    member_name: str
    org_unit_name: str
    item_code: str
    item_name: str
    category_name: str
    period: str
    on_behalf: bool
    filed_by_name: str
    facts: dict[str, Any]
    reason: str
    amount: Decimal
    calculation: list[str]
    fast_track: bool
    fast_track_reason: str
    case_id: int | None
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    problems: list[str] = Field(..., description="草稿/退回时：现在提交会被拒绝的原因")
    materials: list[MaterialOut]
    attachments: list[AttachmentOut]
    timeline: list[PublicTimelineRowOut]


def _detail(user, application) -> dict:
    item = application.item
    attachments = list(application.attachments.all())
    present = {a.material for a in attachments}
    materials = [m if isinstance(m, dict) else {"name": m, "required": True}
                 for m in item.required_materials or []]
    problems: list[str] = []
    if application.status in (ApplicationStatus.DRAFT, ApplicationStatus.RETURNED):
        problems = services.application_precheck(application=application)["problems"]
    timeline = (case_timeline(case=application.case, include_upcoming=True)
                if application.case_id else [])
    return {
        "id": application.pk, "status": application.status,
        "status_label": application.get_status_display(), "member_id": application.member_id,
        "member_name": application.member.name, "org_unit_name": application.org_unit.name,
        "item_code": item.code, "item_name": item.name, "category_name": item.category.name,
        "period": application.period, "on_behalf": application.on_behalf,
        "filed_by_name": application.filed_by.display_name, "facts": application.facts,
        "reason": application.reason, "amount": application.amount,
        "calculation": application.calculation, "fast_track": application.fast_track,
        "fast_track_reason": application.fast_track_reason, "case_id": application.case_id,
        "created_at": application.created_at, "submitted_at": application.submitted_at,
        "decided_at": application.decided_at, "problems": problems,
        "materials": [{**m, "uploaded": m["name"] in present} for m in materials],
        "attachments": [
            {"id": a.pk, "material": a.material, "original_name": a.original_name,
             "content_type": a.content_type, "size": a.size, "uploaded_at": a.uploaded_at,
             "url": file_url(a.pk),
             "thumbnail_url": file_url(a.pk, thumb=True) if a.thumbnail_path else None}
            for a in sorted(attachments, key=lambda a: a.pk)
        ],
        "timeline": public_timeline(timeline, hide_names=user.member_id == application.member_id),
    }


@router.get("/applications/{application_id}",
            response={200: ApplicationDetailOut, **READ_ERRORS},
            summary="申请详情（金额计算过程、材料、审批进度）")
def application_detail(request, response: HttpResponse, application_id: int):
    application = selectors.application_get_for_user(user=request.auth, pk=application_id)
    no_store(response)
    return _detail(request.auth, application)


# -- POST /applications -------------------------------------------------------------------------

class ApplicationCreateIn(InputSchema):
    item_code: str = Field(..., max_length=40)
    member_id: int | None = Field(None, description="代办时填职工 id；本人申请不填")
    facts: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field("", max_length=2000)
    period: str | None = Field(None, max_length=20, description="申请年度或事项标识，默认今年")


class ApplicationCreateOut(Schema):
    id: int
    status: str
    member_id: int
    item_code: str = Field(..., alias="item.code")
    period: str
    on_behalf: bool
    facts: dict[str, Any]
    reason: str
    created_at: dt.datetime


@router.post("/applications", response={201: ApplicationCreateOut, **WRITE_ERRORS},
             summary="新建申请草稿（本人申请，或干部代办时指定 member_id）")
def application_create(request, payload: ApplicationCreateIn):
    item = item_for(request.auth, payload.item_code)
    member = member_for(request.auth, payload.member_id, perm="assistance.apply")
    application = services.application_create_draft(
        actor=request.auth, member=member, item=item, facts=payload.facts,
        reason=payload.reason, period=payload.period)
    return Status(201, application)


# -- PATCH /applications/{id} -------------------------------------------------------------------

class ApplicationUpdateIn(InputSchema):
    facts: dict[str, Any] | None = Field(None, description="整体替换已填事项")
    reason: str | None = Field(None, max_length=2000)


class ApplicationUpdateOut(Schema):
    id: int
    status: str
    facts: dict[str, Any]
    reason: str
    updated_at: dt.datetime


@router.patch("/applications/{application_id}",
              response={200: ApplicationUpdateOut, **WRITE_ERRORS},
              summary="修改草稿（或退回补充材料的申请）的事项和理由")
def application_update(request, application_id: int, payload: ApplicationUpdateIn):
    application = selectors.application_get_for_user(user=request.auth, pk=application_id)
    return services.application_update_draft(actor=request.auth, application=application,
                                             facts=payload.facts, reason=payload.reason)


# -- POST /applications/{id}/submit, /withdraw, /resubmit ---------------------------------------

class SubmitIn(InputSchema):
    fast_track: bool = Field(False, description="特事特办（限干部）")
    fast_track_reason: str = Field("", max_length=200)


class SubmitOut(Schema):
    id: int
    status: str
    amount: Decimal
    calculation: list[str]
    fast_track: bool
    case_id: int | None
    submitted_at: dt.datetime | None


@router.post("/applications/{application_id}/submit", response={200: SubmitOut, **WRITE_ERRORS},
             summary="提交申请（查重、资格、材料、年度上限，然后进入审批）")
def application_submit(request, application_id: int, payload: SubmitIn):
    application = selectors.application_get_for_user(user=request.auth, pk=application_id)
    return services.application_submit(actor=request.auth, application=application,
                                       fast_track=payload.fast_track,
                                       fast_track_reason=payload.fast_track_reason)


class WithdrawIn(InputSchema):
    reason: str = Field("", max_length=200)


class WithdrawOut(Schema):
    id: int
    status: str
    updated_at: dt.datetime


@router.post("/applications/{application_id}/withdraw",
             response={200: WithdrawOut, **WRITE_ERRORS}, summary="撤回申请")
def application_withdraw(request, application_id: int, payload: WithdrawIn):
    application = selectors.application_get_for_user(user=request.auth, pk=application_id)
    return services.application_withdraw(actor=request.auth, application=application,
                                         reason=payload.reason)


class ResubmitIn(InputSchema):
    facts: dict[str, Any] | None = None
    reason: str | None = Field(None, max_length=2000)


class ResubmitOut(Schema):
    id: int
    status: str
    amount: Decimal
    calculation: list[str]
    case_id: int | None
    submitted_at: dt.datetime | None


@router.post("/applications/{application_id}/resubmit",
             response={200: ResubmitOut, **WRITE_ERRORS},
             summary="补充材料后重新提交（按当前流程版本重新审批）")
def application_resubmit(request, application_id: int, payload: ResubmitIn):
    application = selectors.application_get_for_user(user=request.auth, pk=application_id)
    return services.application_resubmit(actor=request.auth, application=application,
                                         facts=payload.facts, reason=payload.reason)
