from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from unionaid.accounts.access import access_for
from unionaid.web.selectors import dashboard_for


@login_required
def home(request):
    if request.user.member_id and not access_for(request.user).is_staff_member:
        return redirect("portal:home")  # a worker without a post: their own pages
    return render(request, "web/home.html", {"dashboard": dashboard_for(user=request.user)})


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
