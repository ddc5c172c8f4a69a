"""/api/v1/matching: sources, datasets (upload, check, import, cancel, purge), runs (start,
progress, cancel, retry), matches and the review queue.

Reading needs ``matching.view``; datasets and runs are seen in the caller's scope of the
dataset's unit, matches and review items only for members in the caller's scope (out of scope
= 404 ``not_found``). Uploading, running and purging need ``matching.manage`` over the dataset's
unit, deciding ``matching.review`` over the member's unit. ID numbers and phones of external
records are returned masked.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from unionaid.accounts.access import access_for
from unionaid.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset_page, next_link
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema, QuerySchema
from unionaid.core.errors import NotFound
from unionaid.matching import selectors, services
from unionaid.matching.leads.api import router as leads_router
from unionaid.matching.models import Decision, MatchStatus, SourceKind
from unionaid.matching.selectors import CONFIG, MANAGE, REVIEW, VIEW
from unionaid.org.selectors import unit_get_for_user

router = Router(tags=["matching"])


def _no_store(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"


def _require(user, perm: str = VIEW) -> None:
    if not access_for(user).has_perm(perm):
        raise NotFound()


def _page(request, qs, filters) -> dict:
    page = keyset_page(qs, cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- GET /sources --------------------------------------------------------------------------------

class SourceOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    org_unit_id: int
    retention_days: int
    column_mapping: dict[str, str]
    is_active: bool


@router.get("/sources", response={200: list[SourceOut], **READ_ERRORS},
            summary="数据来源（本单位及上级单位的）")
def source_list(request):
    _require(request.auth)
    return list(selectors.sources_visible_to(user=request.auth))


class SourceIn(InputSchema):
    kind: SourceKind
    name: str = Field(..., min_length=1, max_length=100)
    org_unit_id: int
    retention_days: int = Field(..., ge=1, le=3650)
    column_mapping: dict[str, str] = Field(default_factory=dict,
                                           description="表头 → 字段（name、id_number …）")
    is_active: bool = True


def _source_save(request, payload: SourceIn, source=None):
    unit = unit_get_for_user(user=request.auth, pk=payload.org_unit_id, perm=CONFIG)
    return services.source_save(
        actor=request.auth, source=source, org_unit=unit, kind=payload.kind, name=payload.name,
        retention_days=payload.retention_days, column_mapping=payload.column_mapping,
        is_active=payload.is_active)


@router.post("/sources", response={201: SourceOut, **WRITE_ERRORS},
             summary="新增数据来源（须有该单位的 matching.config）")
def source_create(request, payload: SourceIn):
    return Status(201, _source_save(request, payload))


@router.put("/sources/{source_id}", response={200: SourceOut, **WRITE_ERRORS},
            summary="修改数据来源（保留天数、列名对应、启用）")
def source_update(request, source_id: int, payload: SourceIn):
    source = selectors.source_get_for_user(user=request.auth, pk=source_id, perm=CONFIG)
    return _source_save(request, payload, source)


# -- datasets ------------------------------------------------------------------------------------

class DatasetListQuery(QuerySchema):
    source_id: int | None = None
    status: str | None = None
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class DatasetItemOut(Schema):
    id: int
    title: str
    source_id: int
    source_name: str = Field(..., alias="source.name")
    org_unit_id: int
    org_unit_name: str = Field(..., alias="org_unit.name")
    status: str
    row_count: int
    problem_count: int
    current_run_id: int | None
    created_at: dt.datetime
    purge_after: dt.datetime | None


class DatasetListOut(Schema):
    items: list[DatasetItemOut]
    next_cursor: str | None
    next: str | None


@router.get("/datasets", response={200: DatasetListOut, **READ_ERRORS, 422: ErrorOut},
            summary="外部数据（所属单位在管辖范围内的），新的在前")
def dataset_list(request, response: HttpResponse, filters: Query[DatasetListQuery]):
    user = request.auth
    _require(user)
    source = (selectors.source_get_for_user(user=user, pk=filters.source_id)
              if filters.source_id is not None else None)
    _no_store(response)
    return _page(request, selectors.datasets_visible_to(user=user, source=source,
                                                        status=filters.status), filters)


class ProblemOut(Schema):
    row: int
    sheet: str = ""
    column: str
    message: str


class DatasetOut(Schema):
    id: int
    title: str
    file_name: str
    source_id: int
    org_unit_id: int
    status: str
    status_label: str
    checked: bool
    stage: str
    done: int
    total: int
    percent: int
    row_count: int
    problem_count: int
    problems: list[ProblemOut]
    columns: dict[str, str]
    message: str
    current_run_id: int | None
    uploaded_by_id: int
    created_at: dt.datetime
    loaded_at: dt.datetime | None
    purge_after: dt.datetime | None
    purged_at: dt.datetime | None


@router.get("/datasets/{dataset_id}", response={200: DatasetOut, **READ_ERRORS},
            summary="一批外部数据：状态、进度、逐行问题")
def dataset_detail(request, response: HttpResponse, dataset_id: int):
    _no_store(response)
    return selectors.dataset_get_for_user(user=request.auth, pk=dataset_id)


@router.post("/datasets", response={202: DatasetOut, **WRITE_ERRORS},
             summary="上传外部名单（multipart：file、source_id、org_unit_id、title；"
                     "dry_run=true 只检查、逐行列出问题，不写入）。后台导入，轮询详情看进度。")
def dataset_upload(request, file: File[UploadedFile], source_id: Form[int],
                   org_unit_id: Form[int], title: Form[str] = "", dry_run: Form[bool] = True):
    user = request.auth
    _require(user, MANAGE)
    source = selectors.source_get_for_user(user=user, pk=source_id)
    unit = unit_get_for_user(user=user, pk=org_unit_id, perm=MANAGE)
    dataset = services.dataset_upload(actor=user, source=source, org_unit=unit, upload=file,
                                      title=title, dry_run=dry_run)
    dataset.refresh_from_db()
    return Status(202, dataset)


def _dataset_action(request, dataset_id: int, action):
    dataset = selectors.dataset_get_for_user(user=request.auth, pk=dataset_id)
    action(actor=request.auth, dataset=dataset)
    dataset.refresh_from_db()
    return dataset


@router.post("/datasets/{dataset_id}/confirm", response={202: DatasetOut, **WRITE_ERRORS},
             summary="导入已检查的文件（无需再次上传）")
def dataset_confirm(request, dataset_id: int):
    return Status(202, _dataset_action(request, dataset_id, services.dataset_confirm))


@router.post("/datasets/{dataset_id}/retry", response={202: DatasetOut, **WRITE_ERRORS},
             summary="重试因系统错误失败的导入（文件仍保留时；否则 409 not_retryable，请重新上传）")
def dataset_retry(request, dataset_id: int):
    return Status(202, _dataset_action(request, dataset_id, services.dataset_retry))


@router.post("/datasets/{dataset_id}/cancel", response={200: DatasetOut, **WRITE_ERRORS},
             summary="取消尚未导入的上传，或请求停止正在进行的导入")
def dataset_cancel(request, dataset_id: int):
    return _dataset_action(request, dataset_id, services.dataset_cancel)


@router.post("/datasets/{dataset_id}/purge", response={200: DatasetOut, **WRITE_ERRORS},
             summary="立即清除这批数据的记录（比对结论保留），记入审计")
def dataset_purge(request, dataset_id: int):
    return _dataset_action(request, dataset_id, services.dataset_purge)


# -- runs ----------------------------------------------------------------------------------------

class RunOut(Schema):
    id: int
    dataset_id: int
    status: str
    status_label: str
    stage: str
    stage_label: str
    done: int
    total: int
    percent: int
    counts: dict[str, int]
    error: str
    attempts: int
    cancel_requested: bool
    started_by_id: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


@router.get("/datasets/{dataset_id}/runs", response={200: list[RunOut], **READ_ERRORS},
            summary="这批数据的比对任务（最近 50 个）")
def dataset_runs(request, dataset_id: int):
    dataset = selectors.dataset_get_for_user(user=request.auth, pk=dataset_id)
    return list(selectors.runs_of(dataset=dataset)[:50])


@router.post("/datasets/{dataset_id}/runs", response={202: RunOut, **WRITE_ERRORS},
             summary="与职工名册比对（后台运行；只比对发起人管辖范围内、该单位下的职工）")
def run_start(request, dataset_id: int):
    dataset = selectors.dataset_get_for_user(user=request.auth, pk=dataset_id)
    run = services.match_run_start(actor=request.auth, dataset=dataset)
    run.refresh_from_db()
    return Status(202, run)


@router.get("/runs/{run_id}", response={200: RunOut, **READ_ERRORS},
            summary="比对任务：状态、阶段与进度、统计")
def run_detail(request, response: HttpResponse, run_id: int):
    _no_store(response)
    return selectors.run_get_for_user(user=request.auth, pk=run_id)


@router.post("/runs/{run_id}/cancel", response={200: RunOut, **WRITE_ERRORS},
             summary="取消比对（排队中的立即取消；进行中的在下一步停止，不写入结果）")
def run_cancel(request, run_id: int):
    run = selectors.run_get_for_user(user=request.auth, pk=run_id)
    return services.match_run_cancel(actor=request.auth, run=run)


@router.post("/runs/{run_id}/retry", response={202: RunOut, **WRITE_ERRORS},
             summary="重试失败或已取消的比对")
def run_retry(request, run_id: int):
    run = selectors.run_get_for_user(user=request.auth, pk=run_id)
    return Status(202, services.match_run_retry(actor=request.auth, run=run))


# -- matches and review --------------------------------------------------------------------------

class RecordOut(Schema):
    id: int
    row_no: int
    sheet: str
    sheet_row: int | None
    name: str
    id_number_masked: str
    birth_date: dt.date | None
    sex: str
    phone_masked: str
    unit_name: str


class MatchOut(Schema):
    id: int
    run_id: int
    dataset_id: int
    member_id: int
    member_name: str = Field(..., alias="member.name")
    member_id_number_masked: str = Field(..., alias="member.id_number_masked")
    org_unit_name: str = Field(..., alias="member.org_unit.name")
    record: RecordOut | None
    score: float
    method: str
    reason: str
    status: str
    decided_by_id: int | None
    decided_at: dt.datetime | None


class MatchListQuery(QuerySchema):
    status: MatchStatus | None = None
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class MatchListOut(Schema):
    items: list[MatchOut]
    next_cursor: str | None
    next: str | None


@router.get("/runs/{run_id}/matches", response={200: MatchListOut, **READ_ERRORS, 422: ErrorOut},
            summary="比对任务的结果（只含管辖范围内的职工），得分高的在前")
def run_matches(request, response: HttpResponse, run_id: int, filters: Query[MatchListQuery]):
    run = selectors.run_get_for_user(user=request.auth, pk=run_id)
    _no_store(response)
    return _page(request, selectors.matches_visible_to(user=request.auth, run=run,
                                                       status=filters.status), filters)


class ReviewQuery(QuerySchema):
    dataset_id: int | None = None
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


@router.get("/review", response={200: MatchListOut, **READ_ERRORS, 422: ErrorOut},
            summary="待复核（各批数据当前比对中不能确定的结果，只含可复核的职工）")
def review_list(request, response: HttpResponse, filters: Query[ReviewQuery]):
    user = request.auth
    _require(user, REVIEW)
    dataset = (selectors.dataset_get_for_user(user=user, pk=filters.dataset_id)
               if filters.dataset_id is not None else None)
    _no_store(response)
    return _page(request, selectors.review_queue(user=user, dataset=dataset), filters)


@router.get("/matches/{match_id}", response={200: MatchOut, **READ_ERRORS},
            summary="一条比对结果及其依据")
def match_detail(request, response: HttpResponse, match_id: int):
    _no_store(response)
    return selectors.match_get_for_user(user=request.auth, pk=match_id)


class DecisionIn(InputSchema):
    decision: Decision


class DecisionOut(Schema):
    id: int
    status: str
    decided_by_id: int | None
    decided_at: dt.datetime | None


@router.post("/matches/{match_id}/decision", response={200: DecisionOut, **WRITE_ERRORS},
             summary="复核：confirmed（是同一人）或 rejected（不是）。结论记住，同一对不再询问；"
                     "已作相反结论的为 409 already_decided")
def match_decision(request, match_id: int, payload: DecisionIn):
    match = selectors.match_get_for_user(user=request.auth, pk=match_id, perm=REVIEW)
    return services.match_decide(actor=request.auth, match=match, decision=payload.decision)


# -- leads (matching.leads.api) --------------------------------------------------------------------
router.add_router("/leads", leads_router)
