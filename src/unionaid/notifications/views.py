"""The in-app inbox (消息通知): list, mark one or all read, open a notification's page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from unionaid.core.http import cheap_page, or_404
from unionaid.notifications import selectors, services

PAGE_SIZE = 30


def safe_link(request, link: str) -> str:
    """A notification's link if it points into this site, else ""."""
    if link and link.startswith("/") and url_has_allowed_host_and_scheme(
            link, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return link
    return ""


@login_required
@require_GET
def inbox(request):
    unread_only = request.GET.get("unread") == "1"
    notes = selectors.notifications_for(user=request.user, unread_only=unread_only)
    page = cheap_page(notes, request.GET.get("page"), size=PAGE_SIZE)
    return render(request, "notifications/inbox.html", {
        "page": page, "unread_only": unread_only,
        "page_base": "unread=1" if unread_only else "",
    })


@login_required
@require_POST
def mark_read(request, pk: int):
    note = or_404(selectors.notification_get_for_user, user=request.user, pk=pk)
    services.notification_mark_read(user=request.user, notification_id=note.pk)
    if request.headers.get("HX-Request"):
        note.refresh_from_db()
        return render(request, "notifications/_notification_row.html", {"note": note})
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request):
    count = services.notification_mark_all_read(user=request.user)
    messages.success(request, _("已将 %(n)s 条消息标为已读。") % {"n": count})
    return redirect("notifications:inbox")


@login_required
@require_POST
def open_link(request, pk: int):
    """Mark read and go to the page the notification is about."""
    note = or_404(selectors.notification_get_for_user, user=request.user, pk=pk)
    services.notification_mark_read(user=request.user, notification_id=note.pk)
    return redirect(safe_link(request, note.link) or "notifications:inbox")
