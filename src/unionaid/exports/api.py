"""/api/v1/exports: background exports of the registered kinds (``exports.kinds``: the member
roster, the archive and visit ledgers …).

``POST /exports`` checks the request as the direct export would and queues it (201); poll
``GET /exports/{id}`` until ``status`` is ``done``, then fetch ``download_url`` (24 hours).
Only the requester sees a job: anyone else gets 404.
"""

from __future__ import annotations

import datetime as dt

from django.http import FileResponse
from django.urls import reverse
from ninja import Field, Router, Schema, Status

from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema
from unionaid.exports import selectors, services
from unionaid.exports.models import ExportJob, ExportJobStatus

router = Router(tags=["exports"])


def _status_url(job: ExportJob) -> str:
    return reverse("api:export_get", args=[job.pk])


def _download_url(job: ExportJob) -> str | None:
    return reverse("api:export_download", args=[job.pk]) if job.is_downloadable else None


# -- POST /exports ------------------------------------------------------------------------------

class ExportCreateIn(InputSchema):
    kind: str = Field(..., max_length=20,
                      description="导出内容（各业务登记的导出类型），如 members 职工名册、"
                                  "archive_ledger 困难职工档案台账、visits_ledger 走访台账、"
                                  "payment_ledger 帮扶资金发放台账、budget_ledger 预算执行台账；"
                                  "未登记的类型返回 unknown_kind")
    unit_id: int | None = Field(None, description="该单位及其下级；不填为管辖范围内全部")
    q: str = Field("", max_length=100, description="职工名册：姓名前缀（不接受身份证号、手机号）")
    start: dt.date | None = Field(None, description="台账：开始日期")
    end: dt.date | None = Field(None, description="台账：结束日期")
    reveal: bool = Field(False, description="导出完整身份证号和电话（须有查看权限，记入审计）")


class ExportCreatedOut(Schema):
    id: int
    kind: str
    status: ExportJobStatus
    status_url: str
    expires_at: dt.datetime


@router.post("", response={201: ExportCreatedOut, **WRITE_ERRORS}, summary="申请后台导出")
def export_create(request, payload: ExportCreateIn):
    params = {"unit": payload.unit_id, "reveal": payload.reveal, "q": payload.q,
              "start": payload.start, "end": payload.end}  # each kind reads its own
    job = services.export_job_create(actor=request.auth, kind=payload.kind, params=params)
    return Status(201, {"id": job.pk, "kind": job.kind, "status": job.status,
                        "status_url": _status_url(job), "expires_at": job.expires_at})


# -- GET /exports -------------------------------------------------------------------------------

class ExportListItemOut(Schema):
    id: int
    kind: str
    status: ExportJobStatus
    row_count: int
    created_at: dt.datetime
    download_url: str | None


@router.get("", response={200: list[ExportListItemOut], 401: ErrorOut},
            summary="我的后台导出（最近 20 个）")
def export_list(request):
    return [{"id": job.pk, "kind": job.kind, "status": job.status, "row_count": job.row_count,
             "created_at": job.created_at, "download_url": _download_url(job)}
            for job in selectors.export_jobs_recent(user=request.auth)]


# -- GET /exports/{id} --------------------------------------------------------------------------

class ExportJobOut(Schema):
    id: int
    kind: str
    status: ExportJobStatus
    row_count: int
    total: int = Field(..., description="总行数；0 表示尚不知道")
    revealed_count: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    expires_at: dt.datetime
    expired: bool
    error_message: str
    download_url: str | None = Field(None, description="完成且未过期时的下载地址")


@router.get("/{job_id}", response={200: ExportJobOut, **READ_ERRORS}, url_name="export_get",
            summary="后台导出的状态")
def export_get(request, job_id: int):
    job = selectors.export_job_get_for_user(user=request.auth, pk=job_id)
    return {"id": job.pk, "kind": job.kind, "status": job.status, "row_count": job.row_count,
            "total": job.total, "revealed_count": job.revealed_count,
            "created_at": job.created_at, "finished_at": job.finished_at,
            "expires_at": job.expires_at, "expired": job.is_expired,
            "error_message": job.error_message, "download_url": _download_url(job)}


# -- GET /exports/{id}/download -----------------------------------------------------------------

@router.get("/{job_id}/download",
            response={200: None, **READ_ERRORS, 403: ErrorOut, 409: ErrorOut, 410: ErrorOut},
            url_name="export_download", summary="下载后台导出的文件（.xlsx，24 小时内）",
            openapi_extra={"responses": {200: {"description": "xlsx 文件", "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}}})
def export_download(request, job_id: int):
    job = selectors.export_job_get_for_user(user=request.auth, pk=job_id)
    handle = services.export_job_download(actor=request.auth, job=job)
    response = FileResponse(handle, as_attachment=True, filename=job.file_name or "export.xlsx")
    response["Cache-Control"] = "no-store"
    return response
