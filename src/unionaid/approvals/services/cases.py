"""Cases and decisions: start a case on the current flow version, decide its steps in strict
order, withdraw it, review a fast-tracked one. Each change writes its audit event in the same
transaction; the subject's handler is called inside that transaction too."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.approvals import assignees, registry
from unionaid.approvals.calendar import add_working_days
from unionaid.approvals.models import (
    ApprovalCase,
    ApprovalStep,
    ApprovalTask,
    CaseStatus,
    SkipKind,
    TaskStatus,
)
from unionaid.approvals.selectors import same_decider, same_decider_excluded, todo_for_user
from unionaid.approvals.services.flows import flow_resolve, plain_facts, skip_reason, steps_of
from unionaid.approvals.services.notices import task_started_notify
from unionaid.audit.services import atomic_audited, audit_record
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError

DECISIONS = {
    "approve": TaskStatus.APPROVED,
    "reject": TaskStatus.REJECTED,
    "return": TaskStatus.RETURNED,
}
TASK_RELATED = ("step__user_position__org_unit", "assigned_position__org_unit", "assigned_user")


def _handler(kind: str):
    if not registry.has_subject(kind):
        raise ServiceError(_("未知的审批事项类型。"), code="unknown_subject")
    return registry.subject_handler(kind)


def _due_at(step: ApprovalStep, now):
    if step.is_public_notice and step.notice_working_days:
        end = add_working_days(timezone.localdate(now), step.notice_working_days)
        return timezone.make_aware(dt.datetime.combine(end, dt.time(18, 0)))
    if not step.due_days:
        return None
    return now + dt.timedelta(days=step.due_days)


def _audit(actor, action: str, case: ApprovalCase, **changes: Any) -> None:
    audit_record(
        actor=actor, action=action, target=case, org_unit_path=case.org_unit.path,
        changes={"subject_kind": case.subject_kind, "subject_id": case.subject_id, **changes},
    )


def _advance(case: ApprovalCase, *, actor, after: int, handler,
             steps: list[ApprovalStep] | None = None) -> ApprovalTask | None:
    """Create the next pending task after step ``after``, recording skipped steps on the way;
    with no step left the case is approved. Skip conditions see the case's facts now.
    ``steps``: the steps after ``after`` when the caller knows them already."""
    now = timezone.now()
    for step in steps_of(case.flow_version_id, after=after) if steps is None else steps:
        kind, reason, _error = skip_reason(
            step, org_unit=case.org_unit, facts=case.facts, fast_track=case.fast_track,
            fast_track_reason=case.fast_track_reason,
        )
        if kind:
            position = user = None
            if kind == SkipKind.FAST_TRACK:  # remember who would have decided: they review
                try:
                    position, user = assignees.step_assignee(step, case.org_unit)
                except ServiceError:
                    position = user = None
            ApprovalTask.objects.create(
                case=case, step=step, order=step.order, status=TaskStatus.SKIPPED,
                skip_kind=kind, comment=reason[:500], decided_at=now,
                assigned_position=position, assigned_user=user,
            )
            _audit(actor, "approval.step_skip", case, order=step.order, step=step.name,
                   skip_kind=kind, reason=reason[:200],
                   **({"condition": step.skip_condition} if kind == SkipKind.CONDITION else {}))
            continue
        position, user = assignees.step_assignee(step, case.org_unit)
        task = ApprovalTask.objects.create(
            case=case, step=step, order=step.order, status=TaskStatus.PENDING,
            assigned_position=position, assigned_user=user, due_at=_due_at(step, now),
        )
        case.current_order = step.order
        case.save(update_fields=["current_order"])
        task_started_notify(case=case, task=task, subject=handler)
        handler.on_step_started(case=case, task=task)
        return task
    case.status, case.finished_at = CaseStatus.APPROVED, now
    case.save(update_fields=["status", "finished_at"])
    _audit(actor, "approval.case_approved", case, flow_version=case.flow_version_id)
    handler.on_approved(case=case, actor=actor)
    return None


@atomic_audited
def case_start(
    *, actor, subject_kind: str, subject_id: int, subject_key: str, org_unit, applicant,
    facts: dict, fast_track: bool = False, fast_track_reason: str = "",
) -> ApprovalCase:
    """Start a case on the flow version current now (the case keeps it) and open its first
    step that does not skip; if every step skips, the case is approved at once."""
    handler = _handler(subject_kind)
    fast_track_reason = (fast_track_reason or "").strip()
    if fast_track and not fast_track_reason:
        raise ServiceError(_("特事特办须填写理由。"), code="fast_track_reason_required",
                           fields={"fast_track_reason": _("特事特办须填写理由。")})
    if ApprovalCase.objects.filter(subject_kind=subject_kind, subject_id=subject_id,
                                   status=CaseStatus.IN_PROGRESS).exists():
        raise Conflict(_("该事项已在审批中，不能重复提交。"), code="case_open")
    version = flow_resolve(subject_kind=subject_kind, subject_key=subject_key, org_unit=org_unit)
    case = ApprovalCase.objects.create(
        subject_kind=subject_kind, subject_id=subject_id, flow_version=version,
        org_unit=org_unit, applicant=applicant, facts=plain_facts(facts),
        filed_by=actor if getattr(actor, "pk", None) else None,
        fast_track=bool(fast_track), fast_track_reason=fast_track_reason[:200],
    )
    _audit(actor, "approval.case_start", case, flow=version.flow.name,
           flow_version=version.number, fast_track=case.fast_track,
           fast_track_reason=case.fast_track_reason)
    _advance(case, actor=actor, after=0, handler=handler)
    return case


def _locked(task, actor=None) -> tuple[ApprovalCase, ApprovalTask]:
    """Lock the case, then re-read its task (its state may have changed since it was read).
    The task comes with its step and ``has_next_step`` (does its flow version have a step
    after it?), so that deciding the last step needs no look at the flow; with ``actor``,
    also ``actor_decided_other`` (the same-decider rule needs no further read when false)."""
    task_id = getattr(task, "pk", task)
    case_id = getattr(task, "case_id", None) or Subquery(
        ApprovalTask.objects.filter(pk=task_id).values("case_id")[:1])
    case = (ApprovalCase.objects.select_for_update(of=("self",)).select_related("org_unit")
            .filter(pk=case_id).first())
    if case is None:
        raise NotFound()
    later = ApprovalStep.objects.filter(version_id=case.flow_version_id,
                                        order__gt=OuterRef("order"))
    tasks = ApprovalTask.objects.select_for_update(of=("self",)).select_related("step")
    if actor is not None:  # did the actor decide another step of the case? (same read)
        tasks = tasks.annotate(actor_decided_other=Exists(
            ApprovalTask.objects.filter(Q(decided_by_id=actor.pk) | Q(on_behalf_of_id=actor.pk),
                                        case_id=case.pk, step__is_public_notice=False)
            .exclude(pk=OuterRef("pk"))))
    task = tasks.annotate(has_next_step=Exists(later)).get(pk=task_id, case_id=case.pk)
    task.case = case  # the caller's answer reads task.case: no second SELECT
    return case, task


def _refuse_self(actor, case: ApprovalCase, on_behalf_of=None) -> None:
    for person in (actor, on_behalf_of):
        if person is not None and assignees.is_self_or_household(user=person, case=case):
            raise PermissionDenied(
                _("不能审批本人提交、本人或家庭成员的申请，请由其他审批人办理。"),
                code="self_approval",
            )


@atomic_audited
def task_decide(*, actor, task, decision: str, comment: str = "") -> ApprovalTask:
    """Decide the case's current step: approve (→ next step or final approval), reject, or
    return for more material. Reject and return need a comment."""
    status = DECISIONS.get(decision)
    if status is None:
        raise ServiceError(_("审批意见无效。"), code="invalid_decision")
    comment = (comment or "").strip()
    if status != TaskStatus.APPROVED and not comment:
        raise ServiceError(_("驳回或退回时必须填写意见。"), code="comment_required",
                           fields={"comment": _("驳回或退回时必须填写意见。")})
    case, task = _locked(task, actor)
    if (case.status != CaseStatus.IN_PROGRESS or task.status != TaskStatus.PENDING
            or task.order != case.current_order):
        raise Conflict(_("该待办不是当前审批节点或已办理，请刷新后再试。"), code="not_current")
    now = timezone.now()
    auth = assignees.authority(actor, task, now=now)
    if auth is None:
        raise PermissionDenied(_("您不是该节点的审批人。"), code="not_assignee")
    _refuse_self(actor, case, auth.on_behalf_of)
    same = (same_decider(task, actor=actor, on_behalf_of=auth.on_behalf_of)
            if task.actor_decided_other or auth.on_behalf_of is not None else None)
    if same is not None and not same.allowed:
        raise PermissionDenied(same.message, code="same_decider")
    step = task.step
    if (status == TaskStatus.APPROVED and step.is_public_notice and task.due_at
            and now < task.due_at):
        raise Conflict(_("公示期未满（至%(end)s），暂不能通过。")
                       % {"end": timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")},
                       code="notice_period")
    handler = _handler(case.subject_kind)
    if status == TaskStatus.APPROVED:
        # e.g. objections raised during a public notice must be settled
        handler.before_approve(case=case, task=task)
    task.status, task.decided_at, task.decided_by = status, now, actor
    task.decided_as, task.on_behalf_of = auth.decided_as[:200], auth.on_behalf_of
    task.comment = comment[:500]
    task.save(update_fields=["status", "decided_at", "decided_by", "decided_as", "on_behalf_of",
                             "comment"])
    _audit(actor, "approval.task_decide", case, task=task.pk, order=task.order, step=step.name,
           decision=decision, comment=comment[:200], decided_as=task.decided_as,
           on_behalf_of=auth.on_behalf_of.pk if auth.on_behalf_of else None,
           **({"same_decider": True, "same_decider_earlier_task": same.earlier.pk,
               "same_decider_earlier_order": same.earlier.order} if same is not None else {}))
    if status == TaskStatus.APPROVED:
        _advance(case, actor=actor, after=task.order, handler=handler,
                 steps=None if task.has_next_step else [])
    else:
        case.status = CaseStatus.REJECTED if status == TaskStatus.REJECTED else CaseStatus.RETURNED
        case.finished_at = now
        case.save(update_fields=["status", "finished_at"])
        (handler.on_rejected if status == TaskStatus.REJECTED else handler.on_returned)(
            case=case, actor=actor)
    return task


def _same_decider_refusal(actor, task_ids) -> str:
    """Why the batch refuses ``task_ids`` (pending tasks left out of the actor's to-do list),
    when every one of them is left out only because one person decides at most one step of a
    case; "" otherwise. It says who decided: the actor, or the person they act for."""
    tasks = list(ApprovalTask.objects.filter(pk__in=task_ids, status=TaskStatus.PENDING)
                 .filter(same_decider_excluded(actor)).select_related("step"))
    own, delegated = set(), {}
    for task in tasks:
        auth = assignees.authority(actor, task)
        same = same_decider(task, actor=actor, on_behalf_of=auth.on_behalf_of) if auth else None
        if same is None or same.allowed:
            return ""
        if same.by is None:
            own.add(task.step.name)
        else:
            delegated.setdefault(same.by.display_name, set()).add(task.step.name)
    if len(tasks) != len(task_ids):
        return ""
    parts = []
    if own:
        parts.append(_("以下待办所属事项的另一节点已由您办理，同一人不能办理同一事项的两个节点：%s")
                     % "、".join(sorted(own)))
    for who, steps in sorted(delegated.items()):
        parts.append(_("以下待办所属事项的另一节点已由您所代办的委托人（%(who)s）办理，同一人不能"
                       "办理同一事项的两个节点：%(steps)s")
                     % {"who": who, "steps": "、".join(sorted(steps))})
    return " ".join(parts)


@atomic_audited
def tasks_decide_batch(*, actor, task_ids, decision: str, comment: str = "") -> list[ApprovalTask]:
    """Decide several tasks at once, all or none; only steps whose flow allows batch approval."""
    ids = sorted({int(pk) for pk in task_ids})
    if not ids:
        raise ServiceError(_("请选择要办理的待办。"), code="nothing_selected")
    # Only tasks in the actor's own to-do list: anything else is "not found", so a batch can't
    # be used to probe which task ids exist or which steps they are at.
    rows = list(todo_for_user(user=actor).filter(pk__in=ids)
                .values_list("pk", "case_id", "step__allow_batch", "step__name"))
    if len(rows) != len(ids):
        missing = set(ids) - {pk for pk, *_rest in rows}
        message = _same_decider_refusal(actor, missing)
        if message:  # they are left out only because of the rule
            raise PermissionDenied(message, code="same_decider")
        raise NotFound()
    refused = sorted({name for _pk, _case, allowed, name in rows if not allowed})
    if refused:
        raise PermissionDenied(
            _("以下节点不允许批量审批，请逐件办理：%s") % "、".join(refused),
            code="batch_not_allowed",
        )
    # lock cases in one order so that two batches never wait for each other in a cycle
    ordered = sorted(rows, key=lambda r: (r[1], r[0]))
    return [task_decide(actor=actor, task=pk, decision=decision, comment=comment)
            for pk, *_rest in ordered]


@atomic_audited
def case_withdraw(*, actor, case: ApprovalCase) -> ApprovalCase:
    """Cancel the case's pending task(s). The subject's service checks who may withdraw."""
    case = (ApprovalCase.objects.select_for_update(of=("self",)).select_related("org_unit")
            .get(pk=case.pk))
    if case.status != CaseStatus.IN_PROGRESS:
        raise Conflict(_("该事项已办结，不能撤回。"), code="case_closed")
    now = timezone.now()
    cancelled = ApprovalTask.objects.filter(case=case, status=TaskStatus.PENDING).update(
        status=TaskStatus.CANCELLED, decided_at=now)
    case.status, case.finished_at = CaseStatus.WITHDRAWN, now
    case.save(update_fields=["status", "finished_at"])
    _audit(actor, "approval.case_withdraw", case, cancelled=cancelled)
    return case


@atomic_audited
def fast_track_review(*, actor, case: ApprovalCase, comment: str) -> ApprovalCase:
    """The review after a fast-tracked case, by someone who would have decided a skipped step."""
    comment = (comment or "").strip()
    if not comment:
        raise ServiceError(_("请填写事后审核意见。"), code="comment_required",
                           fields={"comment": _("请填写事后审核意见。")})
    case = (ApprovalCase.objects.select_for_update(of=("self",)).select_related("org_unit")
            .get(pk=case.pk))
    if not case.fast_track:
        raise Conflict(_("该事项不是特事特办，无需事后审核。"), code="not_fast_track")
    if case.fast_track_reviewed_at is not None:
        raise Conflict(_("该特事特办事项已完成事后审核。"), code="already_reviewed")
    skipped = (ApprovalTask.objects.filter(case=case, skip_kind=SkipKind.FAST_TRACK)
               .select_related(*TASK_RELATED))
    auth = next(filter(None, (assignees.authority(actor, t) for t in skipped)), None)
    if auth is None:
        raise PermissionDenied(_("只有被特事特办跳过节点的审批人可以进行事后审核。"),
                               code="not_reviewer")
    _refuse_self(actor, case, auth.on_behalf_of)
    case.fast_track_reviewed_at, case.fast_track_reviewed_by = timezone.now(), actor
    case.fast_track_review_comment = comment[:500]
    case.save(update_fields=["fast_track_reviewed_at", "fast_track_reviewed_by",
                             "fast_track_review_comment"])
    _audit(actor, "approval.fast_track_review", case, comment=comment[:200],
           reviewed_as=auth.decided_as)
    return case
