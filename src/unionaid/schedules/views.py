"""The system admin's schedules page (定时任务): every registered job with its schedule in words
and its next times, on/off, its last run and its failures to acknowledge; one job's page edits
the expression and shows its recent runs. Thin: reads through the selectors, each change through
one service (which checks the right again and journals it)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from unionaid.accounts.views import perm_required
from unionaid.core.errors import NotFound, ServiceError
from unionaid.core.http import apply_service_error
from unionaid.schedules import selectors, services
from unionaid.schedules.access import PERMISSION
from unionaid.schedules.forms import ScheduleForm


def _view_or_404(request, key: str):
    try:
        return selectors.schedule_view(user=request.user, key=key)
    except NotFound:
        raise Http404() from None


@perm_required(PERMISSION)
def schedule_list(request):
    views = selectors.schedules_overview(user=request.user)
    return render(request, "schedules/schedule_list.html", {
        "views": views, "failures": sum(v.failures for v in views),
        "late": [v for v in views if v.late_slot]})


@perm_required(PERMISSION)
@require_http_methods(["GET", "POST"])
def schedule_detail(request, key: str):
    view = _view_or_404(request, key)
    initial = {"expression": view.schedule.expression, "enabled": view.schedule.enabled}
    form = ScheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.schedule_update(actor=request.user, key=key,
                                     expression=form.cleaned_data["expression"],
                                     enabled=form.cleaned_data["enabled"])
        except NotFound:
            raise Http404() from None
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("已保存“%(job)s”的运行时间。") % {"job": view.job.label})
            return redirect("schedules:detail", key=key)
    return render(request, "schedules/schedule_detail.html", {
        "view": view, "form": form, "runs": selectors.runs_recent(view=view)})


def _act(request, key: str, action, done: str):
    try:
        action(actor=request.user, key=key)
    except NotFound:
        raise Http404() from None
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    target = request.POST.get("back") == "list"
    return redirect("schedules:list") if target else redirect("schedules:detail", key=key)


@perm_required(PERMISSION)
@require_POST
def schedule_enabled(request, key: str):
    """The list's on/off switch (``enabled`` = 1 or 0)."""
    enabled = request.POST.get("enabled") == "1"

    def switch(*, actor, key):
        services.schedule_update(actor=actor, key=key, enabled=enabled)

    return _act(request, key, switch, _("已启用。") if enabled else _("已停用。"))


@perm_required(PERMISSION)
@require_POST
def schedule_run(request, key: str):
    return _act(request, key, services.schedule_run_request,
                _("已请求立即运行：调度程序将在一分钟内执行，结果见运行记录。"))


@perm_required(PERMISSION)
@require_POST
def schedule_acknowledge(request, key: str):
    return _act(request, key, services.schedule_failures_acknowledge,
                _("已确认失败记录，不再列入待办。"))
