"""Pages for roster import (upload, job progress, errors) and export (download). Thin: parse
input, call one service or selector from members.tasks / members.exporting, render."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from unionaid.accounts.access import access_for
from unionaid.core.errors import NotFound, ServiceError
from unionaid.core.http import apply_service_error, or_404
from unionaid.core.masking import looks_like_identifier
from unionaid.members import exporting, tasks
from unionaid.members.importing import PERM as IMPORT_PERM
from unionaid.members.importing import read_limits
from unionaid.members.roster_files import HEADERS
from unionaid.org.selectors import unit_get_for_user

RECENT_JOBS = 20


class UploadForm(forms.Form):
    MODES = (("check", gettext_lazy("只检查，不导入")), ("import", gettext_lazy("检查并导入")))

    file = forms.FileField(
        label=gettext_lazy("名册文件"),
        help_text=gettext_lazy("Excel（.xlsx）或 CSV（.csv，UTF-8 或 GBK 编码）；第一行为列名。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    mode = forms.ChoiceField(label=gettext_lazy("方式"), choices=MODES, initial="check",
                             widget=forms.RadioSelect)


def _require_import(user) -> None:
    if not access_for(user).has_perm(IMPORT_PERM):
        raise Http404()


@login_required
@require_http_methods(["GET", "POST"])
def imports(request):
    _require_import(request.user)
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and form.is_valid():
        try:
            job = tasks.import_job_create(
                actor=request.user, upload=form.cleaned_data["file"],
                dry_run=form.cleaned_data["mode"] == "check",
            )
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            return redirect("members_io:job", pk=job.pk)
    status = 400 if form.errors else 200
    limits = read_limits()
    jobs = tasks.import_jobs_visible_to(user=request.user)[:RECENT_JOBS]
    return render(request, "members/io_imports.html", {
        "form": form, "jobs": jobs, "headers": HEADERS,
        "max_mb": min(tasks.max_upload_bytes(), limits.max_bytes) >> 20,
        "max_rows": f"{limits.max_rows:,}",
    }, status=status)


@login_required
@require_GET
def job_detail(request, pk: int):
    job = or_404(tasks.import_job_get_for_user, user=request.user, pk=pk)
    return render(request, "members/io_job.html", _job_context(request, job))


@login_required
@require_GET
def job_status(request, pk: int):
    """The htmx fragment polled every second while the job runs."""
    job = or_404(tasks.import_job_get_for_user, user=request.user, pk=pk)
    return render(request, "members/io_job_status.html", _job_context(request, job))


def _job_context(request, job) -> dict:
    path = tasks.job_file(job)
    return {
        "job": job,
        "more_errors": max(job.error_count - len(job.errors), 0),
        "determinate": bool(job.total and (job.stage != "writing" or job.processed)),
        "can_confirm": (job.dry_run and job.status == "done" and not job.error_count
                        and path is not None and path.exists()
                        and access_for(request.user).has_perm(IMPORT_PERM)),
    }


@login_required
@require_POST
def job_confirm(request, pk: int):
    job = or_404(tasks.import_job_get_for_user, user=request.user, pk=pk)
    try:
        new = tasks.import_job_confirm(actor=request.user, job=job)
    except ServiceError as exc:
        context = _job_context(request, job)
        context["error"] = exc.message
        return render(request, "members/io_job.html", context, status=exc.status)
    return redirect("members_io:job", pk=new.pk)


@login_required
@require_http_methods(["GET", "POST"])
def export(request):
    """Download the roster the user may export (q=search, unit=<id>, reveal=1). The page's form
    POSTs; a GET with an ID number or phone in ``q`` is refused so it never reaches a log.
    A POST with background=1 is handed on (307, the POST kept) to the exports engine's start
    page for the roster's kind, which queues a background export and shows its job page."""
    params = request.POST if request.method == "POST" else request.GET
    query = params.get("q", "")[:100]
    if request.method == "GET" and looks_like_identifier(query):
        return render(request, "members/io_error.html",
                      {"message": _("请勿把身份证号或手机号放在网址中，请通过页面表单导出。")},
                      status=400)
    unit = None
    if params.get("unit"):
        unit = or_404(unit_get_for_user, user=request.user, pk=params["unit"],
                      perm=exporting.PERM)
    if request.method == "POST" and params.get("background") == "1":
        return HttpResponseRedirect(reverse("exports:start", args=[exporting.EXPORT_KIND]),
                                    status=307)
    try:
        result = exporting.export_members(
            actor=request.user, unit=unit, query=query, reveal=params.get("reveal") == "1",
        )
    except NotFound:
        raise Http404() from None
    except ServiceError as exc:
        return render(request, "members/io_error.html", {"message": exc.message},
                      status=exc.status)
    handle = result.path.open("rb")
    result.path.unlink()  # the open handle keeps the data until the response is sent
    response = FileResponse(handle, as_attachment=True, filename=result.download_name)
    response["Cache-Control"] = "no-store"
    return response
