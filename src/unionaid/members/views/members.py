"""Back-office pages for members. Thin: parse input, call one members service or selector,
render. Every member URL loads the member through ``member_get_for_user``: out of scope = 404."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from unionaid.accounts.access import access_for
from unionaid.core import masking
from unionaid.core.errors import PermissionDenied, ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404
from unionaid.members import selectors, services
from unionaid.members.forms import (
    ConsentForm,
    HouseholdMemberForm,
    MemberCreateForm,
    MemberEditForm,
    MemberSearchForm,
)
from unionaid.members.models import ConsentKind
from unionaid.members.panels import member_actions, member_panel_parts
from unionaid.org.selectors import level_names, units_visible_to


def _get_member(request, pk, perm: str = "members.view"):
    return or_404(selectors.member_get_for_user, user=request.user, pk=pk, perm=perm)


_is_identifier = masking.looks_like_identifier


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def member_list(request):
    """Search form posts (so an ID number or phone never travels in a URL); name and unit
    searches page with plain GET links. A GET whose ``q`` may be an ID number or phone (a
    bookmarked or hand-typed address) is refused and not run: it is already in the access log
    (redacted there), and answering it would make such links work."""
    data = request.POST if request.method == "POST" else request.GET
    refused = request.method == "GET" and _is_identifier(data.get("q", ""))
    if refused:
        data = data.copy()
        data.pop("q")
    form = MemberSearchForm(
        data, units=units_visible_to(user=request.user, perm="members.view").order_by("path"),
        levels=level_names(),
    )
    query, unit = "", None
    if form.is_valid():
        query, unit = form.cleaned_data["q"].strip(), form.cleaned_data["unit"]
    results = selectors.member_search(user=request.user, query=query, unit=unit)
    if refused:
        results = results.none()
    page = cheap_page(results, data.get("page"))
    carried = {"unit": unit.pk} if unit is not None else {}
    page_post = None
    if query and _is_identifier(query):
        page_post = {**carried, "q": query}
    elif query:
        carried["q"] = query
    return render(request, "members/member_list.html", {
        "form": form, "page": page, "query": query,
        "page_base": urlencode(carried), "page_post": page_post,
        "can_create": access_for(request.user).has_perm("members.change"),
        "refused": refused,
    }, status=400 if refused else 200)


def _unit_choices(user):
    return units_visible_to(user=user, perm="members.change").filter(is_closed=False).order_by(
        "path"
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_create(request):
    units = _unit_choices(request.user)
    initial = {"org_unit": request.GET.get("unit")} if request.GET.get("unit") else {}
    form = MemberCreateForm(request.POST or None, units=units, levels=level_names(),
                            initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_create(actor=request.user, **form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已登记职工“%(name)s”。") % {"name": member.name})
            return redirect("members:member-detail", pk=member.pk)
    return render(request, "members/member_form.html", {
        "form": form, "heading": _("登记职工"), "submit": _("登记"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request, pk: int):
    member = _get_member(request, pk, perm="members.change")
    initial = {
        "name": member.name, "org_unit": member.org_unit_id,
        "employment_form": member.employment_form,
        "membership_status": member.membership_status, "joined_on": member.joined_on,
    }
    form = MemberEditForm(request.POST or None, member=member, units=_unit_choices(request.user),
                          levels=level_names(), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(actor=request.user, member=member, **form.changes())
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("members:member-detail", pk=member.pk)
    return render(request, "members/member_form.html", {
        "form": form, "member": member, "heading": _("修改职工信息"), "submit": _("保存"),
    })


@login_required
def member_detail(request, pk: int):
    member = _get_member(request, pk)
    access = access_for(request.user)
    consents = [(kind, label, services.has_consent(member, kind))
                for kind, label in ConsentKind.choices]
    health_consent = {kind: held for kind, _label, held in consents}[ConsentKind.HEALTH]
    # Health notes are never shown in clear on the page: only whether one is on file (and only
    # while consent is in force); revealing it is a separate, journaled action.
    household = [
        (person, bool(person.health_note) if health_consent else None)
        for person in selectors.household_for(member=member)
    ]
    unit = member.org_unit
    # 帮扶概况: the parts the domains registered (members/panels.py); each is None when the
    # user's rights do not reach it for this member.
    panels = member_panel_parts(user=request.user, member=member)
    return render(request, "members/member_detail.html", {
        "member": member,
        "panels": panels,
        "summary": {panel.key: part for panel, part in panels},
        "actions": member_actions(),
        "show_summary": any(part is not None for _panel, part in panels),
        "household": household,
        "consents": consents,
        "revealable": [
            ("id_number", _("身份证号"), member.id_number_masked),
            ("phone", _("手机号"), member.phone_masked),
            ("bank_account", _("银行账号"), member.bank_account_masked),
        ],
        "can_reveal": access.covers_unit("members.reveal", unit),
        "can_change": access.covers_unit("members.change", unit),
        "can_consent": access.covers_unit("members.consent", unit),
    })


@login_required
@require_POST
@never_cache
def member_reveal(request, pk: int, field: str):
    """htmx endpoint: one sensitive value in clear, journaled by the service."""
    member = _get_member(request, pk)
    masked = {"id_number": member.id_number_masked, "phone": member.phone_masked,
              "bank_account": member.bank_account_masked}
    context = {"member": member, "field": field, "masked": masked.get(field, "")}
    status = 200
    try:
        context["value"] = services.member_reveal(actor=request.user, member=member, field=field)
    except ServiceError as exc:
        context["error"] = exc.message
        status = 403 if isinstance(exc, PermissionDenied) else 400
    template = ("members/_reveal_result.html" if request.headers.get("HX-Request")
                else "members/reveal_page.html")
    return render(request, template, context, status=status)


@login_required
@require_POST
@never_cache
def household_health_reveal(request, pk: int, person_pk: int):
    """htmx endpoint: one household person's health note, journaled by the service."""
    member = _get_member(request, pk)
    person = get_object_or_404(selectors.household_for(member=member), pk=person_pk)
    context = {"member": member, "field": f"health-{person.pk}", "masked": _("已登记")}
    status = 200
    try:
        context["value"] = services.household_health_note_reveal(
            actor=request.user, member=member, person=person)
    except ServiceError as exc:
        context["error"] = exc.message
        status = 403
    template = ("members/_reveal_result.html" if request.headers.get("HX-Request")
                else "members/reveal_page.html")
    return render(request, template, context, status=status)


@login_required
@require_POST
def member_consent(request, pk: int):
    member = _get_member(request, pk)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请求无效。"))
        return redirect("members:member-detail", pk=member.pk)
    kind, action = form.cleaned_data["kind"], form.cleaned_data["action"]
    label = ConsentKind(kind).label
    try:
        if action == "grant":
            services.consent_grant(actor=request.user, member=member, kind=kind)
            messages.success(request, _("已登记“%(kind)s”单独同意。") % {"kind": label})
        else:
            services.consent_withdraw(actor=request.user, member=member, kind=kind)
            messages.success(request, _("已撤回“%(kind)s”同意，相关信息不再显示和处理。")
                             % {"kind": label})
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("members:member-detail", pk=member.pk)


@login_required
@require_http_methods(["GET", "POST"])
def household_create(request, pk: int):
    member = _get_member(request, pk, perm="members.change")
    form = HouseholdMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.household_member_add(actor=request.user, member=member, **form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已添加家庭成员。"))
            return redirect("members:member-detail", pk=member.pk)
    return render(request, "members/household_form.html", {"form": form, "member": member})
