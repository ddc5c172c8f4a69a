from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from unionaid.notifications import senders
from unionaid.notifications.models import Notification


def notify(*, recipient, title: str, body: str = "", link: str = "", phone: str = "") -> Notification:
    """Create an in-app notification; outbound channels run after the transaction commits."""
    note = Notification.objects.create(recipient=recipient, title=title[:100], body=body[:500],
                                       link=link[:200])
    if phone:
        def _send() -> None:
            for sender in senders.senders():
                sender.send(phone=phone, title=title, body=body)

        transaction.on_commit(_send)
    return note


def notification_mark_read(*, user, notification_id: int) -> int:
    return Notification.objects.filter(pk=notification_id, recipient=user,
                                       read_at__isnull=True).update(read_at=timezone.now())


def notification_mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now())


def send_code(phone: str, code: str, purpose: str) -> None:
    """Send a one-time code by SMS through every configured sender (minimal stand-in: the
    delivery-record version replaces it with the same signature)."""
    title = gettext("工会帮扶系统验证码")
    body = gettext("验证码 %(code)s，10分钟内有效，请勿告诉他人。") % {"code": code}
    for sender in senders.senders():
        sender.send(phone=phone, title=title, body=body)
