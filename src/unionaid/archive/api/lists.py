"""/api/v1/archive: watch lists (/watch), difficult units (/difficult-units), re-checks due
(/watch/recheck-due) and the ledgers (/ledgers/export, /ledgers/import).

Reading needs ``archive.view`` (the visit ledger ``visits.view``) and sees the caller's scope;
changing needs ``archive.manage`` over the member's or unit's unit. Out of scope = 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import FileResponse, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from unionaid.accounts.access import access_for
from unionaid.archive.ledgers import archive_import
from unionaid.archive.ledgers.archive_ledger import export_archive_ledger
from unionaid.archive.ledgers.visit_ledger import export_visit_ledger
from unionaid.archive.models import WatchKind
from unionaid.archive.selectors import lists as selectors
from unionaid.archive.services import watch as services
from unionaid.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset_page, next_link
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema, QuerySchema
from unionaid.core.errors import NotFound
from unionaid.members.selectors import member_get_for_user
from unionaid.org.selectors import unit_get_for_user

router = Router(tags=["archive"])
VIEW, MANAGE = "archive.view", "archive.manage"


def _no_store(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"


def _require_view(user) -> None:
    if not access_for(user).has_perm(VIEW):
        raise NotFound()


# -- GET /watch ----------------------------------------------------------------------------------

class WatchListQuery(QuerySchema):
    kind: WatchKind | None = None
    unit_id: int | None = Field(None, description="只看该单位及其下级")
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class WatchEntryOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    source: str
    source_label: str = Field(..., alias="get_source_display")
    member_id: int
    member_name: str = Field(..., alias="member.name")
    id_number_masked: str = Field(..., alias="member.id_number_masked")
    org_unit_id: int
    org_unit_name: str = Field(..., alias="org_unit.name")
    reason: str
    added_at: dt.datetime
    removed_at: dt.datetime | None


class WatchListOut(Schema):
    items: list[WatchEntryOut]
    next_cursor: str | None
    next: str | None


@router.get("/watch", response={200: WatchListOut, **READ_ERRORS, 422: ErrorOut},
            summary="动态管理清单（按清单、单位筛选；只含管辖范围内的职工）")
def watch_list(request, response: HttpResponse, filters: Query[WatchListQuery]):
    user = request.auth
    _require_view(user)
    unit = (unit_get_for_user(user=user, pk=filters.unit_id, perm=VIEW)
            if filters.unit_id is not None else None)
    qs = selectors.watch_entries_visible_to(user=user, kind=filters.kind, unit=unit)
    page = keyset_page(qs, cursor=filters.cursor, limit=filters.limit)
    _no_store(response)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- GET /watch/counts ---------------------------------------------------------------------------

class WatchCountsOut(Schema):
    counts: dict[str, int] = Field(..., description="清单 → 在列人数")


@router.get("/watch/counts", response={200: WatchCountsOut, **READ_ERRORS},
            summary="各清单人数（管辖范围内）")
def watch_counts(request, unit_id: int | None = None):
    user = request.auth
    _require_view(user)
    unit = unit_get_for_user(user=user, pk=unit_id, perm=VIEW) if unit_id is not None else None
    return {"counts": selectors.watch_counts(user=user, unit=unit)}


# -- POST /watch ---------------------------------------------------------------------------------

class WatchAddIn(InputSchema):
    member_id: int
    kind: WatchKind
    reason: str = Field(..., min_length=1, max_length=300)


class WatchAddOut(Schema):
    id: int
    kind: str
    source: str
    member_id: int
    org_unit_id: int
    reason: str
    added_at: dt.datetime


@router.post("/watch", response={201: WatchAddOut, **WRITE_ERRORS},
             summary="手工列入清单（困难劳模、其他重点关注只能手工列入）")
def watch_add(request, payload: WatchAddIn):
    member = member_get_for_user(user=request.auth, pk=payload.member_id, perm=MANAGE)
    entry = services.watch_add(actor=request.auth, member=member, kind=payload.kind,
                               reason=payload.reason)
    return Status(201, entry)


# -- POST /watch/{id}/remove ---------------------------------------------------------------------

class WatchRemoveIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=300)


class WatchRemoveOut(Schema):
    id: int
    kind: str
    removed_at: dt.datetime | None


@router.post("/watch/{entry_id}/remove", response={200: WatchRemoveOut, **WRITE_ERRORS},
             summary="移出清单（须填原因；规则清单仍符合规则时下次刷新会重新列入）")
def watch_remove(request, entry_id: int, payload: WatchRemoveIn):
    entry = selectors.watch_entry_get_for_user(user=request.auth, pk=entry_id)
    return services.watch_remove(actor=request.auth, entry=entry, reason=payload.reason)


# -- POST /watch/refresh -------------------------------------------------------------------------

class WatchListCountsOut(Schema):
    matched: int
    added: int
    removed: int
    moved: int


class WatchRefreshOut(Schema):
    edge: WatchListCountsOut
    gig: WatchListCountsOut
    firm_difficulty: WatchListCountsOut
    edge_skipped_no_line: int = Field(..., description="所在单位无本年度低保标准而未测算的职工数")


@router.post("/watch/refresh", response={200: WatchRefreshOut, **WRITE_ERRORS},
             summary="按规则刷新清单（边缘困难、新就业形态、困难企业职工）；重算全系统，"
                     "须对全部单位有困难职工档案管理权限（否则 403 refresh_not_allowed）")
def watch_refresh(request):
    return services.watchlists_refresh(actor=request.auth)


# -- GET /watch/recheck-due ----------------------------------------------------------------------

class RecheckDueQuery(QuerySchema):
    within_days: int = Field(30, ge=0, le=366)
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class RecheckDueItemOut(Schema):
    id: int
    member_id: int
    member_name: str = Field(..., alias="member.name")
    org_unit_name: str = Field(..., alias="org_unit.name")
    category: str
    category_label: str = Field(..., alias="get_category_display")
    next_recheck_on: dt.date
    last_recheck_on: dt.date | None


class RecheckDueOut(Schema):
    items: list[RecheckDueItemOut]
    next_cursor: str | None
    next: str | None


@router.get("/watch/recheck-due", response={200: RecheckDueOut, **READ_ERRORS, 422: ErrorOut},
            summary="即将或已经到期的年度复核（逾期的在前）")
def recheck_due(request, response: HttpResponse, filters: Query[RecheckDueQuery]):
    user = request.auth
    _require_view(user)
    qs = selectors.records_due_for_recheck(user=user, within_days=filters.within_days)
    page = keyset_page(qs, cursor=filters.cursor, limit=filters.limit)
    _no_store(response)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- /difficult-units ----------------------------------------------------------------------------

class DifficultUnitOut(Schema):
    id: int
    org_unit_id: int
    org_unit_name: str = Field(..., alias="org_unit.name")
    since: dt.date
    note: str


@router.get("/difficult-units", response={200: list[DifficultUnitOut], **READ_ERRORS},
            summary="认定的困难企业（管辖范围内）")
def difficult_unit_list(request):
    _require_view(request.auth)
    return list(selectors.difficult_units_visible_to(user=request.auth))


class DifficultUnitAddIn(InputSchema):
    unit_id: int
    since: dt.date
    note: str = Field("", max_length=200)


class DifficultUnitAddOut(Schema):
    id: int
    org_unit_id: int
    since: dt.date
    note: str


@router.post("/difficult-units", response={201: DifficultUnitAddOut, **WRITE_ERRORS},
             summary="认定困难企业（其职工即列入困难企业职工清单）")
def difficult_unit_add(request, payload: DifficultUnitAddIn):
    unit = unit_get_for_user(user=request.auth, pk=payload.unit_id, perm=MANAGE)
    marked = services.difficult_unit_add(actor=request.auth, unit=unit, since=payload.since,
                                         note=payload.note)
    return Status(201, marked)


class DifficultUnitRemoveIn(InputSchema):
    reason: str = Field("", max_length=200)


@router.post("/difficult-units/{marked_id}/remove", response={204: None, **WRITE_ERRORS},
             summary="取消困难企业认定")
def difficult_unit_remove(request, marked_id: int, payload: DifficultUnitRemoveIn):
    marked = selectors.difficult_unit_get_for_user(user=request.auth, pk=marked_id)
    services.difficult_unit_remove(actor=request.auth, marked=marked, reason=payload.reason)
    return Status(204, None)


# -- GET /ledgers/export -------------------------------------------------------------------------

class LedgerExportQuery(QuerySchema):
    kind: Literal["archive", "visits"]
    start: dt.date
    end: dt.date
    unit_id: int | None = Field(None, description="该单位及其下级；不填为管辖范围内全部")
    reveal: bool = Field(False, description="导出完整身份证号和电话（须有查看权限，记入审计）")


@router.get("/ledgers/export", response={200: None, **READ_ERRORS, 400: ErrorOut, 403: ErrorOut,
                                         422: ErrorOut},
            summary="导出台账 .xlsx（困难职工档案台账 archive / 走访台账 visits）",
            openapi_extra={"responses": {200: {"description": "xlsx 文件", "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}}})
def ledger_export(request, filters: Query[LedgerExportQuery]):
    user = request.auth
    perm = VIEW if filters.kind == "archive" else "visits.view"
    unit = (unit_get_for_user(user=user, pk=filters.unit_id, perm=perm)
            if filters.unit_id is not None else None)
    if filters.kind == "archive":
        result = export_archive_ledger(actor=user, unit=unit, start=filters.start,
                                       end=filters.end, reveal=filters.reveal)
    else:
        result = export_visit_ledger(actor=user, unit=unit, start=filters.start, end=filters.end)
    handle = result.path.open("rb")
    result.path.unlink()
    response = FileResponse(handle, as_attachment=True, filename=result.download_name)
    response["Cache-Control"] = "no-store"
    response["X-Row-Count"] = str(result.count)
    return response


# -- POST /ledgers/import ------------------------------------------------------------------------

class RowErrorOut(Schema):
    row_number: int
    column: str
    message: str


class LedgerImportOut(Schema):
    file_name: str
    dry_run: bool
    ok: bool
    total: int
    created: int
    active: int = Field(..., description="在档（检查时为将导入的条数）")
    exited: int = Field(..., description="已脱困（检查时为将导入的条数）")
    flagged: int = Field(..., description="须复核的条数（类别与测算不符、缺少低保标准等）")
    error_count: int
    errors: list[RowErrorOut]


@router.post("/ledgers/import", response={200: LedgerImportOut, **WRITE_ERRORS},
             summary="导入困难职工档案台账（multipart：file；dry_run=true 只检查）。"
                     "任何一行有错都不导入。")
def ledger_import(request, file: File[UploadedFile], dry_run: Form[bool] = True):
    token, name = archive_import.upload_store(file)
    try:
        result = archive_import.import_archive_ledger(
            actor=request.auth, path=archive_import.upload_path(token), dry_run=dry_run,
            file_name=name)
    finally:
        archive_import.upload_discard(token)
    return {**result.__dict__, "ok": result.ok,
            "errors": [e.as_dict() for e in result.errors]}

