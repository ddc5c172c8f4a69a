"""What other domains show on the member page (职工详情): panels of 帮扶概况 and head actions.

members sits below the domains that help a worker (archive, visits, assistance …) and imports
none of them. Each registers, in its ``AppConfig.ready()``:

- a ``MemberPanel``: one part of the 帮扶概况 card. The page asks its ``context`` function only of
  users who hold ``permission`` somewhere; the function applies the scope and returns the part's
  context, or ``None`` when the user's rights don't reach this member or there is nothing to say.
  A part that is not ``None`` is rendered with the panel's own ``template`` (``<dt>``/``<dd>``
  rows; it sees ``part``, ``member`` and the page's context).
- a ``MemberAction``: buttons in the page head (``template``; it sees ``member``, ``summary``
  (every panel's part by key) and ``perms_held``, and shows only what the user may do).

Nothing is shown that was not registered; there is no default panel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from unionaid.core.access import access_for
from unionaid.members.models import Member


@dataclass(frozen=True)
class MemberPanel:
    key: str  # the part's name in the page's ``summary`` (e.g. "archive")
    order: int  # position in 帮扶概况, smallest first
    permission: str  # never asked of a user without it
    context: Callable[[Any, Member], dict | None]  # (user, member) -> the part, or None
    template: str
    stylesheet: str = ""  # a static path the page links while the part shows


@dataclass(frozen=True)
class MemberAction:
    key: str
    order: int  # position in the page head, smallest first
    template: str


_panels: dict[str, MemberPanel] = {}
_actions: dict[str, MemberAction] = {}


def register_member_panel(panel: MemberPanel) -> None:
    """Register ``panel`` (registering its key again replaces it)."""
    _panels[panel.key] = panel


def unregister_member_panel(key: str) -> None:
    _panels.pop(key, None)


def register_member_action(action: MemberAction) -> None:
    _actions[action.key] = action


def unregister_member_action(key: str) -> None:
    _actions.pop(key, None)


def member_panels() -> list[MemberPanel]:
    return sorted(_panels.values(), key=lambda p: (p.order, p.key))


def member_actions() -> list[MemberAction]:
    return sorted(_actions.values(), key=lambda a: (a.order, a.key))


def member_panel_parts(*, user, member: Member) -> list[tuple[MemberPanel, dict | None]]:
    """Every registered panel with its part for ``user`` on ``member``'s page, in order."""
    access = access_for(user)
    return [
        (panel, panel.context(user, member) if access.has_perm(panel.permission) else None)
        for panel in member_panels()
    ]
