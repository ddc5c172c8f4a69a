"""Pages of background exports: start one of a registered kind, my exports, one job (polled
while it runs), its download. Thin: every read through the selectors, the job through
``export_job_create``, the download through ``export_job_download``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from unionaid.core.errors import NotFound, ServiceError
from unionaid.core.http import or_404
from unionaid.exports import kinds, selectors, services

# What a form may post to start a background export; each kind's ``clean`` reads its own.
START_FIELDS = ("unit", "q", "start", "end")


def describe(job) -> list[tuple[str, str]]:
    """The conditions of an export as (label, value) lines for people: the unit, then what
    the kind says about its own conditions."""
    params = job.params or {}
    lines = [(_("单位"), params.get("unit_name") or _("我管辖的全部单位"))]
    export_kind = kinds.kind_or_none(job.kind)
    if export_kind is not None:
        lines += export_kind.describe(params)
    return lines


@login_required
@require_POST
def start(request, kind: str):
    """Start a background export of a registered ``kind`` from a page's form (``unit``, ``q``,
    ``start``, ``end``, ``reveal=1``) and show its job page. An unregistered kind, or a unit
    out of the user's scope, is not found."""
    if kinds.kind_or_none(kind) is None:
        raise Http404()
    params = {name: request.POST[name] for name in START_FIELDS if request.POST.get(name)}
    params["reveal"] = request.POST.get("reveal") == "1"
    try:
        job = services.export_job_create(actor=request.user, kind=kind, params=params)
    except NotFound:
        raise Http404() from None
    except ServiceError as exc:
        return render(request, "exports/error.html", {"message": exc.message},
                      status=exc.status)
    return redirect("exports:job", pk=job.pk)


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
