"""Who holds a permission over a unit: the one rule for choosing whom to tell about a record of
that unit (the archive's re-check reminders, finance's "register the bank account" notices).

The responsible holders are those at the nearest unit whose grant covers the record's unit (a
team's own cadre before the station's); "covering" is everyone whose grant reaches it. Grants
of the SELF scope cover nobody else. Everything is read once (posts are few) and memoised per
unit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from unionaid.accounts.models import Assignment, DataScope
from unionaid.org.models import OrgUnit


@dataclass(frozen=True)
class _Grant:
    user_id: int
    scope: str
    unit_id: int
    unit_path: str

    def covers(self, unit: OrgUnit) -> bool:
        if self.scope == DataScope.ALL:
            return True
        if self.scope == DataScope.UNIT_AND_BELOW:
            return unit.path.startswith(self.unit_path)
        return self.scope == DataScope.UNIT and unit.pk == self.unit_id


class PermissionHolders:
    """The current grants of ``perm`` to active users on open posts, read in one query."""

    def __init__(self, perm: str, now: dt.datetime | None = None):
        self.grants: list[_Grant] = []
        assignments = (Assignment.objects.current(now or timezone.now())
                       .filter(user__is_active=True, position__is_active=True,
                               position__org_unit__is_closed=False)
                       .select_related("position__org_unit").prefetch_related("position__roles"))
        for assignment in assignments:
            unit = assignment.position.org_unit
            for role in assignment.position.roles.all():
                if perm in (role.permissions or []):
                    self.grants.append(
                        _Grant(assignment.user_id, role.data_scope, unit.pk, unit.path))
        self._by_unit: dict[int, tuple[set[int], set[int]]] = {}

    def for_unit(self, unit: OrgUnit) -> tuple[set[int], set[int]]:
        """(the holders at the nearest covering unit, everyone covering ``unit``): user ids."""
        if unit.pk not in self._by_unit:
            covering = [g for g in self.grants
                        if g.scope != DataScope.SELF and g.covers(unit)]
            nearest = max((len(g.unit_path) for g in covering), default=-1)
            self._by_unit[unit.pk] = ({g.user_id for g in covering
                                       if len(g.unit_path) == nearest},
                                      {g.user_id for g in covering})
        return self._by_unit[unit.pk]

    def nearest(self, unit: OrgUnit) -> set[int]:
        return self.for_unit(unit)[0]
