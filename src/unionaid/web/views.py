from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control

from unionaid.accounts.access import access_for
from unionaid.approvals.selectors import todo_for_user
from unionaid.funds.selectors import funds_todos
from unionaid.schedules.selectors import schedule_todos
from unionaid.web.dashboard import charts_for, figures_for
from unionaid.web.selectors import dashboard_for

# The to-do badge on the home page counts this far ("99+"): enough to say "there is work".
TODO_CAP = 99


@login_required
def home(request):
    access = access_for(request.user)
    if request.user.member_id and not access.is_staff_member:
        return redirect("portal:home")  # a worker without a post: their own pages
    todo_count, money_todos = None, []
    if access.is_staff_member:
        money_todos = funds_todos(user=request.user)  # batches to confirm, grants to pay
        # COUNT over a LIMITed subquery of the to-do selector (its two small lookups + one).
        todo_count = todo_for_user(user=request.user).order_by()[: TODO_CAP + 1].count()
    return render(request, "web/home.html", {
        "dashboard": dashboard_for(user=request.user),
        "charts": charts_for(user=request.user), "figures": figures_for(user=request.user),
        "todo_count": todo_count, "todo_cap": TODO_CAP, "funds_todos": money_todos,
        # the system admin's to-do: failed scheduled runs to acknowledge, jobs not run on time
        "schedule_todos": schedule_todos(user=request.user),
    })


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@cache_control(max_age=86400, public=True)
def favicon(request):
    """``/favicon.ico``, asked for by browsers and tools that don't read the page's
    ``<link rel="icon">``: the static icon (its hashed name when the static files are collected)."""
    return redirect(static("img/favicon.ico"))
