"""Delegation while away (委托代办): the delegate decides the delegator's tasks, recorded as
on behalf of the delegator."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.models import Assignment, User
from unionaid.approvals import assignees
from unionaid.approvals.models import Delegation
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError

MAX_DAYS = 366


@transaction.atomic
def delegation_create(*, actor, to_user: User, starts_at, ends_at, reason: str = "") -> Delegation:
    """``actor`` lets ``to_user`` (another staff member) decide their tasks from ``starts_at``
    until ``ends_at``."""
    if actor is None or not getattr(actor, "pk", None):
        raise PermissionDenied()
    if to_user is None or to_user.pk == actor.pk:
        raise ServiceError(_("请选择其他人作为代办人。"), code="invalid_delegate",
                           fields={"to_user": _("请选择其他人作为代办人。")})
    posts = assignees.deciding_posts(actor)
    if not posts:  # the auditor and other read-only posts decide nothing, so delegate nothing
        raise PermissionDenied(_("只有审批岗位的人员可以委托代办。"), code="not_an_approver")
    if not to_user.is_active or not Assignment.objects.current().filter(user=to_user).exists():
        raise ServiceError(_("代办人须为在岗的工作人员。"), code="delegate_not_staff",
                           fields={"to_user": _("代办人须为在岗的工作人员。")})
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise ServiceError(_("结束时间须晚于开始时间。"), code="invalid_period",
                           fields={"ends_at": _("结束时间须晚于开始时间。")})
    if ends_at <= timezone.now():
        raise ServiceError(_("结束时间已过。"), code="invalid_period",
                           fields={"ends_at": _("结束时间已过。")})
    if (ends_at - starts_at).days > MAX_DAYS:
        raise ServiceError(_("委托期限不能超过一年。"), code="invalid_period",
                           fields={"ends_at": _("委托期限不能超过一年。")})
    if not any(assignees.delegate_may_decide_in(to_user, post.org_unit_id) for post in posts):
        message = _("代办人须在您审批岗位所在的单位担任审批岗位（同一层级、同一单位）。")
        raise ServiceError(message, code="delegate_wrong_post", fields={"to_user": message})
    delegation = Delegation.objects.create(from_user=actor, to_user=to_user, starts_at=starts_at,
                                           ends_at=ends_at, reason=(reason or "").strip()[:200])
    audit_record(actor=actor, action="approval.delegation_create", target=delegation,
                 changes={"to_user": to_user.pk, "starts_at": starts_at.isoformat(),
                          "ends_at": ends_at.isoformat(), "reason": delegation.reason})
    return delegation


@transaction.atomic
def delegation_end(*, actor, delegation: Delegation) -> Delegation:
    """End a delegation now (by the delegator)."""
    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if actor is None or delegation.from_user_id != actor.pk:
        raise PermissionDenied()
    now = timezone.now()
    if delegation.ends_at <= now:
        raise Conflict(_("该委托已结束。"), code="already_ended")
    delegation.ends_at = max(now, delegation.starts_at)
    delegation.save(update_fields=["ends_at"])
    audit_record(actor=actor, action="approval.delegation_end", target=delegation,
                 changes={"ends_at": delegation.ends_at.isoformat()})
    return delegation
