"""The flow editor (审批流程): flows per unit (and, for assistance applications, per item) with
their inheritance, editing the ordered steps (saving publishes a new version; cases in flight
keep theirs), and a preview of which steps a sample case runs or skips and who would decide
each.

One editor serves every subject kind in ``KIND_TITLES``, chosen by ``?kind=`` (default:
assistance applications, so older links keep working). Each kind is guarded by its subject
handler's ``flow_permission`` (``assistance.catalog`` for applications, ``archive.config`` for
the archive's enrolment and exit); without it the pages don't exist (404). Archive flows are
per unit only (subject key ""), so their pages have no item field and no amount."""

from __future__ import annotations

from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from unionaid.accounts.access import access_for
from unionaid.accounts.models import User
from unionaid.accounts.views import second_factor_required
from unionaid.approvals import registry, services
from unionaid.approvals.forms import (
    FlowForm,
    FlowPickForm,
    PreviewForm,
    StepFormSet,
    posts_of,
)
from unionaid.approvals.models import FlowStep, FlowVersion
from unionaid.approvals.selectors import (
    DEFAULT_FLOW_PERMISSION,
    flow_steps_as_dicts,
    flows_visible_to,
)
from unionaid.core.errors import ServiceError
from unionaid.core.http import cheap_page
from unionaid.org.selectors import level_names, units_visible_to

KIND = "assistance.application"
ENROLMENT = "archive.enrolment"
EXIT = "archive.exit"
# The subject kinds the editor maintains (?kind=), each with its page title (also the name a
# new flow starts with).
KIND_TITLES = {
    KIND: gettext_lazy("帮扶审批流程"),
    ENROLMENT: gettext_lazy("困难职工建档审批流程"),
    EXIT: gettext_lazy("解困脱困审批流程"),
}
# What a skip condition of each kind may use (the facts its cases carry), shown as help.
FACT_HELP = {
    KIND: gettext_lazy("跳过条件可使用 amount（金额）、fast_track（特事特办）、职工情况和项目申请事项"
                       "的编码，例如"),
    ENROLMENT: gettext_lazy("跳过条件可使用 category（困难类别：deep 深度困难、relative 相对困难、"
                            "sudden 意外致困）、per_capita_monthly（家庭人均月收入）、dibao_line"
                            "（低保标准）、household_size（家庭人口）、needs_review（需复核）、"
                            "re_enrolment（再次建档）、fast_track（特事特办），例如"),
    EXIT: gettext_lazy("跳过条件可使用 category（困难类别：deep 深度困难、relative 相对困难、"
                       "sudden 意外致困）、per_capita_monthly（家庭人均月收入）、"
                       "months_in_archive（在档月数）、fast_track（特事特办），例如"),
}
FACT_EXAMPLE = {KIND: "amount <= 2000", ENROLMENT: "category == 'relative'",
                EXIT: "months_in_archive >= 12"}
# A typical archive case, so a preview can compute a skip condition naming these facts (the
# form's values win). Every name is one the archive handler accepts (see the tests).
ARCHIVE_SAMPLE_FACTS: dict[str, dict[str, Any]] = {
    ENROLMENT: {"category": "relative", "per_capita_monthly": 0, "dibao_line": 0,
                "household_size": 1, "needs_review": False, "re_enrolment": False},
    EXIT: {"category": "relative", "per_capita_monthly": 0, "months_in_archive": 0},
}


def flow_permission(kind: str) -> str:
    """The permission that lets a user maintain flows of ``kind`` (as the engine checks it)."""
    handler = registry.subject_handler(kind) if registry.has_subject(kind) else None
    return getattr(handler, "flow_permission", None) or DEFAULT_FLOW_PERMISSION


def flow_perm_required(view):
    """Like ``perm_required``, for the subject kind in ``?kind=`` (default: applications): the
    user needs that kind's ``flow_permission``; an unknown kind or a user without it gets 404.
    The view is called with ``kind`` and ``perm``."""

    @wraps(view)
    @second_factor_required
    def wrapper(request, *args, **kwargs):
        kind = request.GET.get("kind") or KIND
        if kind not in KIND_TITLES or not registry.has_subject(kind):
            raise Http404()
        perm = flow_permission(kind)
        if not access_for(request.user).has_perm(perm):
            raise Http404()
        return view(request, *args, kind=kind, perm=perm, **kwargs)

    return wrapper


def _kind_query(kind: str, **params) -> str:
    """A query string that carries ``kind`` unless it is the default."""
    return urlencode({**params, **({"kind": kind} if kind != KIND else {})})


def _kinds_for(user) -> list[dict]:
    """The kinds this user may maintain, for the switch on the list page."""
    access = access_for(user)
    return [{"kind": kind, "title": title, "query": _kind_query(kind)}
            for kind, title in KIND_TITLES.items()
            if registry.has_subject(kind) and access.has_perm(flow_permission(kind))]


def _items() -> list[tuple[str, str]]:
    from unionaid.assistance.selectors import catalog_items

    return [(code, f"{name}（{code}）") for code, name in
            catalog_items(include_inactive=True).values_list("code", "name")]


def _key_labels(kind: str) -> dict[str, str]:
    """Labels of subject keys: catalog items for applications, categories for the archive
    (whose cases carry their category as key, though the editor only keeps per-unit flows)."""
    if kind == KIND:
        return dict(_items())
    from unionaid.archive.models import HardshipCategory

    return {value: str(label) for value, label in HardshipCategory.choices}


def _pick_form(request, data, form_class=FlowPickForm, *, kind: str, perm: str, **kwargs):
    # Items (subject keys) exist only for applications; archive flows are per unit only.
    kwargs["initial"] = {"kind": kind, **kwargs.get("initial", {})}
    if form_class is PreviewForm and kind != KIND:
        kwargs.update(amount=False, facts_help=_("每行一项，如 category = deep、needs_review = 是。"))
    return form_class(data, units=units_visible_to(user=request.user, perm=perm)
                      .filter(is_closed=False).order_by("path"),
                      levels=level_names(), items=_items() if kind == KIND else None, **kwargs)


def _page_context(kind: str) -> dict:
    return {"kind": kind, "kind_title": KIND_TITLES[kind], "is_assistance": kind == KIND,
            "kind_query": _kind_query(kind)}


@flow_perm_required
@require_GET
def flow_list(request, *, kind: str, perm: str):
    current = Prefetch("versions", to_attr="current_versions",
                       queryset=FlowVersion.objects.filter(is_current=True)
                       .prefetch_related("steps"))
    flows = flows_visible_to(user=request.user, subject_kind=kind).prefetch_related(current)
    page = cheap_page(flows, request.GET.get("page"))
    names = _key_labels(kind)
    levels = level_names()
    rows = [{
        "flow": flow,
        "item": names.get(flow.subject_key, flow.subject_key) if flow.subject_key else "",
        "level": levels.get(flow.org_unit.depth, ""),
        "version": flow.current_versions[0] if flow.current_versions else None,
        # archive flows are edited per unit; one keyed by category (made outside the editor)
        # is listed but not editable here
        "edit_query": (_kind_query(kind, unit=flow.org_unit_id, item=flow.subject_key)
                       if kind == KIND or not flow.subject_key else ""),
    } for flow in page.rows]
    return render(request, "approvals/flow_list.html", {
        **_page_context(kind), "page": page, "rows": rows, "kinds": _kinds_for(request.user),
        "page_base": _kind_query(kind),
        "pick_form": _pick_form(request, None, kind=kind, perm=perm),
    })


def _own_version(user, unit, key: str, kind: str) -> FlowVersion | None:
    flow = flows_visible_to(user=user, subject_kind=kind).filter(
        org_unit=unit, subject_key=key).first()
    if flow is None:
        return None
    return flow.versions.filter(is_current=True).select_related("flow__org_unit").first()


def _inherited(unit, key: str, kind: str) -> FlowVersion | None:
    try:
        return services.flow_resolve(subject_kind=kind, subject_key=key, org_unit=unit)
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


@flow_perm_required
@require_http_methods(["GET", "POST"])
def flow_edit(request, *, kind: str, perm: str):
    """?unit=<pk>&item=<code> (blank item = the unit's general flow; no item for the archive)
    &kind=<subject kind>."""
    pick = _pick_form(request, request.GET, kind=kind, perm=perm)
    if not pick.is_valid():
        raise Http404()
    unit, key = pick.cleaned_data["unit"], pick.cleaned_data.get("item") or ""
    own = _own_version(request.user, unit, key, kind)
    inherited = None if own else _inherited(unit, key, kind)
    source = own or inherited
    levels = level_names()
    name = source.flow.name if source else str(KIND_TITLES[kind])
    flow_form = FlowForm(request.POST or None, initial={"name": name})
    formset = StepFormSet(request.POST or None, initial=_initial_steps(source) or None,
                          levels=levels, kind=kind, prefix="steps")
    status = 200
    if request.method == "POST":
        if flow_form.is_valid() and formset.is_valid():
            kept = formset.kept_forms()
            try:
                version = services.flow_save(
                    actor=request.user, subject_kind=kind, subject_key=key, org_unit=unit,
                    name=flow_form.cleaned_data["name"], steps=[f.as_step() for f in kept],
                    note=flow_form.cleaned_data["note"])
            except ServiceError as exc:
                _place_errors(flow_form, kept, exc)
                status = exc.status
            else:
                messages.success(request, _("已发布“%(name)s”第 %(n)s 版，新提交的申请将按新版本审批。")
                                 % {"name": version.flow.name, "n": version.number})
                query = _kind_query(kind, unit=unit.pk, item=key)
                return redirect(f"{reverse('approvals:flow-edit')}?{query}")
        else:
            status = 400
    item_label = dict(_items()).get(key, key) if key and kind == KIND else ""
    preview = _pick_form(request, None, form_class=PreviewForm, kind=kind, perm=perm,
                         initial={"unit": unit.pk, "item": key})
    return render(request, "approvals/flow_edit.html", {
        **_page_context(kind), "fact_help": FACT_HELP[kind], "fact_example": FACT_EXAMPLE[kind],
        "unit": unit, "key": key, "item_label": item_label, "level": levels.get(unit.depth, ""),
        "own": own, "inherited": inherited, "flow_form": flow_form, "formset": formset,
        "versions": (own.flow.versions.order_by("-number")[:10] if own else []),
        "preview_form": preview,
    }, status=status)


@flow_perm_required
@require_GET
def flow_preview(request, *, kind: str, perm: str):
    """Which steps a sample case of a unit (with an amount and other facts) runs or skips.
    An archive case resolves its flow by its category, as the archive starts it."""
    form = _pick_form(request, request.GET if "unit" in request.GET else None,
                      form_class=PreviewForm, kind=kind, perm=perm)
    result = None
    if form.is_valid():
        unit = form.cleaned_data["unit"]
        if kind == KIND:
            key = form.cleaned_data.get("item") or ""
            facts = {**_typical_member(key), **form.sample_facts()}
            shown = form.sample_facts()
        else:
            facts = {**ARCHIVE_SAMPLE_FACTS[kind], **form.sample_facts()}
            key, shown = str(facts.get("category") or ""), facts
        try:
            version = services.flow_resolve(subject_kind=kind, subject_key=key, org_unit=unit)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            result = {
                "version": version, "unit": unit,
                "inherited": version.flow.org_unit_id != unit.pk,
                "steps": _with_notice_days(version, services.flow_preview(
                    version=version, org_unit=unit, facts=facts,
                    fast_track=facts["fast_track"], fast_track_reason=_("预览"))),
                "facts": sorted(shown.items()),
            }
    template = ("approvals/_flow_preview.html" if request.headers.get("HX-Request")
                else "approvals/flow_preview.html")
    return render(request, template, {**_page_context(kind), "form": form, "result": result},
                  status=200 if result or not form.is_bound else 400)


def _with_notice_days(version: FlowVersion, steps: list[dict]) -> list[dict]:
    """Add each public-notice step's working days (the preview shows them instead of a
    deadline in days)."""
    days = dict(FlowStep.objects.filter(version_id=version.pk, is_public_notice=True)
                .values_list("order", "notice_working_days"))
    return [{**step, "notice_working_days": days.get(step["order"], 0)} for step in steps]


def _typical_member(item_code: str) -> dict:
    """A typical member's facts (在籍会员, not in the archive …) and the item's facts at neutral
    values, so a skip condition naming them can be computed; the form's values win."""
    from unionaid.assistance import facts as factlib
    from unionaid.assistance.selectors import catalog_items

    item = catalog_items(include_inactive=True).filter(code=item_code).first() if item_code \
        else None
    return factlib.sample_values(item.facts if item else [])


@flow_perm_required
@require_GET
def user_posts(request, *, kind: str, perm: str):
    """htmx: the posts a named approver holds now, as <option>s for "其所在岗位"."""
    username = next((v for k, v in request.GET.items() if k.endswith("username")), "")
    username = username.strip()[:150]
    return render(request, "approvals/_user_posts.html", {"posts": posts_of(username)})
