from __future__ import annotations

from django.db.models import Q, QuerySet

from unionaid.audit.scoped import get_in_scope, scoped_getter
from unionaid.core import memo
from unionaid.core.access import SCOPE_ALL, SCOPE_SELF, SCOPE_UNIT_AND_BELOW, access_for
from unionaid.org.models import OrgLevel, OrgUnit


def covers_whole_tree(*, user, perm: str) -> bool:
    """Does ``user`` hold ``perm`` over every root unit, i.e. over the whole installation?
    (Settings that apply everywhere, such as the lead rules, need it.)"""
    access = access_for(user)
    roots = list(OrgUnit.objects.get_root_nodes())
    return bool(roots) and all(access.covers_unit(perm, root) for root in roots)


def level_names() -> dict[int, str]:
    """{depth: "站段"}; kept under the access stamp (``core.memo``), which its table's writes
    change."""
    return dict(memo.kept("org.level_names",
                          lambda: dict(OrgLevel.objects.values_list("depth", "name"))))


def units_visible_to(*, user, perm: str = "org.view") -> QuerySet[OrgUnit]:
    """Units the user may see: those covered by a grant of ``perm``, plus their ancestors'
    names are not included (a cadre sees their own part of the tree only)."""
    access = access_for(user)
    q = None
    for grant in access.grants_for(perm):
        if grant.scope == SCOPE_SELF:  # a self-only grant covers no unit
            continue
        if grant.scope == SCOPE_ALL:
            return OrgUnit.objects.all()
        part = (
            OrgUnit.objects.filter(path__startswith=grant.unit_path)
            if grant.scope == SCOPE_UNIT_AND_BELOW
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
