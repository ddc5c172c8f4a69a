"""Pages for sources and datasets: the list with its upload form, a dataset's page with its
live progress (htmx polling of a small fragment), problems by row and runs. Thin: parse input,
call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from unionaid.accounts.access import access_for
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404
from unionaid.matching import selectors, services
from unionaid.matching.forms import SourceForm, UploadForm
from unionaid.matching.models import DatasetStatus, MatchRun
from unionaid.matching.selectors import CONFIG, MANAGE, VIEW

RECENT = 50


def _require(user, perm: str) -> None:
    if not access_for(user).has_perm(perm):
        raise Http404()


# -- sources ---------------------------------------------------------------------------------------

@login_required
@require_GET
def source_list(request):
    _require(request.user, VIEW)
    return render(request, "matching/source_list.html", {
        "sources": selectors.sources_visible_to(user=request.user),
        "can_config": access_for(request.user).has_perm(CONFIG),
    })


@login_required
@require_http_methods(["GET", "POST"])
def source_edit(request, pk: int | None = None):
    _require(request.user, CONFIG)
    source = (or_404(selectors.source_get_for_user, user=request.user, pk=pk, perm=CONFIG)
              if pk is not None else None)
    initial = {}
    if source is not None:
        initial = {"kind": source.kind, "name": source.name, "org_unit": source.org_unit,
                   "retention_days": source.retention_days, "is_active": source.is_active,
                   "column_mapping": "\n".join(f"{h}={f}" for h, f in
                                               source.column_mapping.items())}
    form = SourceForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.source_save(actor=request.user, source=source, **form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("数据来源已保存。"))
            return redirect("matching:source-list")
    return render(request, "matching/source_form.html", {"form": form, "source": source},
                  status=400 if form.errors else 200)


# -- datasets --------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def dataset_list(request):
    """The datasets of the user's units, and (with ``matching.manage``) the upload form."""
    user = request.user
    _require(user, VIEW)
    can_upload = access_for(user).has_perm(MANAGE)
    form = None
    if can_upload:
        form = (UploadForm(request.POST, request.FILES, user=user)
                if request.method == "POST" else UploadForm(user=user))
    if request.method == "POST":
        if form is None:
            raise Http404()
        if form.is_valid():
            data = form.cleaned_data
            try:
                dataset = services.dataset_upload(
                    actor=user, source=data["source"], org_unit=data["org_unit"],
                    upload=data["file"], title=data["title"], dry_run=data["mode"] == "check")
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                return redirect("matching:dataset-detail", pk=dataset.pk)
    page = cheap_page(selectors.datasets_visible_to(user=user), request.GET.get("page"),
                      size=RECENT)
    return render(request, "matching/dataset_list.html", {
        "form": form, "page": page, "max_mb": services.max_upload_bytes() >> 20,
    }, status=400 if form is not None and form.errors else 200)


def _dataset_context(request, dataset) -> dict:
    access = access_for(request.user)
    manage = access.covers_unit(MANAGE, dataset.org_unit)
    return {
        "dataset": dataset,
        "runs": selectors.runs_of(dataset=dataset)[:10],
        "active_run": selectors.runs_of(dataset=dataset).exclude(
            status__in=MatchRun.FINISHED).first() if dataset.is_busy else None,
        "more_problems": max(dataset.problem_count - len(dataset.problems), 0),
        "can_manage": manage,
        "can_confirm": (manage and dataset.status == DatasetStatus.UPLOADED and dataset.checked
                        and bool(dataset.stored_path)),
        "can_run": manage and dataset.status in (DatasetStatus.LOADED, DatasetStatus.MATCHED),
        "can_retry": (manage and dataset.status == DatasetStatus.FAILED
                      and bool(dataset.stored_path)),
        "can_cancel": manage and dataset.status in (DatasetStatus.UPLOADED,
                                                    DatasetStatus.LOADING),
        "can_purge": manage and dataset.status not in (DatasetStatus.PURGED, *dataset.ACTIVE),
        "review_count": selectors.review_queue(user=request.user, dataset=dataset).count(),
    }


@login_required
@require_GET
def dataset_detail(request, pk: int):
    dataset = or_404(selectors.dataset_get_for_user, user=request.user, pk=pk)
    return render(request, "matching/dataset_detail.html", _dataset_context(request, dataset))


@login_required
@require_GET
def dataset_status(request, pk: int):
    """The htmx fragment polled every second while the dataset is being read or matched."""
    dataset = or_404(selectors.dataset_get_for_user, user=request.user, pk=pk)
    return render(request, "matching/_dataset_status.html", _dataset_context(request, dataset))


def _dataset_action(request, pk: int, action, done_message: str):
    """Run ``action`` on the dataset; its result, or None after showing the service's error."""
    dataset = or_404(selectors.dataset_get_for_user, user=request.user, pk=pk)
    try:
        result = action(actor=request.user, dataset=dataset)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return None
    messages.success(request, done_message)
    return result


@login_required
@require_POST
def dataset_confirm(request, pk: int):
    _dataset_action(request, pk, services.dataset_confirm, _("已开始导入。"))
    return redirect("matching:dataset-detail", pk=pk)


@login_required
@require_POST
def dataset_retry(request, pk: int):
    _dataset_action(request, pk, services.dataset_retry, _("已重新开始导入。"))
    return redirect("matching:dataset-detail", pk=pk)


@login_required
@require_POST
def dataset_cancel(request, pk: int):
    _dataset_action(request, pk, services.dataset_cancel, _("已取消。"))
    return redirect("matching:dataset-detail", pk=pk)


@login_required
@require_POST
def dataset_purge(request, pk: int):
    _dataset_action(request, pk, services.dataset_purge, _("记录已清除。"))
    return redirect("matching:dataset-detail", pk=pk)


@login_required
@require_POST
def run_start(request, pk: int):
    run = _dataset_action(request, pk, services.match_run_start, _("比对已开始。"))
    if run is None:
        return redirect("matching:dataset-detail", pk=pk)
    return redirect("matching:run-detail", pk=run.pk)
