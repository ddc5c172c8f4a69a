from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from unionaid.accounts.access import access_for
from unionaid.accounts.scoped import get_in_scope, scoped_getter
from unionaid.org.models import OrgLevel, OrgUnit


def level_names() -> dict[int, str]:
    return dict(OrgLevel.objects.values_list("depth", "name"))


def units_visible_to(*, user, perm: str = "org.view") -> QuerySet[OrgUnit]:
    """Units the user may see: those covered by a grant of ``perm``, plus their ancestors'
    names are not included (a cadre sees their own part of the tree only)."""
    access = access_for(user)
    q = None
    for grant in access.grants_for(perm):
        if grant.scope == "self":  # a self-only grant covers no unit
            continue
        if grant.scope == "all":
            return OrgUnit.objects.all()
        part = (
            OrgUnit.objects.filter(path__startswith=grant.unit_path)
            if grant.scope == "unit_and_below"
            else OrgUnit.objects.filter(pk=grant.unit_id)
        )
        q = part if q is None else q | part
    return q if q is not None else OrgUnit.objects.none()


@scoped_getter
def unit_get_for_user(*, user, pk, perm: str = "org.view") -> OrgUnit:
    # A unit's own scope is its path; units_visible_to says it (a self-only grant covers none).
    return get_in_scope(
        user=user, pk=pk, perm=perm, queryset=OrgUnit.objects.all(),
        scope=Q(pk__in=units_visible_to(user=user, perm=perm).values("pk")),
        target_type="org.orgunit",
    )


def tree_for_user(*, user, perm: str = "org.view", max_depth: int | None = None):
    """Visible units in tree order with their member counts (two queries, no walk)."""
    from unionaid.members.models import Member

    units = units_visible_to(user=user, perm=perm).order_by("path")
    if max_depth:
        units = units.filter(depth__lte=max_depth)
    units = list(units)
    counts = dict(
        Member.objects.filter(org_unit__in=[u.pk for u in units])
        .values_list("org_unit").annotate(n=Count("pk")).values_list("org_unit", "n")
    ) if len(units) <= 2000 else {}
    for unit in units:
        unit.member_count = counts.get(unit.pk, 0)
    return units
