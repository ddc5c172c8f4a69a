"""Writes of the approval engine (all keyword-only, transactional, audited).

Split by topic; import from here: ``from unionaid.approvals import services``."""

from unionaid.approvals.services.cases import (
    case_start,
    case_withdraw,
    fast_track_review,
    task_decide,
    tasks_decide_batch,
)
from unionaid.approvals.services.delegations import delegation_create, delegation_end
from unionaid.approvals.services.escalation import tasks_escalate_overdue
from unionaid.approvals.services.flows import flow_preview, flow_resolve, flow_save

__all__ = [
    "case_start",
    "case_withdraw",
    "delegation_create",
    "delegation_end",
    "fast_track_review",
    "flow_preview",
    "flow_resolve",
    "flow_save",
    "task_decide",
    "tasks_decide_batch",
    "tasks_escalate_overdue",
]
