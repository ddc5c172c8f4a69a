"""The approval engine's handler for assistance applications (subject kind
"assistance.application"). The engine calls it inside its own transaction."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.assistance import facts as factlib
from unionaid.assistance.models import Application, AssistanceItem
from unionaid.assistance.services import outcomes
from unionaid.assistance.services.applications import SUBJECT_KIND
from unionaid.assistance.services.notify import link, notify_users

CASE_NAMES = {"amount", "item_code", "category", "on_behalf", "fast_track"}


class ApplicationSubject:
    kind = SUBJECT_KIND
    flow_permission = "assistance.catalog"
    view_permission = "assistance.view"

    def fact_names(self, subject_key: str) -> set[str]:
        """Names a skip condition may use: the case's amount and kind, what is known about the
        member, and the item's own facts when the flow is for one item."""
        names = CASE_NAMES | set(factlib.MEMBER_FACTS)
        if subject_key:
            item = AssistanceItem.objects.filter(code=subject_key).only("facts").first()
            names |= {f["name"] for f in (item.facts if item else [])}
        return names

    def link(self, subject_id: int) -> str:
        return link("assistance:application-detail", subject_id)

    def label(self, subject_id: int) -> str:
        application = (Application.objects.select_related("item", "member")
                       .filter(pk=subject_id).first())
        if application is None:
            return _("帮扶申请 #%(id)s") % {"id": subject_id}
        return _("%(item)s · %(name)s") % {"item": application.item.name,
                                           "name": application.member.name}

    def on_step_started(self, *, case, task) -> None:
        """Tell whoever must decide the new task: the post's current holders or the named
        person."""
        from unionaid.accounts.models import Assignment, User

        users: dict[int, User] = {}
        if task.assigned_position_id:
            for assignment in (Assignment.objects.current(timezone.now())
                               .filter(position_id=task.assigned_position_id)
                               .select_related("user")):
                users[assignment.user_id] = assignment.user
        if task.assigned_user_id:
            users[task.assigned_user_id] = task.assigned_user
        title = _("新的待办：%(label)s") % {"label": self.label(case.subject_id)}
        body = _("请办理审批节点“%(step)s”。") % {"step": task.step.name}
        notify_users([u for u in users.values() if u.is_active], title, body,
                     link("approvals:task-detail", task.pk))

    def on_approved(self, *, case, actor) -> None:
        outcomes.application_case_approved(case=case, actor=actor)

    def on_rejected(self, *, case, actor) -> None:
        outcomes.application_case_rejected(case=case, actor=actor)

    def on_returned(self, *, case, actor) -> None:
        outcomes.application_case_returned(case=case, actor=actor)
