from __future__ import annotations

from django.db.models import QuerySet

from unionaid.core.access import SCOPE_ALL, SCOPE_SELF, SCOPE_UNIT_AND_BELOW, access_for
from unionaid.core.errors import NotFound
from unionaid.org.models import OrgLevel, OrgUnit


def level_names() -> dict[int, str]:
    return dict(OrgLevel.objects.values_list("depth", "name"))


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


def unit_get_for_user(*, user, pk, perm: str = "org.view") -> OrgUnit:
    try:
        return units_visible_to(user=user, perm=perm).get(pk=int(pk))
    except (OrgUnit.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
