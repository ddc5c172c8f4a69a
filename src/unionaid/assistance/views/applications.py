"""Back-office pages for applications (帮扶申请): search, detail with its timeline, filing on a
worker's behalf (代办: item → facts → draft → materials → submit), withdraw, resubmit.

Every application URL loads it through ``application_get_for_user``: out of scope = 404.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from unionaid.accounts.access import access_for
from unionaid.assistance import selectors, services
from unionaid.assistance.forms import (
    ApplicationFilterForm,
    ApplicationForm,
    AttachmentForm,
    ReasonForm,
    SubmitForm,
)
from unionaid.assistance.models import ApplicationStatus
from unionaid.assistance.services.applications import EDITABLE, WITHDRAWABLE
from unionaid.assistance.services.catalog import OTHER_MATERIAL
from unionaid.assistance.views.display import application_panels
from unionaid.core import masking
from unionaid.core.errors import ServiceError
from unionaid.core.http import IDENTIFIER_IN_URL, cheap_page, or_404
from unionaid.members.selectors import member_get_for_user, member_search
from unionaid.org.selectors import level_names, units_visible_to

APPLY = "assistance.apply"


def _require_view(request) -> None:
    if not access_for(request.user).has_perm("assistance.view"):
        raise Http404()


def _get(request, pk):
    return or_404(selectors.application_get_for_user, user=request.user, pk=pk)


def _can_edit(user, application) -> bool:
    """The worker themself or a cadre with assistance.apply over the application's unit."""
    return (getattr(user, "member_id", None) == application.member_id
            or access_for(user).covers_unit(APPLY, application.org_unit))


@login_required
def application_list(request):
    _require_view(request)
    user = request.user
    form = ApplicationFilterForm(
        request.GET or None,
        units=units_visible_to(user=user, perm="assistance.view").order_by("path"),
        levels=level_names(), items=selectors.catalog_items(include_inactive=True),
    )
    filters = {}
    if form.is_bound:
        form.is_valid()  # an invalid filter is shown on the form; the valid ones still apply
        filters = form.cleaned_data
    results = selectors.application_list(
        user=user, status=filters.get("status") or None, item=filters.get("item"),
        unit=filters.get("unit"), query=filters.get("q", ""),
    ).select_related("filed_by")
    if filters.get("category") is not None:
        results = results.filter(item__category=filters["category"])
    if filters.get("period"):
        results = results.filter(period=filters["period"].strip())
    page = cheap_page(results, request.GET.get("page"))
    carried = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(request, "assistance/application_list.html", {
        "form": form, "page": page, "page_base": urlencode(carried),
        "can_apply": access_for(user).has_perm(APPLY),
    })


def _detail_context(request, application, **forms) -> dict:
    user = request.user
    editable = _can_edit(user, application)
    status = application.status
    context = {
        "application": application,
        "can_edit": editable and status in EDITABLE,
        "can_withdraw": editable and status in WITHDRAWABLE,
        "can_remove_attachments": editable and status == ApplicationStatus.DRAFT,
        **application_panels(user=user, application=application),
    }
    if context["can_edit"]:
        materials = [m["name"] if isinstance(m, dict) else m
                     for m in application.item.required_materials or []]
        context["attachment_form"] = forms.get("attachment_form") or AttachmentForm(
            materials=[*materials, OTHER_MATERIAL], initial={"material": _next_material(
                context["material_rows"], request.GET.get("material", ""))})
        context["precheck"] = services.application_precheck(application=application)
    if editable and status == ApplicationStatus.DRAFT:
        context["submit_form"] = forms.get("submit_form") or SubmitForm(
            allow_fast_track=access_for(user).covers_unit(APPLY, application.org_unit))
    if context["can_withdraw"]:
        context["withdraw_form"] = forms.get("withdraw_form") or ReasonForm()
    context["action_error"] = forms.get("action_error", "")
    return context


def _next_material(rows: list[dict], last: str) -> str:
    """The material the upload form offers first: the next required one still missing, then an
    optional one still missing, else the one just uploaded (``last``), so the choice never
    jumps back to the top of the list after each upload."""
    missing = [row for row in rows if not row["files"]]
    ordered = [r for r in missing if r["required"]] + [r for r in missing if not r["required"]]
    if ordered:
        return ordered[0]["name"]
    return last if any(row["name"] == last for row in rows) or last == OTHER_MATERIAL else ""


@login_required
def application_detail(request, pk: int):
    application = _get(request, pk)
    return render(request, "assistance/application_detail.html",
                  _detail_context(request, application))


def _render_error(request, application, exc: ServiceError, **forms):
    context = _detail_context(request, application, action_error=exc.message, **forms)
    return render(request, "assistance/application_detail.html", context, status=exc.status)


# -- filing on behalf (代办) --------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def application_create(request):
    """?member=<pk> chooses the worker, &item=<pk> the item; then the facts form saves a draft."""
    user = request.user
    if not access_for(user).has_perm(APPLY):
        raise Http404()
    if not request.GET.get("member"):
        # the form posts, so an ID number or phone may be searched; one in the URL (a typed
        # or old bookmarked address) is refused below
        posted = request.method == "POST"
        query = (request.POST if posted else request.GET).get("q", "").strip()[:50]
        if not posted and masking.looks_like_identifier(query):
            # the form is sent by GET: an ID number or phone would sit in the URL (and the
            # access log), so it is not searched, nor shown back
            return render(request, "assistance/application_new.html",
                          {"query": "", "members": [], "query_error": IDENTIFIER_IN_URL},
                          status=400)
        members = member_search(user=user, query=query, perm=APPLY)[:20] if query else []
        return render(request, "assistance/application_new.html", {
            "query": query, "members": members,
            # an ID number or phone is not echoed back into the page
            "query_shown": "" if masking.looks_like_identifier(query) else query})
    member = or_404(member_get_for_user, user=user, pk=request.GET["member"], perm=APPLY)
    if not request.GET.get("item"):
        # the items the member qualifies for first; the others with the reasons (the visit
        # need's page judges them the same way)
        fitting, others = services.items_by_fit(member=member,
                                                items=selectors.items_available_to(member))
        return render(request, "assistance/application_new.html",
                      {"member": member, "fitting": fitting, "others": others})
    item = or_404(selectors.item_get, pk=request.GET["item"])
    form = ApplicationForm(request.POST or None, item=item)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_create_draft(
                actor=user, member=member, item=item, facts=form.facts(),
                reason=form.cleaned_data["reason"],
                period=form.cleaned_data.get("period") or None)
        except ServiceError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, _("已保存草稿，请上传材料后提交。"))
            return redirect("assistance:application-detail", pk=application.pk)
    return render(request, "assistance/application_form.html", {
        "form": form, "member": member, "item": item, "heading": _("代办帮扶申请"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def application_edit(request, pk: int):
    application = _get(request, pk)
    if not (_can_edit(request.user, application) and application.status in EDITABLE):
        raise Http404()
    initial = {**ApplicationForm.fact_initial(application.facts), "reason": application.reason}
    form = ApplicationForm(request.POST or None, item=application.item, with_period=False,
                           initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.application_update_draft(actor=request.user, application=application,
                                              facts=form.facts(),
                                              reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("assistance:application-detail", pk=application.pk)
    return render(request, "assistance/application_form.html", {
        "form": form, "member": application.member, "item": application.item,
        "application": application, "heading": _("修改申请事项"),
    })


# -- materials, submit, withdraw, resubmit ------------------------------------------------------

@login_required
@require_POST
def attachment_upload(request, pk: int):
    application = _get(request, pk)
    if not _can_edit(request.user, application):
        raise Http404()
    materials = [m["name"] if isinstance(m, dict) else m
                 for m in application.item.required_materials or []]
    form = AttachmentForm(request.POST, request.FILES, materials=[*materials, OTHER_MATERIAL])
    if not form.is_valid():
        return render(request, "assistance/application_detail.html",
                      _detail_context(request, application, attachment_form=form), status=400)
    material = form.cleaned_data["material"]
    try:
        services.attachment_add(actor=request.user, application=application,
                                material=material, uploaded_file=form.upload())
    except ServiceError as exc:
        return _render_error(request, application, exc, attachment_form=form)
    messages.success(request, _("已上传“%(m)s”。") % {"m": material})
    detail = reverse("assistance:application-detail", args=[application.pk])
    return redirect(f"{detail}?{urlencode({'material': material})}")


@login_required
@require_POST
def attachment_remove(request, pk: int, attachment_pk: int):
    application = _get(request, pk)
    attachment = next((a for a in application.attachments.all() if a.pk == attachment_pk), None)
    if attachment is None or not _can_edit(request.user, application):
        raise Http404()
    try:
        services.attachment_remove(actor=request.user, attachment=attachment)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除材料。"))
    return redirect("assistance:application-detail", pk=application.pk)


@login_required
@require_POST
def application_submit(request, pk: int):
    application = _get(request, pk)
    if not _can_edit(request.user, application):
        raise Http404()
    form = SubmitForm(request.POST, allow_fast_track=access_for(request.user).covers_unit(
        APPLY, application.org_unit))
    form.is_valid()
    data = form.cleaned_data
    try:
        application = services.application_submit(
            actor=request.user, application=application,
            fast_track=bool(data.get("fast_track")),
            fast_track_reason=data.get("fast_track_reason", ""))
    except ServiceError as exc:
        if "fast_track_reason" in (exc.fields or {}) and "fast_track_reason" in form.fields:
            form.add_error("fast_track_reason", str(exc.fields["fast_track_reason"]))
        application = _get(request, pk)
        return _render_error(request, application, exc, submit_form=form)
    if application.status == ApplicationStatus.APPROVED:
        messages.success(request, _("已提交，按流程无需逐级审批，已直接核准。"))
    else:
        messages.success(request, _("已提交，进入审批。"))
    return redirect("assistance:application-detail", pk=application.pk)


@login_required
@require_POST
def application_withdraw(request, pk: int):
    application = _get(request, pk)
    if not _can_edit(request.user, application):
        raise Http404()
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        services.application_withdraw(actor=request.user, application=application,
                                      reason=form.cleaned_data.get("reason", ""))
    except ServiceError as exc:
        return _render_error(request, application, exc, withdraw_form=form)
    messages.success(request, _("申请已撤回。"))
    return redirect("assistance:application-detail", pk=application.pk)


@login_required
@require_POST
def application_resubmit(request, pk: int):
    application = _get(request, pk)
    if not _can_edit(request.user, application):
        raise Http404()
    try:
        services.application_resubmit(actor=request.user, application=application)
    except ServiceError as exc:
        application = _get(request, pk)
        return _render_error(request, application, exc)
    messages.success(request, _("已重新提交，进入审批。"))
    return redirect("assistance:application-detail", pk=application.pk)
