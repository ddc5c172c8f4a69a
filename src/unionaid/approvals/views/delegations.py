"""委托代办: an approver lets a colleague decide their tasks while away. One page lists the
delegations the user gave and received (running, to come, ended), creates one and ends one;
the engine (``services.delegation_create``/``delegation_end``) checks every rule: only
approvers delegate (never the auditor's read-only posts), and only to an approver of the same
unit."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from unionaid.accounts.models import User
from unionaid.approvals import assignees, services
from unionaid.approvals.forms import DelegationForm
from unionaid.approvals.selectors import (
    delegate_candidates,
    delegation_given_by,
    delegations_of,
)
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error


@login_required
@require_http_methods(["GET", "POST"])
def delegation_list(request):
    user = request.user
    may_delegate = bool(assignees.deciding_posts(user))
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = DelegationForm(request.POST or None, initial={
        "starts_at": now, "ends_at": now + dt.timedelta(days=7)},
        candidates=delegate_candidates(user=user) if may_delegate else ())
    status, refusal = 200, ""
    if request.method == "POST" and not may_delegate:
        # the engine's refusal (not_an_approver), whatever was posted
        refusal, status = _("只有审批岗位的人员可以委托代办。"), 403
    elif request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            to_user = User.objects.filter(username__iexact=data["to_username"].strip(),
                                          is_active=True).first()
            try:
                if to_user is None:  # the service's answer for anyone without a post
                    raise ServiceError(_("代办人须为在岗的工作人员。"), code="delegate_not_staff",
                                       fields={"to_user": _("代办人须为在岗的工作人员。")})
                delegation = services.delegation_create(
                    actor=user, to_user=to_user, starts_at=data["starts_at"],
                    ends_at=data["ends_at"], reason=data["reason"])
            except ServiceError as exc:
                apply_service_error(form, ServiceError(
                    exc.message, code=exc.code,
                    fields={("to_username" if k == "to_user" else k): v
                            for k, v in (exc.fields or {}).items()}))
                status = exc.status
            else:
                messages.success(request, _("已委托 %(name)s 代办，至 %(end)s。") % {
                    "name": delegation.to_user.display_name,
                    "end": timezone.localtime(delegation.ends_at).strftime("%Y-%m-%d %H:%M")})
                return redirect("approvals:delegations")
        else:
            status = 400
    return render(request, "approvals/delegations.html", {
        **delegations_of(user=user), "form": form, "may_delegate": may_delegate,
        "refusal": refusal,
    }, status=status)


@login_required
@require_POST
def delegation_end(request, pk: int):
    delegation = delegation_given_by(user=request.user, pk=pk)
    if delegation is None:
        raise Http404()
    try:
        services.delegation_end(actor=request.user, delegation=delegation)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("委托已结束。"))
    return redirect("approvals:delegations")
