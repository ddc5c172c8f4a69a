"""The one rule for whether a step of a case is skipped: used when the case advances
(``services.cases``), by the flow editor's preview, and by the timeline to tell which steps not
reached yet will be skipped on today's facts (``selectors.case_timeline``)."""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from unionaid.approvals import assignees, conditions
from unionaid.approvals.models import ApprovalStep, SkipKind
from unionaid.core import rules
from unionaid.org.models import OrgUnit

logger = logging.getLogger(__name__)


def skip_reason(
    step: ApprovalStep, *, org_unit: OrgUnit, facts: dict, fast_track: bool,
    fast_track_reason: str = "",
) -> tuple[str, str, str]:
    """(skip kind or "", reason, rule error) for ``step`` of a case of ``org_unit``.

    A skip condition that cannot be computed does not skip (more review, never less)."""
    error = ""
    if step.skip_condition:
        try:
            if rules.holds(step.skip_condition, {**facts, "fast_track": fast_track}):
                flow = step.version.flow
                labels = conditions.labels_for(flow.subject_kind, flow.subject_key)
                return (SkipKind.CONDITION,
                        conditions.skip_condition_reason(step.skip_condition, labels), "")
        except rules.RuleError as exc:
            error = exc.message
            logger.warning("approval step %s: skip condition not computable", step.pk)
    if not assignees.step_applies_to(step, org_unit):
        return SkipKind.LEVEL, _("申请人所在单位高于本节点层级，本节点不适用"), error
    if fast_track and step.skippable_by_fast_track:
        return SkipKind.FAST_TRACK, _("特事特办：%s") % (fast_track_reason or "-"), error
    return "", "", error
