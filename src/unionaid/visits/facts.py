"""What the visits tell the assistance rules about a member (``assistance.facts``): the
household the latest six-clear profile recorded, when the visit saw more people than the
member's registered household (``HouseholdMember``). Rules such as "a sick relative in the
household" (``household_size > 1``) or "a child" (``children_count >= 1``) must not refuse a
household that a cadre has just recorded on a visit.
"""

from __future__ import annotations

from typing import Any

from unionaid.members.models import Relation
from unionaid.visits.selectors.profiles import latest_profile


def member_household_facts(member) -> dict[str, Any]:
    profile = latest_profile(member)
    if profile is None:
        return {}
    registered = list(member.household.values_list("relation", flat=True))
    return {"household_size": max(1 + len(registered), profile.household_size),
            "children_count": max(sum(1 for r in registered if r == Relation.CHILD),
                                  profile.children_in_school)}
