from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from unionaid.web.selectors import dashboard_for


@login_required
def home(request):
    return render(request, "web/home.html", {"dashboard": dashboard_for(user=request.user)})


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
