"""Yearly re-checks (年度复核) of active records against a fresh household profile.

The outcome follows the category computed today: the same category → keep (维持); another
category → change (调整类别: the record takes the new category and calculation); not eligible
any more → exit (建议脱困), which only suggests it: leaving the archive is its own application
with notice and approval (``record_exit_apply``). Each re-check sets the next one
``recheck_months`` later.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.archive.category import rules_for
from unionaid.archive.models import HardshipRecord, Recheck, RecordStatus
from unionaid.archive.services.common import (
    add_months,
    audit,
    lock_record,
    profile_for,
    require_manage,
)
from unionaid.archive.services.records import evaluate
from unionaid.audit.services import atomic_audited
from unionaid.core.errors import Conflict
from unionaid.visits.models import HouseholdProfile

KEEP, CHANGE, EXIT = "keep", "change", "exit"


@atomic_audited
def recheck_record(*, actor, record: HardshipRecord, profile: HouseholdProfile | None = None,
                   note: str = "") -> Recheck:
    """Re-check an active record on ``profile`` (default: the member's latest)."""
    record = lock_record(record)
    require_manage(actor, record.org_unit)
    if record.status != RecordStatus.ACTIVE:
        raise Conflict(_("只有在档的困难职工档案可以复核。"), code="not_active")
    member = record.member
    profile = profile_for(member, profile)
    today = timezone.localdate()
    result = evaluate(member=member, profile=profile, on=today)
    if not result.eligible:
        outcome = EXIT
    elif result.category == record.category:
        outcome = KEEP
    else:
        outcome = CHANGE
    recheck = Recheck.objects.create(
        record=record, profile=profile, checked_on=today, computed_category=result.category,
        calculation=result.as_calculation(), outcome=outcome, note=(note or "").strip()[:300],
        checked_by=actor)
    before = record.category
    record.last_recheck_on = today
    record.next_recheck_on = add_months(today, rules_for(record.org_unit).recheck_months)
    fields = ["last_recheck_on", "next_recheck_on"]
    if outcome == CHANGE:
        record.profile = profile
        record.category = record.computed_category = result.category
        record.calculation = result.as_calculation()
        record.per_capita_monthly = result.per_capita_monthly
        record.dibao_standard = result.line
        record.review_flags = result.review_flags
        record.causes = profile.causes[:200]
        fields += ["profile", "category", "computed_category", "calculation",
                   "per_capita_monthly", "dibao_standard", "review_flags", "causes"]
    record.save(update_fields=fields)
    audit(actor, "archive.recheck", record, recheck=recheck.pk, outcome=outcome,
          profile=profile.pk, computed_category=result.category, before=before,
          after=record.category, per_capita_monthly=str(result.per_capita_monthly),
          next_recheck_on=record.next_recheck_on.isoformat())
    return recheck
