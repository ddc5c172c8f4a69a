from __future__ import annotations

from django.db import transaction
from django.utils import timezone

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
