"""Pages for a match run (live progress, its matches) and the review queue (confirm/reject).
Matches are listed only for members in the viewer's scope."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from unionaid.accounts.access import access_for
from unionaid.core.errors import ServiceError
from unionaid.core.http import cheap_page, or_404
from unionaid.matching import selectors, services
from unionaid.matching.forms import DecideForm
from unionaid.matching.models import MatchStatus
from unionaid.matching.selectors import MANAGE, REVIEW

PAGE = 50


def _run_context(request, run) -> dict:
    manage = access_for(request.user).covers_unit(MANAGE, run.dataset.org_unit)
    return {"run": run, "can_cancel": manage and not run.is_finished,
            "can_retry": manage and run.status in ("failed", "cancelled")}


@login_required
@require_GET
def run_detail(request, pk: int):
    run = or_404(selectors.run_get_for_user, user=request.user, pk=pk)
    status = request.GET.get("status") or None
    if status not in (None, *MatchStatus.values):
        status = None
    page = cheap_page(selectors.matches_visible_to(user=request.user, run=run, status=status),
                      request.GET.get("page"), size=PAGE)
    return render(request, "matching/run_detail.html", {
        **_run_context(request, run), "page": page, "status": status,
        "statuses": MatchStatus.choices, "page_base": f"status={status}" if status else "",
    })


@login_required
@require_GET
def run_status(request, pk: int):
    run = or_404(selectors.run_get_for_user, user=request.user, pk=pk)
    return render(request, "matching/_run_status.html", _run_context(request, run))


@login_required
@require_POST
def run_cancel(request, pk: int):
    run = or_404(selectors.run_get_for_user, user=request.user, pk=pk)
    try:
        services.match_run_cancel(actor=request.user, run=run)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("matching:run-detail", pk=run.pk)


@login_required
@require_POST
def run_retry(request, pk: int):
    run = or_404(selectors.run_get_for_user, user=request.user, pk=pk)
    try:
        services.match_run_retry(actor=request.user, run=run)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("matching:run-detail", pk=run.pk)


@login_required
@require_GET
def review_queue(request):
    if not access_for(request.user).has_perm(REVIEW):
        raise Http404()
    dataset = None
    if request.GET.get("dataset"):
        dataset = or_404(selectors.dataset_get_for_user, user=request.user,
                         pk=request.GET["dataset"])
    page = cheap_page(selectors.review_queue(user=request.user, dataset=dataset),
                      request.GET.get("page"), size=PAGE)
    return render(request, "matching/review_queue.html", {
        "page": page, "dataset": dataset,
        "page_base": f"dataset={dataset.pk}" if dataset is not None else ""})


@login_required
@require_POST
def match_decide(request, pk: int):
    """Confirm or reject one match. From htmx: the row's new fragment; otherwise back."""
    match = or_404(selectors.match_get_for_user, user=request.user, pk=pk, perm=REVIEW)
    form = DecideForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _("请选择复核结论。")
    else:
        try:
            match = services.match_decide(actor=request.user, match=match,
                                          decision=form.cleaned_data["decision"])
        except ServiceError as exc:
            error = exc.message
    if request.headers.get("HX-Request"):
        return render(request, "matching/_match_row.html",
                      {"match": match, "error": error, "reviewing": True},
                      status=400 if error else 200)
    if error:
        messages.error(request, error)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    return redirect(next_url or "matching:review")
