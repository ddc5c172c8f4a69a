"""When a named approver (节点到人) leaves the post they held the step through, their open
tasks move to whoever holds that post now, with an audit event. Tasks assigned to a post need
nothing: they follow the post.

``on_assignment_ended`` runs inside ``accounts.services.assignment_end``'s transaction (it is
registered in ``ApprovalsConfig.ready``)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.approvals import assignees, registry
from unionaid.approvals.models import ApprovalTask, TaskStatus
from unionaid.audit.services import audit_record
from unionaid.notifications.services import notify


def on_assignment_ended(*, actor, assignment) -> None:
    tasks = list(
        ApprovalTask.objects.select_for_update(of=("self",))
        .filter(status=TaskStatus.PENDING, assigned_user_id=assignment.user_id,
                step__user_position_id=assignment.position_id)
        .select_related("case__org_unit", "step").order_by("pk")
    )
    if not tasks:
        return
    at = assignment.ends_at or timezone.now()
    holders = assignees.position_holders(assignment.position_id, now=at,
                                         exclude_user_id=assignment.user_id)
    # One holder: the task is theirs by name. None or several: it goes to the post itself,
    # so whoever holds the post (now or later) sees and decides it.
    new_user = holders[0] if len(holders) == 1 else None
    position = assignment.position
    for task in tasks:
        task.assigned_user = new_user
        task.assigned_position = None if new_user else position
        task.save(update_fields=["assigned_user", "assigned_position"])
        audit_record(
            actor=actor, action="approval.task_handover", target=task.case,
            org_unit_path=task.case.org_unit.path,
            changes={"task": task.pk, "order": task.order, "step": task.step.name,
                     "from_user": assignment.user_id,
                     "to_user": new_user.pk if new_user else None,
                     "to_position": None if new_user else position.pk,
                     "position": str(position)},
        )
        kind = task.case.subject_kind
        label = (registry.subject_handler(kind).label(task.case.subject_id)
                 if registry.has_subject(kind) else str(task.case))
        for user in holders:
            notify(recipient=user, title=_("转交待办：%s") % label,
                   body=_("原审批人离岗，“%(step)s”已转交%(post)s办理。")
                   % {"step": task.step.name, "post": str(position)})
