"""The matching part of the member page (members/panels.py): the external lists the worker is
on (linked matches of each dataset's current run), with a link to each run's results."""

from __future__ import annotations

from django.db.models import F

from unionaid.matching.models import Match
from unionaid.matching.selectors import VIEW, matches_visible_to
from unionaid.members.panels import MemberPanel

SHOWN = 10


def member_part(user, member) -> dict | None:
    matches = list(
        matches_visible_to(user=user, perm=VIEW).filter(
            member=member, status__in=Match.LINKED, run=F("dataset__current_run"))
        .order_by("-dataset__created_at", "pk")[:SHOWN])
    return {"matches": matches} if matches else None


PANEL = MemberPanel(key="matching", order=40, permission=VIEW, context=member_part,
                    template="matching/_member_panel.html")
