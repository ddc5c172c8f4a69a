"""Default approval flows of the archive: enrolment (建档) and exit (解困脱困).

    1 车间工会审核   the 车间 post (unit depth 3), e.g. 车间工会干事
    2 公示           5 working days, held by the 站段 post; objections are recorded meanwhile,
                     and the post holder approves once the notice has ended without objection
    3 站段工会审批   the 站段 post (unit depth 2), e.g. 站段工会帮扶干事

They are ordinary approval flows (data, not code): versioned, inherited down the tree, and
editable like any other flow (``approvals.services.flow_save``). A member of a 站段-level
unit skips the 车间 step (the engine records the skip). Installations whose tree or post names
differ pass their own ``steps`` or edit the flows after creating them.
"""

from __future__ import annotations

from unionaid.approvals.models import ApprovalFlow, FlowVersion
from unionaid.approvals.services import flow_save
from unionaid.archive.services.common import ENROLMENT_KIND, EXIT_KIND
from unionaid.org.models import OrgUnit

STATION_DEPTH, WORKSHOP_DEPTH = 2, 3
STATION_POST, WORKSHOP_POST = "站段工会帮扶干事", "车间工会干事"
NOTICE_WORKING_DAYS = 5


def default_steps(*, station_depth: int = STATION_DEPTH, workshop_depth: int = WORKSHOP_DEPTH,
                  station_post: str = STATION_POST, workshop_post: str = WORKSHOP_POST,
                  notice_working_days: int = NOTICE_WORKING_DAYS) -> list[dict]:
    """The three steps in the shape ``flow_save`` takes."""
    return [
        {"name": "车间工会审核", "unit_depth": workshop_depth, "position_name": workshop_post,
         "due_days": 3},
        {"name": "公示", "unit_depth": station_depth, "position_name": station_post,
         "is_public_notice": True, "notice_working_days": notice_working_days, "due_days": 0},
        {"name": "站段工会审批", "unit_depth": station_depth, "position_name": station_post,
         "due_days": 5},
    ]


# Names are data (like the step names): stored as written, shown in the flow editor.
FLOW_NAMES = {
    ENROLMENT_KIND: ("困难职工建档审批", "车间审核 → 公示 → 站段审批"),
    EXIT_KIND: ("困难职工解困脱困审批", "车间审核 → 公示 → 站段审批"),
}


def archive_flows_ensure(*, actor, org_unit: OrgUnit, steps: list[dict] | None = None
                         ) -> list[FlowVersion]:
    """Create the enrolment and exit flows of ``org_unit`` if it has none of its own (an
    existing flow, perhaps edited, is left alone). Returns the versions created."""
    created = []
    for kind, (name, note) in FLOW_NAMES.items():
        if ApprovalFlow.objects.filter(subject_kind=kind, subject_key="",
                                       org_unit=org_unit).exists():
            continue
        created.append(flow_save(actor=actor, subject_kind=kind, subject_key="",
                                 org_unit=org_unit, name=name,
                                 steps=steps or default_steps(), note=note))
    return created
