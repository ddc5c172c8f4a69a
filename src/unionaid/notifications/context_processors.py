"""``unread_count`` for the bell badge in base.html, counted only when a template uses it."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from unionaid.notifications.selectors import BADGE_CAP, unread_count


def notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_count": 0, "unread_cap": BADGE_CAP}
    return {"unread_count": SimpleLazyObject(lambda: unread_count(user=user)),
            "unread_cap": BADGE_CAP}
