"""The flow editor (审批流程): flows per unit (and, for a kind whose subject offers keys, per
key: a catalog item for assistance applications) with their inheritance, editing the ordered
steps (saving publishes a new version; cases in flight keep theirs), and a preview of which
steps a sample case runs or skips and who would decide each.

One editor serves every registered subject kind with a ``flow_editor``, chosen by ``?kind=``
(default: the first such kind registered, so older links keep working). Each kind is guarded
by its subject's ``flow_permission``; without it, or for a kind nobody registered, the pages
don't exist (404). The words about a kind (help, sample facts, key labels) are the subject's;
this module imports no domain."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from unionaid.accounts.access import access_for
from unionaid.accounts.models import User
from unionaid.accounts.views import second_factor_required
from unionaid.approvals import conditions, registry, services
from unionaid.approvals.forms import (
    FlowForm,
    FlowPickForm,
    PreviewForm,
    StepFormSet,
    posts_of,
)
from unionaid.approvals.models import ApprovalStep, FlowVersion
from unionaid.approvals.selectors import flow_steps_as_dicts, flows_visible_to
from unionaid.core.errors import ServiceError
from unionaid.core.http import cheap_page
from unionaid.org.selectors import level_names, units_visible_to


def _editable(kind: str):
    """The subject of ``kind`` if its flows are kept in this editor; otherwise 404."""
    subject = registry.subject_handler(kind) if registry.has_subject(kind) else None
    if subject is None or subject.flow_editor is None:
        raise Http404()
    return subject


def _default_kind() -> str:
    """The kind ``?kind=`` defaults to: the first registered kind kept in the editor (so the
    editor's first links, from before there were several kinds, keep working)."""
    return next((s.kind for s in registry.subjects() if s.flow_editor is not None), "")


def flow_perm_required(view):
    """Like ``perm_required``, for the subject kind in ``?kind=``: the user needs that kind's
    ``flow_permission``; an unknown kind (or one not kept in the editor) or a user without the
    permission gets 404. The view is called with ``subject`` and ``perm``."""

    @wraps(view)
    @second_factor_required
    def wrapper(request, *args, **kwargs):
        subject = _editable(request.GET.get("kind") or _default_kind())
        perm = subject.flow_permission
        if not access_for(request.user).has_perm(perm):
            raise Http404()
        return view(request, *args, subject=subject, perm=perm, **kwargs)

    return wrapper


def _kind_query(kind: str, **params) -> str:
    """A query string that carries ``kind`` unless it is the default."""
    return urlencode({**params, **({"kind": kind} if kind != _default_kind() else {})})


def _flow_title(subject) -> str:
    """The editor's title for a kind (also the name a new flow starts with)."""
    return _("%(title)s审批流程") % {"title": subject.title}


def _kinds_for(user) -> list[dict]:
    """The kinds this user may maintain, for the switch on the list page."""
    access = access_for(user)
    return [{"kind": s.kind, "title": _flow_title(s), "query": _kind_query(s.kind)}
            for s in registry.subjects()
            if s.flow_editor is not None and access.has_perm(s.flow_permission)]


def _pick_form(request, data, form_class=FlowPickForm, *, subject, perm: str,
               keys: list[tuple[str, str]] | None, **kwargs):
    """``keys``: the subject's keys (None: its flows are per unit only, no item field)."""
    kwargs["initial"] = {"kind": subject.kind, **kwargs.get("initial", {})}
    editor = subject.flow_editor
    if form_class is PreviewForm:
        kwargs.update(amount=editor.preview_amount, facts_help=editor.preview_facts_help)
    return form_class(data, units=units_visible_to(user=request.user, perm=perm)
                      .filter(is_closed=False).order_by("path"),
                      levels=level_names(), items=keys, **kwargs)


def _page_context(subject, *, keys) -> dict:
    return {"kind": subject.kind, "kind_title": _flow_title(subject),
            "editor": subject.flow_editor, "per_key": keys is not None,
            "kind_query": _kind_query(subject.kind)}


@flow_perm_required
@require_GET
def flow_list(request, *, subject, perm: str):
    kind, keys = subject.kind, subject.subject_keys()
    current = Prefetch("versions", to_attr="current_versions",
                       queryset=FlowVersion.objects.filter(is_current=True)
                       .prefetch_related("steps"))
    flows = flows_visible_to(user=request.user, subject_kind=kind).prefetch_related(current)
    page = cheap_page(flows, request.GET.get("page"))
    names = subject.key_labels()
    levels = level_names()
    labels: dict[str, dict] = {}

    def steps_in_words(flow, version) -> list[dict]:
        """Each step with its skip condition in words (the subject's labels per key)."""
        if version is None:
            return []
        if flow.subject_key not in labels:
            labels[flow.subject_key] = conditions.labels_for(kind, flow.subject_key)
        return [{"step": step, "skip_words": conditions.describe_condition(
                    step.skip_condition, labels[flow.subject_key])}
                for step in version.steps.all()]

    rows = [{
        "flow": flow,
        "steps": steps_in_words(flow, flow.current_versions[0] if flow.current_versions
                                else None),
        "item": names.get(flow.subject_key, flow.subject_key) if flow.subject_key else "",
        "level": levels.get(flow.org_unit.depth, ""),
        "version": flow.current_versions[0] if flow.current_versions else None,
        # per-unit kinds are edited per unit; a flow with a key (made outside the editor)
        # is listed but not editable here
        "edit_query": (_kind_query(kind, unit=flow.org_unit_id, item=flow.subject_key)
                       if keys is not None or not flow.subject_key else ""),
    } for flow in page.rows]
    return render(request, "approvals/flow_list.html", {
        **_page_context(subject, keys=keys), "page": page, "rows": rows,
        "kinds": _kinds_for(request.user), "page_base": _kind_query(kind),
        "pick_form": _pick_form(request, None, subject=subject, perm=perm, keys=keys),
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
def flow_edit(request, *, subject, perm: str):
    """?unit=<pk>&item=<key> (blank = the unit's general flow; no item when the kind's flows
    are per unit only) &kind=<subject kind>."""
    kind, keys = subject.kind, subject.subject_keys()
    pick = _pick_form(request, request.GET, subject=subject, perm=perm, keys=keys)
    if not pick.is_valid():
        raise Http404()
    unit, key = pick.cleaned_data["unit"], pick.cleaned_data.get("item") or ""
    own = _own_version(request.user, unit, key, kind)
    inherited = None if own else _inherited(unit, key, kind)
    source = own or inherited
    levels = level_names()
    name = source.flow.name if source else _flow_title(subject)
    flow_form = FlowForm(request.POST or None, initial={
        "name": name, "allow_same_decider": bool(own and own.flow.allow_same_decider)})
    formset = StepFormSet(request.POST or None, initial=_initial_steps(source) or None,
                          levels=levels, kind=kind, prefix="steps")
    words = conditions.labels_for(kind, key)
    for step_form in formset.forms:  # each saved skip condition also in words, under its box
        step_form.skip_words = conditions.describe_condition(
            str(step_form["skip_condition"].value() or ""), words)
    status = 200
    if request.method == "POST":
        if flow_form.is_valid() and formset.is_valid():
            kept = formset.kept_forms()
            try:
                version = services.flow_save(
                    actor=request.user, subject_kind=kind, subject_key=key, org_unit=unit,
                    name=flow_form.cleaned_data["name"], steps=[f.as_step() for f in kept],
                    note=flow_form.cleaned_data["note"],
                    allow_same_decider=flow_form.cleaned_data["allow_same_decider"])
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
    item_label = dict(keys).get(key, key) if key and keys is not None else ""
    preview = _pick_form(request, None, form_class=PreviewForm, subject=subject, perm=perm,
                         keys=keys, initial={"unit": unit.pk, "item": key})
    return render(request, "approvals/flow_edit.html", {
        **_page_context(subject, keys=keys), "fact_help": subject.flow_editor.fact_help,
        "fact_example": subject.flow_editor.fact_example,
        "unit": unit, "key": key, "item_label": item_label, "level": levels.get(unit.depth, ""),
        "own": own, "inherited": inherited, "flow_form": flow_form, "formset": formset,
        "versions": (own.flow.versions.order_by("-number")[:10] if own else []),
        "preview_form": preview,
    }, status=status)


@flow_perm_required
@require_GET
def flow_preview(request, *, subject, perm: str):
    """Which steps a sample case of a unit (with an amount and other facts) runs or skips. The
    subject completes the sample and says which key its flow is resolved by (an archive case:
    its category, as the archive starts it)."""
    kind, keys = subject.kind, subject.subject_keys()
    form = _pick_form(request, request.GET if "unit" in request.GET else None,
                      form_class=PreviewForm, subject=subject, perm=perm, keys=keys)
    result = None
    if form.is_valid():
        unit = form.cleaned_data["unit"]
        sample = subject.preview_case(subject_key=form.cleaned_data.get("item") or "",
                                      facts=form.sample_facts())
        key, facts, shown = sample.subject_key, sample.facts, sample.shown
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
    return render(request, template, {**_page_context(subject, keys=keys), "form": form,
                                      "result": result},
                  status=200 if result or not form.is_bound else 400)


def _with_notice_days(version: FlowVersion, steps: list[dict]) -> list[dict]:
    """Add each public-notice step's working days (the preview shows them instead of a
    deadline in days)."""
    days = dict(ApprovalStep.objects.filter(version_id=version.pk, is_public_notice=True)
                .values_list("order", "notice_working_days"))
    return [{**step, "notice_working_days": days.get(step["order"], 0)} for step in steps]


@flow_perm_required
@require_GET
def user_posts(request, *, subject, perm: str):
    """htmx: the posts a named approver holds now, as <option>s for "其所在岗位"."""
    username = next((v for k, v in request.GET.items() if k.endswith("username")), "")
    username = username.strip()[:150]
    return render(request, "approvals/_user_posts.html", {"posts": posts_of(username)})
