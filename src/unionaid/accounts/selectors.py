"""Reads for the security admin's pages: users, posts, roles and assignments in their scope.

Every query starts from the actor's grants of ``security.manage``; a record outside them looks
like "not found". A user belongs to the units of their posts (current or past) and of their
member record; a login with neither (just created) is visible to every security admin so that
it can be given a post.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from unionaid.accounts.access import access_for
from unionaid.accounts.models import ApiToken, Assignment, DataScope, Position, Role, User
from unionaid.core.errors import NotFound
from unionaid.org.models import OrgUnit

MANAGE = "security.manage"


def _has_all(access) -> bool:
    return any(g.scope == DataScope.ALL for g in access.grants_for(MANAGE))


def users_visible_to(*, user) -> QuerySet[User]:
    access = access_for(user)
    if not access.has_perm(MANAGE):
        return User.objects.none()
    if _has_all(access):
        return User.objects.all()
    by_post = access.scope_q(MANAGE, unit_field="assignments__position__org_unit")
    by_member = access.scope_q(MANAGE, unit_field="member__org_unit")
    unplaced = Q(assignments__isnull=True, member__isnull=True)
    inner = User.objects.filter(by_post | by_member | unplaced).values("pk")
    return User.objects.filter(pk__in=inner)


def user_search(*, user, query: str = "") -> QuerySet[User]:
    qs = users_visible_to(user=user).select_related("member")
    query = (query or "").strip()
    if query:
        qs = qs.alias(username_lower=Lower("username")).filter(
            Q(username_lower__startswith=query.lower()) | Q(first_name__startswith=query)
        )
    return qs.order_by("username", "pk")


def user_get_for_admin(*, user, pk) -> User:
    try:
        return users_visible_to(user=user).select_related("member").get(pk=int(pk))
    except (User.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None


def user_get_by_username_for_admin(*, user, username: str) -> User:
    name = (username or "").strip().lower()
    found = (
        users_visible_to(user=user).alias(username_lower=Lower("username"))
        .filter(username_lower=name).first()
    )
    if found is None:
        raise NotFound()
    return found


def units_managed_by(*, user) -> QuerySet[OrgUnit]:
    """Open units where ``user`` may create posts and grant them."""
    access = access_for(user)
    if not access.has_perm(MANAGE):
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(_unit_q(access), is_closed=False).order_by("path")


def _unit_q(access) -> Q:
    q = Q(pk__in=[])
    for grant in access.grants_for(MANAGE):
        if grant.scope == DataScope.ALL:
            return Q()
        if grant.scope == DataScope.UNIT_AND_BELOW:
            q |= Q(path__startswith=grant.unit_path)
        elif grant.scope == DataScope.UNIT:
            q |= Q(pk=grant.unit_id)
    return q


def positions_visible_to(*, user) -> QuerySet[Position]:
    access = access_for(user)
    if not access.has_perm(MANAGE):
        return Position.objects.none()
    return Position.objects.filter(access.scope_q(MANAGE, unit_field="org_unit"))


def position_list(*, user, unit: OrgUnit | None = None) -> QuerySet[Position]:
    qs = positions_visible_to(user=user).select_related("org_unit").prefetch_related("roles")
    if unit is not None:
        qs = qs.filter(org_unit__path__startswith=unit.path)
    return qs.order_by("org_unit__path", "name", "pk")


def positions_grantable_by(*, user) -> QuerySet[Position]:
    return (
        positions_visible_to(user=user)
        .filter(is_active=True, org_unit__is_closed=False)
        .select_related("org_unit")
        .order_by("org_unit__path", "name")
    )


def assignments_visible_to(*, user) -> QuerySet[Assignment]:
    access = access_for(user)
    if not access.has_perm(MANAGE):
        return Assignment.objects.none()
    return Assignment.objects.filter(access.scope_q(MANAGE, unit_field="position__org_unit"))


def assignment_list(*, user, unit: OrgUnit | None = None, username: str = "",
                    current_only: bool = True) -> QuerySet[Assignment]:
    qs = assignments_visible_to(user=user).select_related("user", "position__org_unit")
    if current_only:
        qs = qs.filter(pk__in=Assignment.objects.current().values("pk"))
    if unit is not None:
        qs = qs.filter(position__org_unit__path__startswith=unit.path)
    if username:
        qs = qs.alias(username_lower=Lower("user__username")).filter(
            username_lower__startswith=username.strip().lower()
        )
    return qs.order_by("position__org_unit__path", "user__username", "-starts_at")


def assignments_of(*, user, subject: User) -> QuerySet[Assignment]:
    """All posts (current and past) of ``subject`` that ``user`` may see."""
    return (
        assignments_visible_to(user=user).filter(user=subject)
        .select_related("position__org_unit", "granted_by")
        .order_by("-starts_at", "-pk")
    )


def assignment_get_for_admin(*, user, pk) -> Assignment:
    try:
        return (
            assignments_visible_to(user=user).select_related("user", "position__org_unit")
            .get(pk=int(pk))
        )
    except (Assignment.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None


def role_list(*, user) -> QuerySet[Role]:
    if not access_for(user).has_perm(MANAGE):
        return Role.objects.none()
    return Role.objects.order_by("code")


def role_get_for_admin(*, user, pk) -> Role:
    try:
        return role_list(user=user).get(pk=int(pk))
    except (Role.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None


def tokens_of(*, user) -> QuerySet[ApiToken]:
    """The user's own API tokens, newest first (never anyone else's)."""
    return ApiToken.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")


def tokens_visible_to(*, user, username: str = "", live_only: bool = True) -> QuerySet[ApiToken]:
    """The API tokens of the users a security admin manages (``users_visible_to``)."""
    qs = ApiToken.objects.filter(user__in=users_visible_to(user=user).values("pk"))
    if live_only:
        now = timezone.now()
        qs = qs.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    name = (username or "").strip().lower()
    if name:
        qs = qs.alias(username_lower=Lower("user__username")).filter(
            username_lower__startswith=name)
    return qs.select_related("user").order_by("-created_at", "-pk")


def token_get_for_admin(*, user, pk) -> ApiToken:
    try:
        return tokens_visible_to(user=user, live_only=False).get(pk=int(pk))
    except (ApiToken.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
