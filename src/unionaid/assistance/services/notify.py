"""In-app (and SMS through the sender interface) notices about applications."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from unionaid.accounts.models import User
from unionaid.notifications.services import notify


def link(name: str, *args) -> str:
    """The URL of a named page, or "" while that page does not exist yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def notify_member(application, title: str, body: str) -> None:
    """Tell the worker, if they have a login: in the app, and by the channels they chose
    (text messages go to their roster phone unless they gave another)."""
    user = User.objects.filter(member_id=application.member_id, is_active=True).first()
    if user is None:
        return
    notify(recipient=user, title=title, body=body,
           link=link("portal:application-detail", application.pk))


def notify_users(users, title: str, body: str, url: str = "") -> None:
    for user in users:
        notify(recipient=user, title=title, body=body, link=url)
