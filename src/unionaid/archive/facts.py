"""What the archive tells the assistance rules about a member (``assistance.facts``):
``hardship_category`` — the Chinese name of the category of their record in the archive
("深度困难", "相对困难", "意外致困"; "" when not in the archive), as the catalog's eligibility
rules compare it (``hardship_category == '深度困难'``) — and ``in_archive``.

A member is in the archive while their record is active, and still while its exit is being
approved (EXITING); a pending enrolment does not count yet.
"""

from __future__ import annotations

from typing import Any

from unionaid.archive.category import RULE_LABELS
from unionaid.archive.models import HardshipRecord, RecordStatus
from unionaid.assistance.facts import register_member_fact_provider

IN_ARCHIVE = (RecordStatus.ACTIVE, RecordStatus.EXITING)


def member_archive_facts(member) -> dict[str, Any]:
    category = (HardshipRecord.objects.filter(member_id=member.pk, status__in=IN_ARCHIVE)
                .values_list("category", flat=True).first())
    if category is None:
        return {"hardship_category": "", "in_archive": False}
    return {"hardship_category": RULE_LABELS.get(category, ""), "in_archive": True}


def register() -> None:
    register_member_fact_provider(member_archive_facts)
