"""An approver's pages: the to-do list (their posts' tasks and their named tasks, oldest first,
overdue marked), one task with its case and the decision, batch approval, and the review after
a fast-tracked case. Every task URL loads it through ``task_get_for_user``: out of scope = 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from unionaid.approvals import assignees, registry, services
from unionaid.approvals.forms import BatchForm, DecisionForm, ReviewForm
from unionaid.approvals.models import CaseStatus, TaskStatus
from unionaid.approvals.selectors import (
    case_timeline,
    fast_track_reviews_for_user,
    task_get_for_user,
    todo_for_user,
)
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404

APPLICATION_KIND = "assistance.application"


def _item_names(codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    from unionaid.assistance.selectors import catalog_items

    return dict(catalog_items(include_inactive=True).filter(code__in=codes)
                .values_list("code", "name"))


def _subject_label(case, names: dict[str, str]) -> str:
    if case.subject_kind == APPLICATION_KIND:
        code = (case.facts or {}).get("item_code", "")
        return names.get(code, code)
    if registry.has_subject(case.subject_kind):
        return registry.subject_handler(case.subject_kind).label(case.subject_id)
    return f"{case.subject_kind}#{case.subject_id}"


def todo_rows(tasks) -> list[dict]:
    """What a to-do row shows; the item names of a whole page come from one query."""
    names = _item_names({(t.case.facts or {}).get("item_code", "") for t in tasks
                         if t.case.subject_kind == APPLICATION_KIND} - {""})
    return [{
        "task": task,
        "applicant": task.case.applicant.name,
        "unit": task.case.org_unit.name,
        "subject": _subject_label(task.case, names),
        "amount": (task.case.facts or {}).get("amount"),
        "fast_track": task.case.fast_track,
        "assignee": assignees.task_assignee_label(task),
        "batchable": task.step.allow_batch,
    } for task in tasks]


@login_required
@require_GET
def todo(request):
    page = cheap_page(todo_for_user(user=request.user), request.GET.get("page"))
    rows = todo_rows(page.rows)
    return render(request, "approvals/todo.html", {
        "page": page, "rows": rows, "any_batch": any(r["batchable"] for r in rows),
        "reviews": list(fast_track_reviews_for_user(user=request.user)[:50]),
        "batch_form": BatchForm(),
    })


@login_required
@require_POST
def todo_batch(request):
    """Approve the ticked tasks at once; the engine refuses the whole batch if one of them is
    not batchable, not the user's, or not current (all or none)."""
    form = BatchForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["task"]:
        messages.error(request, _("请先勾选允许批量审批的待办。"))
        return redirect("approvals:todo")
    try:
        done = services.tasks_decide_batch(actor=request.user, task_ids=form.cleaned_data["task"],
                                           decision="approve",
                                           comment=form.cleaned_data["comment"])
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已批量同意 %(n)s 件。") % {"n": len(done)})
    return redirect("approvals:todo")


def _task_context(request, task, form) -> dict:
    case = task.case
    user = request.user
    current = (case.status == CaseStatus.IN_PROGRESS and task.status == TaskStatus.PENDING
               and task.order == case.current_order)
    authority = assignees.authority(user, task) if current else None
    context = {
        "task": task, "case": case, "form": form,
        "can_decide": authority is not None,
        "authority": authority,
        "is_self": authority is not None and assignees.is_self_or_household(user=user, case=case),
        "timeline": case_timeline(case=case, include_upcoming=True),
        "subject_label": _subject_label(case, _item_names(
            {(case.facts or {}).get("item_code", "")} - {""})),
        "application": None,
        "subject_link": "",
        "fact_rows": list((case.facts or {}).items()),
    }
    if case.subject_kind != APPLICATION_KIND and registry.has_subject(case.subject_kind):
        handler = registry.subject_handler(case.subject_kind)
        link = getattr(handler, "link", None)
        context["subject_link"] = link(case.subject_id) if link else ""
        fact_rows = getattr(handler, "fact_rows", None)
        if fact_rows is not None:
            context["fact_rows"] = fact_rows(case)
    if case.subject_kind == APPLICATION_KIND:
        from unionaid.assistance.views.display import application_for_case, application_panels

        application, materials_visible = application_for_case(user=user, case=case)
        if application is not None:
            panels = application_panels(user=user, application=application)
            panels.pop("timeline")  # this page shows the timeline of the task's own case
            context.update(panels, application=application, materials_visible=materials_visible)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def task_detail(request, pk: int):
    task = or_404(task_get_for_user, user=request.user, pk=pk)
    form = DecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            decision = form.cleaned_data["decision"]
            try:
                services.task_decide(actor=request.user, task=task, decision=decision,
                                     comment=form.cleaned_data["comment"])
            except ServiceError as exc:
                apply_service_error(form, exc)
                status = exc.status
                task = or_404(task_get_for_user, user=request.user, pk=pk)
            else:
                label = dict(form.fields["decision"].choices)[decision]
                messages.success(request, _("已办理：%(d)s。") % {"d": label})
                return redirect("approvals:todo")
        else:
            status = 400
    return render(request, "approvals/task_detail.html", _task_context(request, task, form),
                  status=status)


@login_required
@require_POST
def fast_track_review(request, pk: int):
    case = fast_track_reviews_for_user(user=request.user).filter(pk=pk).first()
    if case is None:
        raise Http404()
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写事后审核意见。"))
        return redirect("approvals:todo")
    try:
        services.fast_track_review(actor=request.user, case=case,
                                   comment=form.cleaned_data["comment"])
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已完成特事特办事后审核。"))
    return redirect("approvals:todo")
