from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from unionaid.accounts.access import access_for


@login_required
def home(request):
    return render(request, "web/home.html", {"access": access_for(request.user)})


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
