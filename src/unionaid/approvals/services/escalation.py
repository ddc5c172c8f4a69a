"""Overdue tasks: marked once and escalated to the same-named post one level up."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.approvals import assignees, registry
from unionaid.approvals.models import ApprovalTask, TaskStatus
from unionaid.audit.services import audit_record
from unionaid.notifications.services import notify

TASK_RELATED = ("case__org_unit", "step__user_position__org_unit",
                "assigned_position__org_unit", "assigned_user")


def _link(task: ApprovalTask) -> str:
    kind = task.case.subject_kind
    if registry.has_subject(kind):
        return registry.subject_handler(kind).link(task.case.subject_id)
    return ""


def _label(task: ApprovalTask) -> str:
    kind = task.case.subject_kind
    if registry.has_subject(kind):
        return registry.subject_handler(kind).label(task.case.subject_id)
    return str(task.case)


def _escalate_one(task_id: int, now) -> bool:
    with transaction.atomic():
        task = (
            ApprovalTask.objects.select_for_update(of=("self",))
            .filter(pk=task_id, status=TaskStatus.PENDING, escalated_at__isnull=True,
                    due_at__lt=now)
            .select_related(*TASK_RELATED).first()
        )
        if task is None:
            return False
        task.escalated_at = now
        task.save(update_fields=["escalated_at"])
        label, link = _label(task), _link(task)
        waiting = assignees.task_assignee_label(task)
        notified = []
        for user in assignees.escalation_recipients(task, now=now):
            notify(recipient=user, title=_("待办超期提醒：%s") % label, link=link,
                   body=_("“%(step)s”（%(who)s）已超过办理时限，请督办。")
                   % {"step": task.step.name, "who": waiting})
            notified.append(user.pk)
        for user in assignees.task_candidates(task, now=now):
            if user.pk not in notified:
                notify(recipient=user, title=_("您的待办已超期：%s") % label, link=link,
                       body=_("“%(step)s”已超过办理时限，请尽快办理。") % {"step": task.step.name})
        audit_record(
            actor=None, action="approval.task_escalate", target=task.case,
            org_unit_path=task.case.org_unit.path,
            changes={"task": task.pk, "order": task.order, "step": task.step.name,
                     "due_at": task.due_at.isoformat(), "notified": notified},
        )
        return True


def tasks_escalate_overdue(*, now=None, limit: int = 10_000) -> int:
    """Mark pending tasks past their due time as escalated (once) and tell the post above;
    returns how many. Each task in its own transaction, so a long run never blocks deciders."""
    now = now or timezone.now()
    ids = list(
        ApprovalTask.objects.filter(status=TaskStatus.PENDING, due_at__lt=now,
                                    escalated_at__isnull=True)
        .order_by("due_at").values_list("pk", flat=True)[:limit]
    )
    return sum(_escalate_one(pk, now) for pk in ids)
