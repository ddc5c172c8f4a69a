"""Reads of the in-app inbox. A user only ever sees their own notifications."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from unionaid.audit.scoped import get_in_scope, scoped_getter
from unionaid.notifications.models import ChannelPreference, Delivery, Notification

# The badge stops counting here ("99+"): no COUNT over a long unread history.
BADGE_CAP = 99


def notifications_for(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient_id=user.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-pk")


def unread_count(*, user, cap: int = BADGE_CAP) -> int:
    """How many unread notifications, counted up to ``cap + 1`` (uses the inbox index)."""
    return notifications_for(user=user, unread_only=True)[: cap + 1].count()


@scoped_getter
def notification_get_for_user(*, user, pk) -> Notification:
    """One of the user's own notifications; anybody else's looks like "not found"."""
    return get_in_scope(
        user=user, pk=pk, perm="notifications.view", queryset=Notification.objects.all(),
        scope=Q(recipient_id=getattr(user, "pk", None)), target_type="notifications.notification",
    )


def preference_for(*, user) -> ChannelPreference:
    """The user's channel preference; an unsaved "in-app only" one when they chose nothing."""
    return (ChannelPreference.objects.filter(user_id=user.pk).first()
            or ChannelPreference(user=user))


def deliveries_recent(*, status: str = "") -> QuerySet[Delivery]:
    """Deliveries newest first, optionally of one status (the system admin's page)."""
    qs = Delivery.objects.defer("recipient", "payload")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


def delivery_counts(*, days: int = 7) -> dict[str, int]:
    """How many deliveries of each status were created in the last ``days`` days."""
    since = timezone.now() - dt.timedelta(days=days)
    return dict(Delivery.objects.filter(created_at__gte=since).order_by()
                .values_list("status").annotate(n=Count("pk")))
