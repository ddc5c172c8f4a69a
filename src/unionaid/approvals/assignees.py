"""Who a step goes to, who may decide a task now, and who is told about it.

A POSITION step goes to the post named ``position_name`` in the applicant's ancestor unit at
``unit_depth``; the task then belongs to the post, so whoever holds the post *now* sees and
decides it. A USER step (节点到人) goes to the named person. A current delegate (Delegation) of
the named person, or of a holder of the post, may decide in their stead (recorded as
``on_behalf_of``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.accounts.models import Assignment, Position, User
from unionaid.approvals.models import ApprovalStep, ApprovalTask, AssigneeKind, Delegation
from unionaid.core import rules
from unionaid.core.errors import ServiceError
from unionaid.members.models import HouseholdMember, Member
from unionaid.org.models import OrgLevel, OrgUnit


def unit_depth_of(unit: OrgUnit) -> int:
    return len(unit.path) // OrgUnit.steplen


def ancestor_path(unit: OrgUnit, depth: int | None) -> str:
    """Path of ``unit``'s ancestor at ``depth`` (the unit itself when depth is None)."""
    if not depth:
        return unit.path
    return unit.path[: depth * OrgUnit.steplen]


def step_applies_to(step: ApprovalStep, unit: OrgUnit) -> bool:
    """A post step at a level below the applicant's unit does not apply (a 站段-level applicant
    has no 车间)."""
    return not (
        step.assignee_kind == AssigneeKind.POSITION
        and step.unit_depth
        and step.unit_depth > unit_depth_of(unit)
    )


def step_position(step: ApprovalStep, unit: OrgUnit) -> Position | None:
    """The post that decides ``step`` for a case of ``unit`` (None if it does not exist)."""
    return (
        Position.objects.select_related("org_unit")
        .filter(org_unit__path=ancestor_path(unit, step.unit_depth), name=step.position_name,
                is_active=True)
        .first()
    )


def missing_post_label(step: ApprovalStep, unit: OrgUnit) -> str:
    path = ancestor_path(unit, step.unit_depth)
    owner = OrgUnit.objects.filter(path=path).values_list("name", flat=True).first()
    if owner is None:
        owner = (OrgLevel.objects.filter(depth=step.unit_depth)
                 .values_list("name", flat=True).first())
    return _("%(unit)s的“%(post)s”") % {"unit": owner or "?", "post": step.position_name}


def step_assignee(step: ApprovalStep, unit: OrgUnit) -> tuple[Position | None, User | None]:
    """(assigned_position, assigned_user) for a pending task, or ServiceError "no_assignee"."""
    if step.assignee_kind == AssigneeKind.USER:
        if step.user_id is None:
            raise ServiceError(
                _("审批节点“%(step)s”未指定审批人，请联系管理员检查流程配置。") % {"step": step.name},
                code="no_assignee",
            )
        if named_user_may_act(step.user, step):
            return None, step.user
        if step.user_position_id:  # the named person left the post: it goes to the post
            return step.user_position, None
        raise ServiceError(
            _("审批节点“%(step)s”的指定审批人已停用，请联系管理员检查流程配置。") % {"step": step.name},
            code="no_assignee",
        )
    position = step_position(step, unit)
    if position is None:
        raise ServiceError(
            _("审批节点“%(step)s”找不到审批岗位：%(post)s，请联系管理员检查流程配置。")
            % {"step": step.name, "post": missing_post_label(step, unit)},
            code="no_assignee",
        )
    return position, None


def named_user_may_act(user: User, step: ApprovalStep, now=None) -> bool:
    """A named approver (节点到人) acts only while active and, when the step names the post
    they hold it through, while they still hold that post (also after it lapsed by date)."""
    if user is None or not user.is_active:
        return False
    if not step.user_position_id:
        return True
    return Assignment.objects.current(now).filter(
        user_id=user.pk, position_id=step.user_position_id, position__is_active=True
    ).exists()


def user_label(user: User | None) -> str:
    return user.display_name if user is not None else ""


def task_assignee_label(task: ApprovalTask) -> str:
    """Who the task waits for: "甲车务段·帮扶干事" or a named person."""
    if task.assigned_position_id:
        return str(task.assigned_position)
    if task.assigned_user_id:
        return task.assigned_user.display_name
    return ""


def task_assignee_post_label(task: ApprovalTask) -> str:
    """Like task_assignee_label but never a person's name (what an applicant may see)."""
    if task.assigned_position_id:
        return str(task.assigned_position)
    if task.assigned_user_id:
        step = task.step
        return str(step.user_position) if step.user_position_id else _("指定审批人")
    return ""


# -- who may decide ---------------------------------------------------------------------------

def active_delegations(user, now=None):
    now = now or timezone.now()
    # A disabled user's delegations give nothing.
    return Delegation.objects.filter(to_user_id=user.pk, starts_at__lte=now, ends_at__gt=now,
                                     from_user__is_active=True)


@dataclass(frozen=True)
class Authority:
    decided_as: str
    on_behalf_of: User | None = None


def authority(user, task: ApprovalTask, *, now=None) -> Authority | None:
    """How ``user`` may decide ``task`` now (as holder, named person or delegate), or None."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    now = now or timezone.now()
    if task.assigned_position_id:
        # The user's own posts are known from their access (computed once per request with
        # the same conditions: current assignment, active post, open unit), like every other
        # right they use in this request. An assignment that ends while the request runs counts
        # from the next request on — as with the query this replaced, which could not stop an
        # assignment ending between the check and the commit either.
        held = access_for(user).held_position_label(task.assigned_position_id)
        if held is not None:
            return Authority(decided_as=held)
        label = str(task.assigned_position)
        if not delegate_may_decide_in(user, task.assigned_position.org_unit_id, now):
            return None  # a delegate decides only with a deciding post of their own, there
        holder = (
            Assignment.objects.current(now)
            .filter(position_id=task.assigned_position_id, position__is_active=True,
                    position__org_unit__is_closed=False, user__is_active=True,
                    user__in=active_delegations(user, now).values("from_user_id"))
            .select_related("user").first()
        )
        return Authority(decided_as=label, on_behalf_of=holder.user) if holder else None
    if task.assigned_user_id:
        step = task.step
        label = str(step.user_position) if step.user_position_id else _("指定审批人")
        if not named_user_may_act(task.assigned_user, step, now):
            return None
        if task.assigned_user_id == user.pk:
            return Authority(decided_as=label)
        if (step.user_position_id
                and delegate_may_decide_in(user, step.user_position.org_unit_id, now)
                and active_delegations(user, now)
                .filter(from_user_id=task.assigned_user_id).exists()):
            return Authority(decided_as=label, on_behalf_of=task.assigned_user)
    return None


def earlier_decision(task: ApprovalTask, people) -> ApprovalTask | None:
    """Another step of ``task``'s case that one of ``people`` (users) decided, as the decider
    or as the one on whose behalf a delegate decided; None if there is none. Closing a public
    notice (公示期满) is no decision on the case and does not count."""
    ids = sorted({getattr(p, "pk", p) for p in people if p is not None})
    if not ids:
        return None
    return (ApprovalTask.objects.filter(case_id=task.case_id, decided_by__isnull=False,
                                        step__is_public_notice=False)
            .filter(Q(decided_by_id__in=ids) | Q(on_behalf_of_id__in=ids))
            .exclude(pk=task.pk).select_related("step").order_by("order", "pk").first())


def deciding_posts(user, now=None) -> list[Position]:
    """The user's current posts that decide approval steps: a post named by a step of a current
    flow at the post's own level (the flow set up in the post's unit, above or below it), or the
    post a named approver (节点到人) holds their step through. The auditor and other read-only
    posts decide nothing."""
    if user is None or not getattr(user, "pk", None) or not user.is_active:
        return []
    posts = list(Position.objects.filter(
        is_active=True, org_unit__is_closed=False,
        assignments__in=Assignment.objects.current(now or timezone.now()).filter(user_id=user.pk),
    ).select_related("org_unit").distinct())
    if not posts:
        return []
    steps = list(ApprovalStep.objects.filter(
        Q(assignee_kind=AssigneeKind.POSITION, position_name__in={p.name for p in posts})
        | Q(assignee_kind=AssigneeKind.USER, user_position_id__in=[p.pk for p in posts]),
        version__is_current=True, version__flow__is_active=True,
    ).values_list("assignee_kind", "position_name", "unit_depth", "user_position_id",
                  "version__flow__org_unit__path"))

    def decides(post: Position) -> bool:
        path = post.org_unit.path
        for kind, name, depth, user_position_id, flow_path in steps:
            if kind == AssigneeKind.USER:
                if user_position_id == post.pk:
                    return True
            elif (name == post.name and (depth is None or depth == unit_depth_of(post.org_unit))
                  and (path.startswith(flow_path) or flow_path.startswith(path))):
                return True
        return False

    return [post for post in posts if decides(post)]


def delegate_may_decide_in(user, unit_id: int, now=None) -> bool:
    """May ``user`` decide, as a delegate, for a post of the unit ``unit_id``? Only while they
    hold a post that decides approval steps (``deciding_posts``) in that very unit: the same
    level, the same subtree. Read-only posts (the auditor's) decide nothing. The one rule for
    creating a delegation and for deciding under it, so a delegate whose approver post ended
    decides nothing more there, whatever other post they keep."""
    return any(post.org_unit_id == unit_id for post in deciding_posts(user, now))


def is_self_or_household(*, user, case) -> bool:
    """Did ``user`` file this case, is it their own, or a household member's?"""
    if user is None:
        return False
    if case.filed_by_id is not None and case.filed_by_id == user.pk:
        return True
    member_id = getattr(user, "member_id", None)
    if not member_id:
        return False
    if member_id == case.applicant_id:
        return True
    actor_hash = Member.objects.filter(pk=member_id).values("id_number_hash")
    applicant_hash = Member.objects.filter(pk=case.applicant_id).values("id_number_hash")
    return HouseholdMember.objects.filter(
        Q(member_id=case.applicant_id, id_number_hash__in=actor_hash)
        | Q(member_id=member_id, id_number_hash__in=applicant_hash)
    ).exclude(id_number_hash="").exists()


# -- who is told ------------------------------------------------------------------------------

def position_holders(position_id: int, *, now=None, exclude_user_id: int | None = None):
    holders = User.objects.filter(
        is_active=True,
        assignments__in=Assignment.objects.current(now or timezone.now())
        .filter(position_id=position_id),
    ).distinct()
    if exclude_user_id:
        holders = holders.exclude(pk=exclude_user_id)
    return list(holders.order_by("pk"))


def task_candidates(task: ApprovalTask, *, now=None) -> list[User]:
    """The people who may decide ``task`` now by their post or name (delegates not included)."""
    if task.assigned_position_id:
        return position_holders(task.assigned_position_id, now=now)
    if task.assigned_user_id and task.assigned_user.is_active:
        return [task.assigned_user]
    return []


def escalation_recipients(task: ApprovalTask, *, now=None) -> list[User]:
    """Holders of the same-named post one level up; if there is none, the task's own post."""
    base = task.assigned_position or task.step.user_position
    if base is None:
        return task_candidates(task, now=now)
    parent_path = base.org_unit.path[: -OrgUnit.steplen]
    if parent_path:
        above = Position.objects.filter(org_unit__path=parent_path, name=base.name,
                                        is_active=True).first()
        if above is not None:
            holders = position_holders(above.pk, now=now)
            if holders:
                return holders
    return position_holders(base.pk, now=now)


# -- skip conditions --------------------------------------------------------------------------

def condition_names(expression: str) -> set[str]:
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise rules.RuleError(_("规则无法计算：%(error)s") % {"error": exc.msg}) from None
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return names - set(rules.FUNCTIONS)
