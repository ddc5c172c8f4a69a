"""The finance back office (经费管理): budgets and their ledgers, allocation, reserved
disbursements, batches (export, confirm), release, reversal, re-payment and closing a reversed
payment without re-payment (终止发放); and the auditor's payment trace. Views parse input, call
one service or selector, and render; rules live in services."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from unionaid.accounts.access import access_for
from unionaid.accounts.views import perm_required, second_factor_required
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404
from unionaid.funds import selectors, services
from unionaid.funds.forms import (
    AllocateDownForm,
    AllocateForm,
    BatchConfirmForm,
    BatchCreateForm,
    BudgetFilterForm,
    DisbursementFilterForm,
    FundingSourceForm,
    ReasonForm,
    TraceFindForm,
    TraceSearchForm,
)
from unionaid.funds.models import BatchStatus, DisbursementStatus, FundingSource
from unionaid.org.selectors import level_names

LEFT_OUT_SHOWN = 50  # the batch form lists this many grants left out for want of an account

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def funds_required(view):
    """Second factor passed and some funds permission held; otherwise 404."""

    @wraps(view)
    @second_factor_required
    def wrapper(request, *args, **kwargs):
        access = access_for(request.user)
        if not any(access.has_perm(p) for p in selectors.FUNDS_PERMS):
            raise Http404()
        return view(request, *args, **kwargs)

    return wrapper


def _carried(request) -> str:
    """The current filters, for the pager's links."""
    return urlencode({k: v for k, v in request.GET.items() if k != "page"})


def _can(request, perm: str) -> bool:
    return access_for(request.user).has_perm(perm)


# -- budgets ---------------------------------------------------------------------------------

@funds_required
def budget_list(request):
    form = BudgetFilterForm(request.GET or None)
    budgets = selectors.budgets_visible_to(user=request.user).order_by(
        "-year", "funding_source__code", "org_unit__path")
    if form.is_valid():
        if form.cleaned_data["year"]:
            budgets = budgets.filter(year=form.cleaned_data["year"])
        if form.cleaned_data["funding_source"]:
            budgets = budgets.filter(funding_source=form.cleaned_data["funding_source"])
    page = cheap_page(budgets, request.GET.get("page"))
    return render(request, "funds/budget_list.html", {
        "form": form, "page": page, "can_manage": _can(request, "funds.manage"),
        "page_base": _carried(request),
    })


@perm_required("funds.manage")
@require_http_methods(["GET", "POST"])
def budget_allocate(request):
    units = selectors.units_for_funds(user=request.user)
    form = AllocateForm(request.POST or None, units=units, levels=level_names())
    if request.method == "POST" and form.is_valid():
        try:
            budget = services.budget_allocate(actor=request.user, **form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已拨入 %(amount)s 元。")
                             % {"amount": f"{form.cleaned_data['amount']:,.2f}"})
            return redirect("funds:budget-detail", pk=budget.pk)
    return render(request, "funds/budget_allocate.html", {"form": form})


@funds_required
def budget_detail(request, pk: int):
    budget = or_404(selectors.budget_get_for_user, user=request.user, pk=pk)
    can_manage = access_for(request.user).covers_unit("funds.manage", budget.org_unit)
    down_form = None
    if can_manage:
        down_form = AllocateDownForm(units=selectors.child_units_for(budget=budget),
                                     levels=level_names())
    page = cheap_page(selectors.entries_for_budget(budget=budget), request.GET.get("page"))
    return render(request, "funds/budget_detail.html", {
        "budget": budget, "page": page, "down_form": down_form,
    })


@perm_required("funds.manage")
@require_http_methods(["GET", "POST"])
def budget_allocate_down(request, pk: int):
    budget = or_404(selectors.budget_get_for_user, user=request.user, pk=pk)
    form = AllocateDownForm(request.POST or None, units=selectors.child_units_for(budget=budget),
                            levels=level_names())
    if request.method == "POST" and form.is_valid():
        try:
            child = services.budget_allocate_down(actor=request.user, parent_budget=budget,
                                                  **form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已下拨 %(amount)s 元至“%(unit)s”。")
                             % {"amount": f"{form.cleaned_data['amount']:,.2f}",
                                "unit": child.org_unit.name})
            return redirect("funds:budget-detail", pk=budget.pk)
    return render(request, "funds/budget_allocate_down.html", {"form": form, "budget": budget})


@perm_required("funds.manage")
@require_http_methods(["GET", "POST"])
def source_list(request):
    form = FundingSourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = services.funding_source_save(actor=request.user, **form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已保存经费口径“%(name)s”。") % {"name": source.name})
            return redirect("funds:source-list")
    return render(request, "funds/source_list.html", {
        "form": form, "sources": FundingSource.objects.order_by("code"),
    })


# -- disbursements ---------------------------------------------------------------------------

@funds_required
def disbursement_list(request):
    form = DisbursementFilterForm(request.GET or {"status": DisbursementStatus.RESERVED})
    rows = selectors.disbursements_visible_to(user=request.user).order_by("-pk")
    if form.is_valid():
        if form.cleaned_data["status"]:
            rows = rows.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["funding_source"]:
            rows = rows.filter(budget__funding_source=form.cleaned_data["funding_source"])
    page = cheap_page(rows, request.GET.get("page"))
    return render(request, "funds/disbursement_list.html", {
        "form": form, "page": page, "page_base": _carried(request),
        "can_manage": _can(request, "funds.manage"), "can_confirm": _can(request, "funds.confirm"),
    })


def _disbursement_action(request, pk: int, *, perm: str, service, template: str, done):
    """GET: the form; POST: ``service``, then ``done`` (a message, or a function of what the
    service returned) and back to the list."""
    disbursement = or_404(selectors.disbursement_get_for_user, user=request.user, pk=pk)
    if not access_for(request.user).covers_unit(perm, disbursement.budget.org_unit):
        raise Http404()
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = service(actor=request.user, disbursement=disbursement,
                             reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, done(result) if callable(done) else done)
            return redirect("funds:disbursement-list")
    return render(request, template, {"form": form, "disbursement": disbursement})


@perm_required("funds.manage")
@require_http_methods(["GET", "POST"])
def disbursement_release(request, pk: int):
    return _disbursement_action(request, pk, perm="funds.manage",
                                service=services.disbursement_release,
                                template="funds/disbursement_release.html",
                                done=_("已释放预留，金额已退回可用额度。"))


@perm_required("funds.confirm")
@require_http_methods(["GET", "POST"])
def disbursement_reverse(request, pk: int):
    return _disbursement_action(request, pk, perm="funds.confirm",
                                service=services.disbursement_reverse,
                                template="funds/disbursement_reverse.html",
                                done=_("已冲正，金额已退回可用额度。"))


def _repaid(repayment) -> str:
    return (_("已重新发放：新的发放 #%(n)s 已预留 %(amount)s 元，将列入下一个发放批次。")
            % {"n": repayment.pk, "amount": f"{repayment.amount:,.2f}"})


@perm_required("funds.manage")
@require_http_methods(["GET", "POST"])
def disbursement_repay(request, pk: int):
    return _disbursement_action(request, pk, perm="funds.manage",
                                service=services.disbursement_repay,
                                template="funds/disbursement_repay.html", done=_repaid)


@perm_required("funds.manage")
@require_http_methods(["GET", "POST"])
def disbursement_close(request, pk: int):
    return _disbursement_action(request, pk, perm="funds.manage",
                                service=services.disbursement_close,
                                template="funds/disbursement_close.html",
                                done=_("已终止发放，该笔已冲正的款项不再重新发放。"))


# -- batches ---------------------------------------------------------------------------------

@funds_required
@require_http_methods(["GET", "POST"])
def batch_list(request):
    can_manage = _can(request, "funds.manage")
    form = None
    if can_manage:
        form = BatchCreateForm(request.POST or None,
                               units=selectors.units_for_funds(user=request.user),
                               levels=level_names())
    if request.method == "POST":
        if form is None:
            raise Http404()
        if form.is_valid():
            try:
                batch = services.batch_create(actor=request.user, **form.cleaned_data)
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                left_out = selectors.waiting_without_account(
                    user=request.user, org_unit=form.cleaned_data["org_unit"],
                    funding_source=form.cleaned_data["funding_source"]).count()
                done = _("已生成发放批次，共 %(n)s 笔。") % {"n": batch.disbursements.count()}
                if left_out:
                    done += _("另有 %(m)s 笔因职工未登记银行账号未列入，已通知负责干部补登账号。") % {
                        "m": left_out}
                messages.success(request, done)
                return redirect("funds:batch-detail", pk=batch.pk)
    batches = selectors.batches_visible_to(user=request.user).order_by("-pk")
    waiting = request.GET.get("status") == "waiting"  # the cashier's to-do
    if waiting:
        batches = batches.filter(status__in=(BatchStatus.DRAFT, BatchStatus.EXPORTED))
    page = cheap_page(batches, request.GET.get("page"))
    left_out, left_out_count = [], 0
    if can_manage:
        waiting = selectors.waiting_without_account(user=request.user)
        left_out_count = waiting.count()
        left_out = selectors.left_out_rows(disbursements=waiting[:LEFT_OUT_SHOWN])
    return render(request, "funds/batch_list.html", {
        "form": form, "page": page, "left_out": left_out, "left_out_count": left_out_count,
        "waiting": waiting, "page_base": _carried(request),
    })


@funds_required
def batch_detail(request, pk: int):
    batch = or_404(selectors.batch_get_for_user, user=request.user, pk=pk)
    access = access_for(request.user)
    rows = selectors.batch_rows(batch=batch)
    can_confirm = access.covers_unit("funds.confirm", batch.org_unit)
    can_void = (batch.status in (BatchStatus.DRAFT, BatchStatus.EXPORTED)
                and access.covers_unit("funds.manage", batch.org_unit))
    return render(request, "funds/batch_detail.html", {
        "batch": batch, "rows": rows,
        "can_export": batch.status != BatchStatus.VOIDED and (
            access.covers_unit("funds.manage", batch.org_unit) or can_confirm),
        "can_confirm": can_confirm,
        # the maker-checker rule (四眼原则): why this user may not confirm, if so
        "confirm_refusal": services.batch_confirm_refusal(batch=batch, user=request.user)
        if can_confirm else None,
        "confirm_form": BatchConfirmForm(),
        "can_void": can_void, "void_form": ReasonForm(),
    })


@funds_required
@require_POST
def batch_export(request, pk: int, fmt: str):
    batch = or_404(selectors.batch_get_for_user, user=request.user, pk=pk)
    try:
        filename, content = services.batch_export(actor=request.user, batch=batch, fmt=fmt)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("funds:batch-detail", pk=batch.pk)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@perm_required("funds.confirm")
@require_POST
def batch_confirm(request, pk: int):
    batch = or_404(selectors.batch_get_for_user, user=request.user, pk=pk)
    form = BatchConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["checked"][0])
        return redirect("funds:batch-detail", pk=batch.pk)
    try:
        services.batch_confirm(actor=request.user, batch=batch)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已确认发放。"))
    return redirect("funds:batch-detail", pk=batch.pk)


@perm_required("funds.manage")
@require_POST
def batch_void(request, pk: int):
    batch = or_404(selectors.batch_get_for_user, user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["reason"][0])
        return redirect("funds:batch-detail", pk=batch.pk)
    try:
        services.batch_void(actor=request.user, batch=batch, reason=form.cleaned_data["reason"])
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已作废本批次，其中的款项已退回待发放，可列入新的批次。"))
    return redirect("funds:batch-detail", pk=batch.pk)


# -- payment trace ---------------------------------------------------------------------------

@perm_required("trace.view")
@require_http_methods(["GET", "POST"])
def trace_search(request):
    """By number (GET: numbers are not personal), or by worker, ID number, batch and date
    (POST only: an ID number never reaches a URL)."""
    form = TraceSearchForm(request.GET or None)
    if form.is_valid():
        pk = selectors.trace_find(user=request.user, **form.cleaned_data)
        if pk is not None:
            return redirect("funds:trace-detail", pk=pk)
        form.add_error("number", _("没有找到该编号的发放记录，或不在您的查询范围内。"))
    find_form = TraceFindForm(request.POST if request.method == "POST" else None)
    found = None
    if find_form.is_valid():
        found = selectors.trace_search(user=request.user, **find_form.cleaned_data)
    return render(request, "funds/trace_search.html", {
        "form": form, "find_form": find_form,
        "found": found[:selectors.TRACE_FOUND_MAX] if found is not None else None,
        "more": found is not None and len(found) > selectors.TRACE_FOUND_MAX,
        "found_max": selectors.TRACE_FOUND_MAX,
    })


@perm_required("trace.view")
def trace_detail(request, pk: int):
    trace = or_404(selectors.payment_trace, user=request.user, disbursement_id=pk)
    disbursement = trace["disbursement"]
    # paying a reversed payment again and closing it without re-payment go together
    can_repay = disbursement.awaits_repayment and access_for(request.user).covers_unit(
        "funds.manage", disbursement.budget.org_unit)
    return render(request, "funds/trace_detail.html", {"trace": trace, "can_repay": can_repay})
