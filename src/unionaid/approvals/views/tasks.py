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
    same_decider,
    task_get_for_user,
    todo_for_user,
)
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404


def subject_labels(cases) -> dict[int, str]:
    """Labels of the cases' subjects by case id: one ``labels`` call (one query) per kind."""
    by_kind: dict[str, list] = {}
    for case in cases:
        by_kind.setdefault(case.subject_kind, []).append(case)
    out = {}
    for kind, group in by_kind.items():
        labels = (registry.subject_handler(kind).labels({c.subject_id for c in group})
                  if registry.has_subject(kind) else {})
        for case in group:
            out[case.pk] = labels.get(case.subject_id) or f"{kind}#{case.subject_id}"
    return out


def todo_rows(tasks) -> list[dict]:
    """What a to-do row shows; the labels of a whole page come from one query per kind."""
    labels = subject_labels([t.case for t in tasks])
    return [{
        "task": task,
        "applicant": task.case.applicant.name,
        "unit": task.case.org_unit.name,
        "subject": labels[task.case.pk],
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
    """The task, its case and the decision; the subject shows its panel (or its fact rows).
    ``task_get_for_user`` found the task, so its kind is registered."""
    case = task.case
    user = request.user
    subject = registry.subject_handler(case.subject_kind)
    current = (case.status == CaseStatus.IN_PROGRESS and task.status == TaskStatus.PENDING
               and task.order == case.current_order)
    authority = assignees.authority(user, task) if current else None
    same = (same_decider(task, actor=user, on_behalf_of=authority.on_behalf_of)
            if authority is not None else None)
    context = {
        "task": task, "case": case, "form": form,
        "can_decide": authority is not None and (same is None or same.allowed),
        "authority": authority,
        "same_decider": same,
        "is_self": authority is not None and assignees.is_self_or_household(user=user, case=case),
        "timeline": case_timeline(case=case, include_upcoming=True, viewer=user),
        "subject_label": subject_labels([case])[case.pk],
        "subject_link": subject.link(case.subject_id),
        "subject_link_text": subject.link_text,
        "panel_template": "",
        "fact_rows": [],
    }
    panel = subject.task_panel(user=user, case=case)
    if panel is None:
        context["fact_rows"] = subject.fact_rows(case)
    else:
        context["panel_template"], panel_context = panel
        context.update(panel_context)
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
