"""The notice a started task sends to whoever must decide it: the current holders of its post
and the person it names. The words come from the subject (``notification_text``); who gets
it and where it points are the engine's, the same for every kind."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from unionaid.accounts.models import Assignment, User
from unionaid.approvals.models import ApprovalCase, ApprovalTask
from unionaid.notifications.services import notify


def task_deciders(task: ApprovalTask) -> list[User]:
    """The active users a new task waits for: its post's current holders, then its named
    person (each once)."""
    users: dict[int, User] = {}
    if task.assigned_position_id:
        for assignment in (Assignment.objects.current(timezone.now())
                           .filter(position_id=task.assigned_position_id)
                           .select_related("user")):
            users[assignment.user_id] = assignment.user
    if task.assigned_user_id:
        users[task.assigned_user_id] = task.assigned_user
    return [user for user in users.values() if user.is_active]


def task_started_notify(*, case: ApprovalCase, task: ApprovalTask, subject) -> None:
    """Tell the deciders of ``task`` (inside the engine's transaction, like every notice)."""
    title, body = subject.notification_text(case=case, task=task)
    link = reverse("approvals:task-detail", args=[task.pk])
    for user in task_deciders(task):
        notify(recipient=user, title=title, body=body, link=link)
