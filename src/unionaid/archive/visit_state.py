"""The hardship archive's entry on a visit's page (``visits.detail_context``), registered by
``ArchiveConfig.ready()``."""

from __future__ import annotations

from unionaid.accounts.access import access_for
from unionaid.archive.household import open_record_in_household
from unionaid.archive.selectors.records import records_visible_to
from unionaid.visits import detail_context


def archive_state(*, user, member) -> dict | None:
    """The member's place in the hardship archive, for the next step after a visit: the
    household's open record (one household, one file) if the user may see it, or whether the
    user may enrol the member. None when the user has no archive rights over the member."""
    access = access_for(user)
    if member is None or not access.covers_unit("archive.view", member.org_unit):
        return None
    held = open_record_in_household(member, lock=False)
    visible = (held is not None
               and records_visible_to(user=user).filter(pk=held.pk).exists())
    return {
        "record": held if visible else None,
        "held_elsewhere": held is not None and not visible,
        "can_enrol": held is None and access.covers_unit("archive.manage", member.org_unit),
    }


def register() -> None:
    detail_context.register("archive", archive_state)
