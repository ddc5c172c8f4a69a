"""Pages of the hardship archive (困难职工档案): the list, one record with its calculation,
notice and objections, and the forms to enrol, resubmit, withdraw, exit, close and re-check.

Every record URL loads it through ``record_get_for_user``: out of scope = 404.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from unionaid.accounts.access import access_for
from unionaid.accounts.views import perm_required
from unionaid.approvals import assignees
from unionaid.approvals.selectors import case_timeline
from unionaid.archive.forms import (
    CloseForm,
    EnrolForm,
    ExitForm,
    ObjectionForm,
    ObjectionResolveForm,
    ReasonForm,
    RecheckForm,
    RecordFilterForm,
)
from unionaid.archive.models import RecordStatus
from unionaid.archive.selectors.records import (
    objection_get_for_user,
    recheck_soon,
    record_cases,
    record_get_for_user,
    record_history,
    record_list,
    record_objections,
)
from unionaid.archive.services import objections as objection_services
from unionaid.archive.services import records as services
from unionaid.archive.services.common import MANAGE, VIEW
from unionaid.archive.services.objections import current_case, current_task
from unionaid.archive.services.rechecks import recheck_record
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404
from unionaid.members.selectors import member_get_for_user, member_search
from unionaid.org.selectors import level_names, units_visible_to
from unionaid.visits.models import FollowUp, HardshipCause, HouseholdProfile, NeedStatus
from unionaid.visits.selectors.profiles import Purpose, profile_for
from unionaid.visits.selectors.records import needs_visible_to


def _get(request, pk):
    return or_404(record_get_for_user, user=request.user, pk=pk)


def _can_manage(user, record) -> bool:
    return access_for(user).covers_unit(MANAGE, record.org_unit)


def _profiles(member):
    return HouseholdProfile.objects.filter(member_id=member.pk).order_by("-taken_on", "-id")


def _visible_causes(user, record) -> str:
    """The causes of the record's snapshot as the reader may see them (``profile_for``: 因病/因残
    only with the member's current health consent)."""
    view = profile_for(reader=user, member_or_visit=record.profile, purpose=Purpose.VIEW)
    return cause_labels(",".join(view.cause_codes))


def cause_labels(codes: str) -> str:
    labels = dict(HardshipCause.choices)
    return "、".join(str(labels.get(c, c)) for c in (codes or "").split(",") if c)


@perm_required(VIEW)
def record_list_view(request):
    user = request.user
    form = RecordFilterForm(request.GET or None,
                            units=units_visible_to(user=user, perm=VIEW).order_by("path"),
                            levels=level_names())
    filters = {}
    if form.is_bound:
        form.is_valid()  # an invalid filter shows on the form; the valid ones still apply
        filters = form.cleaned_data
    results = record_list(user=user, status=filters.get("status") or None,
                          category=filters.get("category") or None, unit=filters.get("unit"),
                          recheck_due_by=recheck_soon() if filters.get("recheck") else None,
                          query=filters.get("q", ""))
    page = cheap_page(results, request.GET.get("page"))
    carried = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(request, "archive/record_list.html", {
        "form": form, "page": page, "page_base": urlencode(carried),
        # on a phone the filters fold away unless one is in use (or wrong)
        "filters_open": bool(form.errors) or any(request.GET.get(n) for n in form.fields),
        "today": timezone.localdate(), "can_config": access_for(user).has_perm("archive.config"),
        "can_manage": access_for(user).has_perm(MANAGE),
    })


def _detail_context(request, record, **forms) -> dict:
    user = request.user
    manage = _can_manage(user, record)
    case = current_case(record)
    task = current_task(case)
    notice = task if task is not None and task.step.is_public_notice else None
    history = [r for r in record_history(member=record.member) if r.pk != record.pk]
    cases = record_cases([record.pk]).get(record.pk, [])
    may_handle_objections = notice is not None and (
        manage or assignees.authority(user, notice) is not None)
    objections = record_objections(record)
    access = access_for(user)
    can_apply = (access.covers_unit("assistance.apply", record.org_unit)
                 and record.status in (RecordStatus.ACTIVE, RecordStatus.EXITING))
    context = {
        "record": record, "member": record.member, "can_manage": manage,
        "calculation": record.calculation.get("lines", []),
        "causes": _visible_causes(user, record),
        "case": case, "task": task, "notice": notice,
        "notice_ended": notice is not None and notice.due_at is not None
        and notice.due_at <= timezone.now(),
        "open_objections": sum(1 for o in objections if o.resolved_at is None),
        "may_decide": task is not None and assignees.authority(user, task) is not None,
        "rounds": [{"case": c, "timeline": case_timeline(case=c, include_upcoming=True,
                                                         viewer=user)}
                   for c in reversed(cases)],
        "history": history,
        "objections": objections,
        "objection_form": (forms.get("objection_form") or ObjectionForm())
        if may_handle_objections else None,
        "resolve_forms": {o.pk: ObjectionResolveForm(prefix=f"o{o.pk}") for o in objections
                          if o.resolved_at is None} if (may_handle_objections or manage) else {},
        "rechecks": list(record.rechecks.select_related("checked_by").order_by("-checked_on",
                                                                                "-pk")),
        "follow_ups": list(FollowUp.objects.filter(hardship_record=record)
                           .select_related("owner").order_by("due_on", "pk")),
        "can_apply": can_apply,
        "can_close": manage and services.record_closable(record),
        "open_needs": _open_needs(user, record) if can_apply else [],
        "withdraw_form": ReasonForm() if manage and record.status in services.WITHDRAWABLE
        else None,
        "action_error": forms.get("action_error", ""),
        "today": timezone.localdate(),
    }
    return context


def _open_needs(user, record) -> list:
    """Needs found on the member's visits and not yet turned into work, which the user may
    turn into an application pre-filled from the profile (with the worker's consent)."""
    return list(needs_visible_to(user=user, perm="visits.record")
                .filter(visit__member_id=record.member_id, status=NeedStatus.OPEN)
                .order_by("-visit__visited_on", "-pk")[:10])


@perm_required(VIEW)
def record_detail(request, pk: int):
    record = _get(request, pk)
    return render(request, "archive/record_detail.html", _detail_context(request, record))


def _render_error(request, record, exc: ServiceError, **forms):
    context = _detail_context(request, record, action_error=exc.message, **forms)
    return render(request, "archive/record_detail.html", context, status=exc.status)


# -- enrol / resubmit ---------------------------------------------------------------------

@perm_required(MANAGE)
@require_http_methods(["GET", "POST"])
def record_enrol_search(request):
    """Choose the worker to enrol (name prefix, ID number or phone, in the manage scope). The
    search is a POST, so an ID number or phone typed here stays out of URLs and logs."""
    query = request.POST.get("q", "").strip()[:50]
    members = (member_search(user=request.user, query=query, perm=MANAGE)[:20]
               if query else [])
    return render(request, "archive/record_enrol_search.html",
                  {"query": query, "members": members})


def _enrol_page(request, *, member, submit, done: str, heading: str, record=None,
                history=()):
    """The enrolment form with its preview, for a first enrolment and for a returned record
    sent again: ``submit(profile, reason)`` calls the service."""
    profiles = _profiles(member)
    form = EnrolForm(request.POST or None, profiles=profiles,
                     initial={"reason": record.reason} if record is not None else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = submit(form.cleaned_data["profile"], form.cleaned_data["reason"])
            except ServiceError as exc:
                apply_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, done)
                return redirect("archive:record-detail", pk=saved.pk)
        else:
            status = 400
    chosen = form.cleaned_data.get("profile") if form.is_bound and hasattr(
        form, "cleaned_data") else None
    precheck = services.record_precheck(member=member, profile=chosen, actor=request.user,
                                        resubmitting=record)
    return render(request, "archive/record_enrol.html", {
        "member": member, "form": form, "precheck": precheck, "record": record,
        "has_profile": profiles.exists(),
        "visit_url": f"/visits/new/?{urlencode({'member': member.pk})}",
        "heading": heading, "history": history,
    }, status=status)


@perm_required(MANAGE)
@require_http_methods(["GET", "POST"])
def record_enrol_view(request, member_pk: int):
    """Preview the category on the member's latest profile, then enrol (建档)."""
    member = or_404(member_get_for_user, user=request.user, pk=member_pk, perm=MANAGE)
    return _enrol_page(
        request, member=member, done=_("已提交建档申请，进入审批与公示。"),
        heading=_("困难职工建档"), history=record_history(member=member),
        submit=lambda profile, reason: services.record_enrol(
            actor=request.user, member=member, profile=profile, reason=reason))


@perm_required(MANAGE)
@require_http_methods(["GET", "POST"])
def record_resubmit_view(request, pk: int):
    record = _get(request, pk)
    if not (_can_manage(request.user, record) and record.status == RecordStatus.RETURNED):
        raise Http404()
    return _enrol_page(
        request, member=record.member, record=record, done=_("已重新提交建档申请。"),
        heading=_("补充后重新提交建档"),
        submit=lambda profile, reason: services.record_resubmit(
            actor=request.user, record=record, profile=profile, reason=reason))


@perm_required(MANAGE)
@require_POST
def record_withdraw_view(request, pk: int):
    record = _get(request, pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        services.record_withdraw(actor=request.user, record=record,
                                 reason=form.cleaned_data.get("reason", ""))
    except ServiceError as exc:
        return _render_error(request, record, exc)
    messages.success(request, _("已撤回。"))
    return redirect("archive:record-detail", pk=record.pk)


# -- exit / close / re-check ------------------------------------------------------------------

def _action_page(request, record, form, *, title: str, template: str = "archive/record_action.html",
                 status: int = 200, **extra):
    return render(request, template, {"record": record, "member": record.member, "form": form,
                                      "title": title, **extra}, status=status)


@perm_required(MANAGE)
@require_http_methods(["GET", "POST"])
def record_exit_view(request, pk: int):
    record = _get(request, pk)
    if not _can_manage(request.user, record):
        raise Http404()
    form = ExitForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.record_exit_apply(actor=request.user, record=record,
                                           reason=form.cleaned_data["reason"])
            except ServiceError as exc:
                apply_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("已提交解困脱困申请，进入审批与公示。"))
                return redirect("archive:record-detail", pk=record.pk)
        else:
            status = 400
    return _action_page(request, record, form, title=_("申请解困脱困"), status=status,
                        submit_label=_("提交脱困申请"), action="exit")


@perm_required(MANAGE)
@require_http_methods(["GET", "POST"])
def record_close_view(request, pk: int):
    record = _get(request, pk)
    if not _can_manage(request.user, record):
        raise Http404()
    form = CloseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.record_close(actor=request.user, record=record,
                                      reason=form.cleaned_data["reason"],
                                      on=form.cleaned_data["on"], note=form.cleaned_data["note"])
            except ServiceError as exc:
                apply_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("已销档。"))
                return redirect("archive:record-detail", pk=record.pk)
        else:
            status = 400
    return _action_page(request, record, form, title=_("销档"), status=status,
                        submit_label=_("确认销档"), action="close",
                        confirm=_("销档后档案结束，确定销档吗？"))


@perm_required(MANAGE)
@require_http_methods(["GET", "POST"])
def record_recheck_view(request, pk: int):
    record = _get(request, pk)
    if not _can_manage(request.user, record):
        raise Http404()
    profiles = _profiles(record.member)
    form = RecheckForm(request.POST or None, profiles=profiles)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                recheck = recheck_record(actor=request.user, record=record,
                                         profile=form.cleaned_data["profile"],
                                         note=form.cleaned_data["note"])
            except ServiceError as exc:
                apply_service_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("已完成复核：%(outcome)s。")
                                 % {"outcome": recheck.get_outcome_display()})
                return redirect("archive:record-detail", pk=record.pk)
        else:
            status = 400
    chosen = form.cleaned_data.get("profile") if form.is_bound and hasattr(
        form, "cleaned_data") else None
    precheck = {"problems": [], "result": None}
    try:
        profile = chosen or profiles.first()
        if profile is not None:
            precheck["result"] = services.evaluate(member=record.member, profile=profile)
    except ServiceError as exc:
        precheck["problems"].append(exc.message)
    return _action_page(request, record, form, title=_("年度复核"), status=status,
                        submit_label=_("保存复核结论"), action="recheck", precheck=precheck,
                        has_profile=profiles.exists(),
                        visit_url=f"/visits/new/?{urlencode({'member': record.member_id})}")


# -- objections ------------------------------------------------------------------------------

@perm_required(VIEW)
@require_POST
def objection_create(request, pk: int):
    record = _get(request, pk)
    form = ObjectionForm(request.POST)
    if not form.is_valid():
        return render(request, "archive/record_detail.html",
                      _detail_context(request, record, objection_form=form), status=400)
    try:
        objection_services.objection_record(
            actor=request.user, record=record,
            raised_by_label=form.cleaned_data["raised_by_label"],
            content=form.cleaned_data["content"])
    except ServiceError as exc:
        apply_service_error(form, exc)
        return _render_error(request, record, exc, objection_form=form)
    messages.success(request, _("已登记异议；核实处理前不能审批通过。"))
    return redirect("archive:record-detail", pk=record.pk)


@perm_required(VIEW)
@require_POST
def objection_resolve(request, pk: int):
    objection = or_404(objection_get_for_user, user=request.user, pk=pk)
    record = objection.record
    form = ObjectionResolveForm(request.POST, prefix=f"o{objection.pk}")
    if not form.is_valid():
        exc = ServiceError(_("请选择核实结论并填写处理结果。"), code="validation_error")
        return _render_error(request, _get(request, record.pk), exc)
    try:
        objection_services.objection_resolve(actor=request.user, objection=objection,
                                             upheld=form.cleaned_data["upheld"],
                                             resolution=form.cleaned_data["resolution"])
    except ServiceError as exc:
        return _render_error(request, _get(request, record.pk), exc)
    messages.success(request, _("已记录核实处理结果。"))
    return redirect(reverse("archive:record-detail", args=[record.pk]) + "#objections")
