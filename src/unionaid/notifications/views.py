"""The in-app inbox (消息通知): list, mark one or all read, open a notification's page; the
user's own choice of outbound channels; the system admin's list of deliveries."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from unionaid.accounts.views import perm_required
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error, cheap_page, or_404
from unionaid.core.masking import mask_phone
from unionaid.notifications import contacts, deliveries, selectors, services
from unionaid.notifications.forms import PreferenceForm
from unionaid.notifications.models import Delivery, DeliveryStatus

PAGE_SIZE = 30
SYSTEM_PERM = "system.config"


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


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """The user's own choice of channels (短信 / 微信 / 邮件) besides the inbox."""
    preference = selectors.preference_for(user=request.user)
    initial = {"sms": preference.sms, "wechat": preference.wechat, "email": preference.email}
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.preference_save(actor=request.user, **form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("接收方式已保存。"))
            return redirect("notifications:preferences")
    roster_phone = contacts.phone_from_sources(request.user)
    return render(request, "notifications/preferences.html", {
        "form": form,
        "phone_masked": mask_phone(preference.phone or roster_phone),
        "phone_from_roster": bool(roster_phone and not preference.phone),
        "email_masked": contacts.mask_email(preference.email_address or request.user.email)
        if (preference.email_address or request.user.email) else "",
        "wechat_bound": bool(preference.wechat_openid),
    })


@perm_required(SYSTEM_PERM)
@require_GET
def delivery_list(request):
    """Recent deliveries by status, recipients masked; failed ones can be queued again."""
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    page = cheap_page(selectors.deliveries_recent(status=status), request.GET.get("page"),
                      size=PAGE_SIZE)
    counts = selectors.delivery_counts()
    return render(request, "notifications/delivery_list.html", {
        "page": page, "status": status, "page_base": f"status={status}" if status else "",
        "statuses": [(value, label, counts.get(value, 0))
                     for value, label in DeliveryStatus.choices],
    })


@perm_required(SYSTEM_PERM)
@require_POST
def delivery_retry(request, pk: int):
    try:
        deliveries.delivery_retry(actor=request.user, delivery_id=pk)
    except Delivery.DoesNotExist:
        raise Http404() from None
    except ServiceError:
        messages.error(request, _("只有发送失败且内容仍在的消息才能重新发送。"))
    else:
        messages.success(request, _("已重新排队发送。"))
    return redirect(f"{reverse('notifications:deliveries')}?status=failed")
