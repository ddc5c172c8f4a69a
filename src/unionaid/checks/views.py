"""The auditor's checks pages under /checks/: the checks with their counts, a check's findings,
a finding with its evidence and explanation, samples and their reviews, and the search that
lands on the payment trace. Views parse input, call one service or selector, and render."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from unionaid.checks import registry, selectors, services
from unionaid.checks.forms import ExplainForm, ReopenForm, ReviewForm, SampleForm
from unionaid.checks.models import FindingStatus
from unionaid.core.access import access_for
from unionaid.core.errors import NotFound, ServiceError
from unionaid.core.http import apply_service_error, or_404, perm_required
from unionaid.funds import selectors as funds_selectors
from unionaid.funds.forms import TraceFindForm
from unionaid.org.selectors import units_visible_to

VIEW = "checks.view"


def _may_review(request) -> bool:
    return access_for(request.user).has_perm("checks.review")


@perm_required(VIEW)
def check_list(request):
    return render(request, "checks/check_list.html", {
        "summaries": selectors.checks_overview(user=request.user),
        "may_review": _may_review(request),
    })


@perm_required(VIEW)
@require_POST
def check_run(request):
    """Run every check (or the one posted as ``key``) over the user's scope now."""
    key = request.POST.get("key") or None
    try:
        results = services.checks_run(actor=request.user, keys=[key] if key else None)
    except NotFound:
        raise Http404() from None
    messages.success(request, _("核查完成：发现疑点 %(found)d 条，新增 %(new)d 条，消除 %(resolved)d 条。") % {
        "found": sum(r.found for r in results), "new": sum(r.new for r in results),
        "resolved": sum(r.resolved for r in results)})
    return redirect("checks:check-detail", key=key) if key else redirect("checks:check-list")


@perm_required(VIEW)
def check_detail(request, key: str):
    check = or_404(selectors.check_for, key=key)
    status = request.GET.get("status", FindingStatus.OPEN)
    if status not in FindingStatus.values and status != "all":
        status = FindingStatus.OPEN
    findings = selectors.check_findings(user=request.user, key=key,
                                        status="" if status == "all" else status)
    shown = list(findings[: selectors.FINDINGS_SHOWN + 1])
    return render(request, "checks/check_detail.html", {
        "check": check, "status": status, "statuses": FindingStatus.choices,
        "findings": shown[: selectors.FINDINGS_SHOWN],
        "more": len(shown) > selectors.FINDINGS_SHOWN, "shown_max": selectors.FINDINGS_SHOWN,
    })


@perm_required(VIEW)
def finding_detail(request, pk: int):
    finding = or_404(selectors.finding_get_for_user, user=request.user, pk=pk)
    return _finding_page(request, finding, ExplainForm(), ReopenForm())


def _finding_page(request, finding, explain_form, reopen_form, status=200):
    return render(request, "checks/finding_detail.html", {
        "finding": finding, "check": registry.check_or_none(finding.check_key),
        "explain_form": explain_form, "reopen_form": reopen_form,
        "may_review": _may_review(request),
    }, status=status)


@perm_required(VIEW)
@require_POST
def finding_explain(request, pk: int):
    finding = or_404(selectors.finding_get_for_user, user=request.user, pk=pk)
    form = ExplainForm(request.POST)
    if form.is_valid():
        try:
            services.finding_explain(actor=request.user, finding=finding,
                                     text=form.cleaned_data["text"])
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已记录说明。"))
            return redirect("checks:finding-detail", pk=finding.pk)
    return _finding_page(request, finding, form, ReopenForm(), status=422)


@perm_required(VIEW)
@require_POST
def finding_reopen(request, pk: int):
    finding = or_404(selectors.finding_get_for_user, user=request.user, pk=pk)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            services.finding_reopen(actor=request.user, finding=finding,
                                    text=form.cleaned_data["text"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已重新打开。"))
    return redirect("checks:finding-detail", pk=finding.pk)


# -- samples ----------------------------------------------------------------------------------

def _sample_form(request, data=None):
    units = units_visible_to(user=request.user, perm="checks.review")
    return SampleForm(data, units=units)


@perm_required(VIEW)
@require_http_methods(["GET", "POST"])
def sample_list(request):
    form = _sample_form(request, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sample = services.sample_draw(
                actor=request.user, population=data["population"], rule=data["rule"],
                unit=data["unit"], seed=data["seed"],
                params={k: data[k] for k in ("percent", "min_amount", "item", "date_from",
                                             "date_to") if data.get(k) not in (None, "")})
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已抽取样本。"))
            return redirect("checks:sample-detail", pk=sample.pk)
    return render(request, "checks/sample_list.html", {
        "samples": selectors.samples_visible_to(user=request.user)[:100],
        "form": form, "may_review": _may_review(request),
    }, status=422 if form.is_bound and form.errors else 200)


@perm_required(VIEW)
def sample_detail(request, pk: int):
    sample = or_404(selectors.sample_get_for_user, user=request.user, pk=pk)
    return render(request, "checks/sample_detail.html", {
        "sample": sample, "cases": selectors.sample_cases(user=request.user, sample=sample),
        "population": registry.population_or_none(sample.population),
        "rule_in_words": selectors.sample_rule_in_words(sample),
        "review_form": ReviewForm(), "may_review": _may_review(request),
    })


@perm_required(VIEW)
@require_POST
def case_review(request, pk: int):
    case = or_404(selectors.sampled_case_get_for_user, user=request.user, pk=pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.sampled_case_review(actor=request.user, case=case, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已记录审查结果。"))
    else:
        messages.error(request, _("请选择审查结果。"))
    return redirect("checks:sample-detail", pk=case.sample_id)


# -- search -----------------------------------------------------------------------------------

@perm_required(VIEW)
@require_http_methods(["GET", "POST"])
def search(request):
    """Payments by worker name, ID number, batch and date (POST only: an ID number never
    reaches a URL), each with its open findings; a payment links to its trace. The search
    itself is the funds trace search (``trace.view`` scope, journaled, the number masked)."""
    if not access_for(request.user).has_perm("trace.view"):
        raise Http404()
    form = TraceFindForm(request.POST if request.method == "POST" else None)
    found = flagged = None
    if form.is_valid():
        found = funds_selectors.trace_search(user=request.user, **form.cleaned_data)
        flagged = selectors.findings_by_payment(user=request.user, payments=found)
    rows = [(d, flagged.get(d.pk, [])) for d in found[: funds_selectors.TRACE_FOUND_MAX]] \
        if found is not None else None
    if form.is_bound:  # the page shows the criteria again, never the ID number
        form = TraceFindForm({k: v for k, v in request.POST.items() if k != "id_number"})
    return render(request, "checks/search.html", {
        "form": form, "rows": rows,
        "more": found is not None and len(found) > funds_selectors.TRACE_FOUND_MAX,
        "found_max": funds_selectors.TRACE_FOUND_MAX,
    })
