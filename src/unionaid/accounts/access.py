"""Who may do what, where: the one place that turns a user's current posts into rights.

A user's rights are the union of *grants*. Each current Assignment yields one grant per Role of
its Position: that role's permissions, applied with its data scope relative to the position's
unit. A worker's own login adds a self-only grant. Nothing else gives rights: not
``is_staff``, not ``is_superuser``.

``Access.scope_q(perm)`` turns the grants that carry ``perm`` into one ``Q`` over records; the
union of exactly those grants, never wider. Every scoped selector uses it.

Computing the grants costs two queries, and every request needs them, so each process keeps
the last ``Access`` of each user (``cached_access``) under a key that changes with anything the
grants are made of:

* the *access stamp* (``AccessStamp``, one row): database triggers (migration
  ``accounts.0003``) give it a new random value on every write to assignments, posts, a post's
  roles, roles and org units, whatever makes it (services, ``QuerySet.update``, a tree move,
  SQL), in the writing transaction — read with the rights when they are computed, and once
  per request to check them (in the API token's own query; a session pays one small query),
  a new value means "compute again";
* the user's ``is_active`` and ``member_id``, read with the user on every request;
* time: an entry is good only until the next start or end of one of the user's posts
  (``valid_until``), so a post that ends at midnight stops giving rights at midnight.

Without a stamp row (a test database just flushed) nothing is cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import BigIntegerField, Exists, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from unionaid.accounts.permissions import (
    SCOPE_BREADTH,
    WORKER_SELF_PERMISSIONS,
    DataScope,
    admin_duties,
)
from unionaid.core import memo


@dataclass(frozen=True)
class Grant:
    permissions: frozenset[str]
    scope: str
    unit_id: int | None
    unit_path: str
    position_label: str
    assignment_id: int | None = None


@dataclass(frozen=True)
class Access:
    user_id: int | None
    member_id: int | None
    grants: tuple[Grant, ...] = ()
    position_labels: tuple[str, ...] = field(default=())
    # (position id, label) of every post held when this access was computed
    positions: tuple[tuple[int, str], ...] = field(default=())
    # a confirmed second-factor device (TOTP): whoever turned it on is asked for it
    has_device: bool = False

    def held_position_label(self, position_id: int) -> str | None:
        """The label of ``position_id`` if the user holds that (active) post, else None."""
        return next((label for pk, label in self.positions if pk == position_id), None)

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset().union(*(g.permissions for g in self.grants))

    @property
    def duties(self) -> set[str]:
        return admin_duties(self.permissions)

    @property
    def is_staff_member(self) -> bool:
        return any(g.assignment_id for g in self.grants)

    def has_perm(self, perm: str) -> bool:
        return any(perm in g.permissions for g in self.grants)

    def grants_for(self, perm: str) -> list[Grant]:
        return [g for g in self.grants if perm in g.permissions]

    def scope_q(
        self, perm: str, *, unit_field: str = "org_unit", self_field: str | None = None
    ) -> Q:
        """A filter matching exactly the records this user may touch with ``perm``.

        ``unit_field`` is the lookup path from the record to its OrgUnit, ``self_field`` the
        lookup to the Member id the record belongs to (``"pk"`` for members themselves). Records
        that belong to no member (budgets, posts) pass no ``self_field``, and a self-only grant
        then matches nothing. No grant → a filter matching nothing.
        """
        q = Q(pk__in=[])
        for grant in self.grants_for(perm):
            if grant.scope == DataScope.ALL:
                return Q()
            if grant.scope == DataScope.UNIT_AND_BELOW:
                q |= Q(**{f"{unit_field}__path__startswith": grant.unit_path})
            elif grant.scope == DataScope.UNIT:
                q |= Q(**{f"{unit_field}_id": grant.unit_id})
            elif grant.scope == DataScope.SELF and self.member_id and self_field:
                q |= Q(**{self_field: self.member_id})
        return q

    def covers_unit(self, perm: str, unit) -> bool:
        """May this user act with ``perm`` on records of ``unit`` (the unit as a whole)?"""
        for grant in self.grants_for(perm):
            if grant.scope == DataScope.ALL:
                return True
            if grant.scope == DataScope.UNIT_AND_BELOW and unit.path.startswith(grant.unit_path):
                return True
            if grant.scope == DataScope.UNIT and unit.pk == grant.unit_id:
                return True
        return False

    def covers_scope(self, perm: str, unit, scope: str) -> bool:
        """Is the visible set "``scope`` at ``unit``" inside what this user holds with ``perm``?

        Used so that nobody grants a scope wider than their own.
        """
        for grant in self.grants_for(perm):
            if grant.scope == DataScope.ALL:
                return True
            if scope == DataScope.ALL:
                continue
            if grant.scope == DataScope.UNIT_AND_BELOW and unit.path.startswith(grant.unit_path):
                return True
            if (
                grant.scope == DataScope.UNIT
                and unit.pk == grant.unit_id
                and SCOPE_BREADTH[DataScope(scope)] <= SCOPE_BREADTH[DataScope.UNIT]
            ):
                return True
        return False


ANONYMOUS = Access(user_id=None, member_id=None)


def compute_access(user, *, at=None) -> Access:
    return _compute(user, at or timezone.now())[0]


# The access stamp (``AccessStamp``, defined on top of this module by accounts.models) read in
# the same query as the user's posts, so that the rights kept match the stamp they are kept by.
_STAMP_SQL = RawSQL("SELECT value FROM accounts_accessstamp WHERE id = 1", [],
                    output_field=BigIntegerField())


def _compute(user, at) -> tuple[Access, datetime | None, int | None]:
    """The user's rights at ``at``; until when they hold (the next start or end of one of the
    user's posts; None: no change ahead); the access stamp read with them (None: the user
    holds no post, or there is no stamp row)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS, None, None
    # Through the user's own relation: the models module builds ``User.access`` on this one.
    # Posts not ended yet, current and future: the future ones only say when rights change.
    assignments = (
        user.assignments.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
        .filter(position__is_active=True, position__org_unit__is_closed=False)
        .select_related("position__org_unit")
        .prefetch_related("position__roles")
        .annotate(access_stamp=_STAMP_SQL,
                  has_device=Exists(TOTPDevice.objects.filter(user_id=user.pk, confirmed=True)))
        .order_by("pk")
    )
    grants: list[Grant] = []
    labels: list[str] = []
    positions: list[tuple[int, str]] = []
    boundaries: list[datetime] = []
    stamp = None
    has_device = None
    for assignment in assignments:
        stamp = assignment.access_stamp
        has_device = assignment.has_device
        if assignment.starts_at > at:
            boundaries.append(assignment.starts_at)
            continue
        if assignment.ends_at is not None:
            boundaries.append(assignment.ends_at)
        position = assignment.position
        labels.append(f"{position.org_unit.name}·{position.name}")
        positions.append((position.pk, labels[-1]))
        for role in position.roles.all():
            grants.append(
                Grant(
                    permissions=frozenset(role.permissions),
                    scope=role.data_scope,
                    unit_id=position.org_unit_id,
                    unit_path=position.org_unit.path,
                    position_label=labels[-1],
                    assignment_id=assignment.pk,
                )
            )
    if user.member_id:
        grants.append(
            Grant(
                permissions=WORKER_SELF_PERMISSIONS,
                scope=DataScope.SELF,
                unit_id=None,
                unit_path="",
                position_label="",
            )
        )
    access = Access(
        user_id=user.pk, member_id=user.member_id, grants=tuple(grants),
        position_labels=tuple(labels), positions=tuple(positions),
        # kept with the rights: a device's writes change the stamp too (migration 0006); read
        # with the posts, or on its own for a user who holds none
        has_device=(user_has_device(user, confirmed=True) if has_device is None
                    else has_device),
    )
    return access, min(boundaries, default=None), stamp


# user id -> (key, access, valid until); per process, see the module's docstring
_CACHE: dict[int, tuple[tuple, Access, datetime | None]] = {}
CACHE_MAX_USERS = 20_000


def cached_access(user, *, stamp=None, read_stamp=None) -> Access:
    """The user's rights now, from this process's cache when nothing they are made of has
    changed. ``stamp``: the access stamp this request already read (the API token's query),
    else ``read_stamp()`` reads it — only when there is an entry to check; without one, the
    rights are computed with the stamp read in the same query, and kept when the user holds a
    post (a user without one costs that one query anyway)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    now = timezone.now()
    hit = _CACHE.get(user.pk)
    if hit is not None:
        if stamp is None and read_stamp is not None:
            stamp = read_stamp()
        memo.note_stamp(stamp)
        key = (stamp, user.is_active, user.member_id)
        if stamp is not None and hit[0] == key and (hit[2] is None or now < hit[2]):
            return hit[1]
    elif stamp is not None:
        memo.note_stamp(stamp)
    access, valid_until, seen = _compute(user, now)
    memo.note_stamp(seen)
    if seen is not None:
        if len(_CACHE) >= CACHE_MAX_USERS:
            _CACHE.clear()
        _CACHE[user.pk] = ((seen, user.is_active, user.member_id), access, valid_until)
    else:
        _CACHE.pop(user.pk, None)
    return access


def clear_access_cache() -> None:
    _CACHE.clear()


def access_for(user) -> Access:
    """The user's rights, computed once per request (``User.access`` caches them on the user
    object). Lower layers, which may not import accounts, call ``core.access.access_for``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    return user.access


def forget_access(user) -> None:
    if hasattr(user, "_unionaid_access"):
        del user._unionaid_access
