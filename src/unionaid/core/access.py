"""Asking a user's rights without knowing where they come from.

Rights are computed by ``accounts`` (``accounts/access.py``: posts → roles → grants), which sits
above ``org`` and ``audit``. Those lower layers still need to ask "may this user do X, where?",
so, as Django asks ``user.has_perm()`` of the user object, they ask the user: an authenticated
user carries its rights as ``user.access`` (the accounts ``User`` model computes them once per
request), an anonymous visitor has none. ``Rights`` names what callers may use; ``accounts``'
``Access`` is the one implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from django.db.models import Q

# Data scopes as stored on a role (``accounts.models.DataScope`` holds the labels).
SCOPE_ALL = "all"
SCOPE_UNIT_AND_BELOW = "unit_and_below"
SCOPE_UNIT = "unit"
SCOPE_SELF = "self"


class Grant(Protocol):
    """One role of one held post: its permissions over a scope at a unit."""

    permissions: frozenset[str]
    scope: str
    unit_id: int | None
    unit_path: str
    position_label: str


class Rights(Protocol):
    """What a user may do, where (see ``accounts.access.Access`` for the rules)."""

    user_id: int | None
    member_id: int | None
    position_labels: tuple[str, ...]

    @property
    def permissions(self) -> frozenset[str]: ...

    def has_perm(self, perm: str) -> bool: ...

    def grants_for(self, perm: str) -> Sequence[Grant]: ...

    def scope_q(
        self, perm: str, *, unit_field: str = "org_unit", self_field: str | None = None
    ) -> Q: ...

    def covers_unit(self, perm: str, unit: Any) -> bool: ...

    def covers_scope(self, perm: str, unit: Any, scope: str) -> bool: ...


class NoRights:
    """The rights of nobody (an anonymous visitor, no user at all): every answer is no."""

    user_id = None
    member_id = None
    position_labels: tuple[str, ...] = ()
    grants: tuple[Grant, ...] = ()

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset()

    def has_perm(self, perm: str) -> bool:
        return False

    def grants_for(self, perm: str) -> list[Grant]:
        return []

    def scope_q(
        self, perm: str, *, unit_field: str = "org_unit", self_field: str | None = None
    ) -> Q:
        return Q(pk__in=[])

    def covers_unit(self, perm: str, unit: Any) -> bool:
        return False

    def covers_scope(self, perm: str, unit: Any, scope: str) -> bool:
        return False


NO_RIGHTS = NoRights()


def access_for(user) -> Rights:
    """``user``'s rights: ``user.access`` for a logged-in user (computed once per request by
    the user model and cached on it), no rights for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_RIGHTS
    return user.access
