"""Pages of background exports: my exports, one job (polled while it runs), its download.
Thin: every read through the selectors, the download through ``export_job_download``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from unionaid.core.errors import NotFound, ServiceError
from unionaid.core.http import or_404
from unionaid.exports import selectors, services
from unionaid.exports.models import ExportKind


def describe(job) -> list[tuple[str, str]]:
    """The conditions of an export as (label, value) lines for people."""
    params = job.params or {}
    lines = [(_("单位"), params.get("unit_name") or _("我管辖的全部单位"))]
    if job.kind == ExportKind.MEMBERS:
        if params.get("q"):
            lines.append((_("姓名"), params["q"]))
    else:
        lines.append((_("期间"), f"{params.get('start', '')} — {params.get('end', '')}"))
    if job.kind != ExportKind.VISITS_LEDGER:
        lines.append((_("身份证号和电话"),
                      _("完整（记入审计）") if params.get("reveal") else _("打码")))
    return lines


def _context(job) -> dict:
    return {"job": job, "conditions": describe(job)}


@login_required
@require_GET
def job_list(request):
    return render(request, "exports/job_list.html",
                  {"jobs": selectors.export_jobs_recent(user=request.user)})


@login_required
@require_GET
def job_detail(request, pk: int):
    job = or_404(selectors.export_job_get_for_user, user=request.user, pk=pk)
    return render(request, "exports/job_detail.html", _context(job))


@login_required
@require_GET
def job_status(request, pk: int):
    """The htmx fragment polled every second while the job runs."""
    job = or_404(selectors.export_job_get_for_user, user=request.user, pk=pk)
    return render(request, "exports/_job_status.html", _context(job))


@login_required
@require_GET
def job_download(request, pk: int):
    job = or_404(selectors.export_job_get_for_user, user=request.user, pk=pk)
    try:
        handle = services.export_job_download(actor=request.user, job=job)
    except NotFound:  # the job's unit is out of the user's scope now: as for anyone's job
        raise Http404() from None
    except ServiceError as exc:
        return render(request, "exports/error.html", {"job": job, "message": exc.message},
                      status=exc.status)
    response = FileResponse(handle, as_attachment=True, filename=job.file_name or "export.xlsx")
    response["Cache-Control"] = "no-store"
    return response
