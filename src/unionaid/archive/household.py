"""One household, one file (一户一档): who counts as the same household, and whether any of
them holds an open record.

Two members are in one household when either lists the other in their household
(``HouseholdMember`` rows, matched by the keyed hash of the ID number), e.g. two railway
workers married to each other. The check runs under row locks on the members involved, so two
enrolments racing for one household cannot both pass; the partial unique constraint on
``HardshipRecord.member`` is the last guard per member.
"""

from __future__ import annotations

from django.db.models import Q

from unionaid.archive.models import OPEN_STATUSES, HardshipRecord
from unionaid.members.models import HouseholdMember, Member


def household_member_ids(member: Member) -> set[int]:
    """The member and every other member of their household."""
    listed = set(HouseholdMember.objects.filter(member=member).exclude(id_number_hash="")
                 .values_list("id_number_hash", flat=True))
    ids = set(Member.objects.filter(id_number_hash__in=listed).values_list("pk", flat=True))
    ids |= set(HouseholdMember.objects.filter(id_number_hash=member.id_number_hash)
               .values_list("member_id", flat=True))
    ids.add(member.pk)
    return ids


def open_record_in_household(member: Member, *, lock: bool = True) -> HardshipRecord | None:
    """The open record (pending, returned, active or exiting) held by anyone in the member's
    household, if any. With ``lock`` (inside a transaction) the household's member rows are
    locked first, in id order, so concurrent enrolments of one household serialise."""
    ids = sorted(household_member_ids(member))
    if lock:
        list(Member.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
             .values_list("pk", flat=True))
    return (HardshipRecord.objects.filter(Q(member_id__in=ids), status__in=OPEN_STATUSES)
            .select_related("member").first())
