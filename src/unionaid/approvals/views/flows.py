"""The flow editor (审批流程, ``assistance.catalog``): flows per item and unit with their
inheritance, editing the ordered steps (saving publishes a new version; cases in flight keep
theirs), and a preview of which steps a sample case runs or skips and who would decide each."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from unionaid.accounts.models import User
from unionaid.accounts.views import perm_required
from unionaid.approvals import services
from unionaid.approvals.forms import (
    FlowForm,
    FlowPickForm,
    PreviewForm,
    StepFormSet,
    posts_of,
)
from unionaid.approvals.models import FlowVersion
from unionaid.approvals.selectors import flow_steps_as_dicts, flows_visible_to
from unionaid.core.errors import ServiceError
from unionaid.org.selectors import level_names, units_visible_to
from unionaid.web.http import cheap_page

CATALOG = "assistance.catalog"
KIND = "assistance.application"


def _items() -> list[tuple[str, str]]:
    from unionaid.assistance.selectors import catalog_items

    return [(code, f"{name}（{code}）") for code, name in
            catalog_items(include_inactive=True).values_list("code", "name")]


def _pick_form(request, data, form_class=FlowPickForm, **kwargs):
    return form_class(data, units=units_visible_to(user=request.user, perm=CATALOG)
                      .filter(is_closed=False).order_by("path"),
                      levels=level_names(), items=_items(), **kwargs)


@perm_required(CATALOG)
@require_GET
def flow_list(request):
    current = Prefetch("versions", to_attr="current_versions",
                       queryset=FlowVersion.objects.filter(is_current=True)
                       .prefetch_related("steps"))
    flows = flows_visible_to(user=request.user, subject_kind=KIND).prefetch_related(current)
    page = cheap_page(flows, request.GET.get("page"))
    names = dict(_items())
    levels = level_names()
    rows = [{
        "flow": flow,
        "item": names.get(flow.subject_key, flow.subject_key) if flow.subject_key else "",
        "level": levels.get(flow.org_unit.depth, ""),
        "version": flow.current_versions[0] if flow.current_versions else None,
    } for flow in page.rows]
    return render(request, "approvals/flow_list.html", {
        "page": page, "rows": rows, "pick_form": _pick_form(request, None),
    })


def _own_version(user, unit, key: str) -> FlowVersion | None:
    flow = flows_visible_to(user=user, subject_kind=KIND).filter(
        org_unit=unit, subject_key=key).first()
    if flow is None:
        return None
    return flow.versions.filter(is_current=True).select_related("flow__org_unit").first()


def _inherited(unit, key: str) -> FlowVersion | None:
    try:
        return services.flow_resolve(subject_kind=KIND, subject_key=key, org_unit=unit)
    except ServiceError:
        return None


def _initial_steps(version: FlowVersion | None) -> list[dict]:
    if version is None:
        return []
    steps = flow_steps_as_dicts(version=version)
    user_ids = {s["user"] for s in steps if s.get("user")}
    usernames = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "username"))
    for step in steps:
        if step.get("user"):
            step["username"] = usernames.get(step.pop("user"), "")
    return steps


def _place_errors(flow_form, kept, exc: ServiceError) -> None:
    """``steps.<n>.<key>`` errors go on the n-th saved step's field; others on the flow form."""
    placed = False
    for key, message in (exc.fields or {}).items():
        if key.startswith("steps."):
            _steps, order, field = key.split(".", 2)
            field = "username" if field == "user" else field
            index = int(order) - 1
            if 0 <= index < len(kept):
                form = kept[index]
                form.add_error(field if field in form.fields else None, str(message))
                placed = True
        elif key in flow_form.fields:
            flow_form.add_error(key, str(message))
            placed = True
    if not placed:
        flow_form.add_error(None, exc.message)


@perm_required(CATALOG)
@require_http_methods(["GET", "POST"])
def flow_edit(request):
    """?unit=<pk>&item=<code> (blank item = the unit's general flow)."""
    pick = _pick_form(request, request.GET)
    if not pick.is_valid():
        raise Http404()
    unit, key = pick.cleaned_data["unit"], pick.cleaned_data["item"] or ""
    own = _own_version(request.user, unit, key)
    inherited = None if own else _inherited(unit, key)
    source = own or inherited
    levels = level_names()
    name = source.flow.name if source else _("帮扶审批流程")
    flow_form = FlowForm(request.POST or None, initial={"name": name})
    formset = StepFormSet(request.POST or None, initial=_initial_steps(source) or None,
                          levels=levels, prefix="steps")
    status = 200
    if request.method == "POST":
        if flow_form.is_valid() and formset.is_valid():
            kept = formset.kept_forms()
            try:
                version = services.flow_save(
                    actor=request.user, subject_kind=KIND, subject_key=key, org_unit=unit,
                    name=flow_form.cleaned_data["name"], steps=[f.as_step() for f in kept],
                    note=flow_form.cleaned_data["note"])
            except ServiceError as exc:
                _place_errors(flow_form, kept, exc)
                status = exc.status
            else:
                messages.success(request, _("已发布“%(name)s”第 %(n)s 版，新提交的申请将按新版本审批。")
                                 % {"name": version.flow.name, "n": version.number})
                query = urlencode({"unit": unit.pk, "item": key})
                return redirect(f"{reverse('approvals:flow-edit')}?{query}")
        else:
            status = 400
    item_label = dict(_items()).get(key, key) if key else ""
    preview = _pick_form(request, None, form_class=PreviewForm,
                         initial={"unit": unit.pk, "item": key})
    return render(request, "approvals/flow_edit.html", {
        "unit": unit, "key": key, "item_label": item_label, "level": levels.get(unit.depth, ""),
        "own": own, "inherited": inherited, "flow_form": flow_form, "formset": formset,
        "versions": (own.flow.versions.order_by("-number")[:10] if own else []),
        "preview_form": preview,
    }, status=status)


@perm_required(CATALOG)
@require_GET
def flow_preview(request):
    """Which steps a sample case of a unit (with an amount and other facts) runs or skips."""
    form = _pick_form(request, request.GET or None, form_class=PreviewForm)
    result = None
    if form.is_valid():
        unit, key = form.cleaned_data["unit"], form.cleaned_data["item"] or ""
        try:
            version = services.flow_resolve(subject_kind=KIND, subject_key=key, org_unit=unit)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            facts = {**_typical_member(key), **form.sample_facts()}
            result = {
                "version": version, "unit": unit,
                "inherited": version.flow.org_unit_id != unit.pk,
                "steps": services.flow_preview(version=version, org_unit=unit, facts=facts,
                                               fast_track=facts["fast_track"],
                                               fast_track_reason=_("预览")),
                "facts": sorted(form.sample_facts().items()),
            }
    template = ("approvals/_flow_preview.html" if request.headers.get("HX-Request")
                else "approvals/flow_preview.html")
    return render(request, template, {"form": form, "result": result},
                  status=200 if result or not form.is_bound else 400)


def _typical_member(item_code: str) -> dict:
    """A typical member's facts (在籍会员, not in the archive …) and the item's facts at neutral
    values, so a skip condition naming them can be computed; the form's values win."""
    from unionaid.assistance import facts as factlib
    from unionaid.assistance.selectors import catalog_items

    item = catalog_items(include_inactive=True).filter(code=item_code).first() if item_code \
        else None
    return factlib.sample_values(item.facts if item else [])


@perm_required(CATALOG)
@require_GET
def user_posts(request):
    """htmx: the posts a named approver holds now, as <option>s for "其所在岗位"."""
    username = next((v for k, v in request.GET.items() if k.endswith("username")), "")
    username = username.strip()[:150]
    return render(request, "approvals/_user_posts.html", {"posts": posts_of(username)})
