"""An approver's pages: the to-do list (their posts' tasks and their named tasks, oldest first,
overdue marked), one task with its case and the decision, batch approval, and the review after
a fast-tracked case. Every task URL loads it through ``task_get_for_user``: out of scope = 404.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from unionaid.approvals import assignees, registry, services
from unionaid.approvals.forms import BatchForm, DecisionForm, ReviewForm, TodoFilterForm
from unionaid.approvals.models import CaseStatus, TaskStatus
from unionaid.approvals.selectors import (
    case_timeline,
    fast_track_reviews_for_user,
    reach_for,
    same_decider,
    task_get_for_user,
    todo_filtered,
    todo_item_choices,
    todo_next,
    todo_slice,
    todo_units_for_user,
)
from unionaid.approvals.views.todo_table import todo_table_rows
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404
from unionaid.org.selectors import level_names


def subject_labels(rows) -> dict[int, str]:
    """Labels of the rows' case subjects by case id (``subject_kind``, ``subject_id`` and
    ``case_id`` of a ``TodoRow`` or the ``subject_kind``, ``subject_id`` and ``pk`` of a case):
    one ``labels`` call (one query) per kind."""
    by_kind: dict[str, list] = {}
    for row in rows:
        by_kind.setdefault(row.subject_kind, []).append(row)
    out = {}
    for kind, group in by_kind.items():
        labels = (registry.subject_handler(kind).labels({r.subject_id for r in group})
                  if registry.has_subject(kind) else {})
        for row in group:
            case_id = getattr(row, "case_id", None) or row.pk
            out[case_id] = labels.get(row.subject_id) or f"{kind}#{row.subject_id}"
    return out


def todo_rows(rows) -> list[dict]:
    """What a to-do row shows (``TodoRow`` of ``todo_slice``); the labels of a whole page
    come from one query per kind."""
    labels = subject_labels(rows)
    base = reverse("approvals:task-detail", args=[0])[:-2]  # ".../tasks/" (reverse once)
    return [{"task": row, "url": f"{base}{row.pk}/", "subject": labels[row.case_id]}
            for row in rows]


def _filter_form(request) -> TodoFilterForm:
    """The to-do list's filter, from the query string (the list, the task page and the batch
    all carry it)."""
    data = {k: v for k, v in request.GET.items() if k != "page"}
    return TodoFilterForm(data or None, items=todo_item_choices(),
                          units=todo_units_for_user(user=request.user), levels=level_names())


def _with_filter(url: str, form: TodoFilterForm) -> str:
    carried = form.carried()
    return f"{url}?{urlencode(carried)}" if carried else url


@login_required
@require_GET
def todo(request):
    form = _filter_form(request)
    reach = reach_for(request.user)  # the list and the reviews: one look at posts, delegations
    page = cheap_page(todo_filtered(user=request.user, flt=form.as_filter(), reach=reach),
                      request.GET.get("page"), fetch=todo_slice)
    rows = todo_rows(page.rows)
    carried = form.carried()
    filter_qs = urlencode(carried)
    return render(request, "approvals/todo.html", {
        "page": page, "rows": rows, "row_html": todo_table_rows(rows, filter_qs=filter_qs), "any_batch": any(r["task"].allow_batch for r in rows),
        "reviews": list(fast_track_reviews_for_user(user=request.user, reach=reach)[:50]),
        "batch_form": BatchForm(), "filter_form": form, "filter_qs": filter_qs,
        "page_base": filter_qs, "filtered": bool(carried),
        "more_filters": bool(set(carried) - {"q"}),
    })


@login_required
@require_POST
def todo_batch(request):
    """Approve the ticked tasks at once; the engine refuses the whole batch if one of them is
    not batchable, not the user's, or not current (all or none)."""
    back = _with_filter(reverse("approvals:todo"), _filter_form(request))
    form = BatchForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["task"]:
        messages.error(request, _("您没有勾选任何待办，未办理。请先勾选允许批量审批的待办。"))
        return redirect(back)
    try:
        done = services.tasks_decide_batch(actor=request.user, task_ids=form.cleaned_data["task"],
                                           decision="approve",
                                           comment=form.cleaned_data["comment"])
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已批量同意 %(n)s 件。") % {"n": len(done)})
    return redirect(back)


def _authority(user, task):
    """How the user may decide the task now (None: not theirs, or not its case's current step)."""
    case = task.case
    current = (case.status == CaseStatus.IN_PROGRESS and task.status == TaskStatus.PENDING
               and task.order == case.current_order)
    return assignees.authority(user, task) if current else None


def _may_decide(user, task) -> bool:
    """Would the engine take the user's decision (else it answers its own refusal)?"""
    authority = _authority(user, task)
    if authority is None or assignees.is_self_or_household(user=user, case=task.case):
        return False
    same = same_decider(task, actor=user, on_behalf_of=authority.on_behalf_of)
    return same is None or same.allowed


def _task_context(request, task, form) -> dict:
    """The task, its case and the decision; the subject shows its panel (or its fact rows).
    ``task_get_for_user`` found the task, so its kind is registered."""
    case = task.case
    user = request.user
    subject = registry.subject_handler(case.subject_kind)
    authority = _authority(user, task)
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


def _after_decision(request, task, label: str, filters: TodoFilterForm):
    """On to the next task of the same filtered list, or back to the list when none is left."""
    following = todo_next(user=request.user, flt=filters.as_filter(), after=task)
    if following is None:
        messages.success(request, _("已办理：%(d)s。列表中的待办已全部办理完毕。") % {"d": label})
        return redirect(_with_filter(reverse("approvals:todo"), filters))
    messages.success(request, _("已办理：%(d)s。接着办理下一件。") % {"d": label})
    return redirect(_with_filter(reverse("approvals:task-detail", args=[following.pk]), filters))


@login_required
@require_http_methods(["GET", "POST"])
def task_detail(request, pk: int):
    task = or_404(task_get_for_user, user=request.user, pk=pk)
    filters = _filter_form(request)
    form = DecisionForm(request.POST or None)
    status, confirm_reject = 200, False
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        elif form.needs_confirmation() and _may_decide(request.user, task):
            confirm_reject = True  # a rejection ends the case: ask once more, decide nothing
        else:
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
                return _after_decision(request, task, label, filters)
    context = _task_context(request, task, form)
    context.update(confirm_reject=confirm_reject, filter_qs=urlencode(filters.carried()))
    return render(request, "approvals/task_detail.html", context, status=status)


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
