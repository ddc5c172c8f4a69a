"""/api/v1/approvals: an approver's to-do list, one task, decisions (single and batch), a case's
timeline, and delegation while away.

Every read goes through ``approvals.selectors`` (``todo_for_user``, ``task_get_for_user``,
``case_get_for_user``): a task or case the caller may not see is "not found". Who may decide
is the engine's rule (post held now, named person, delegate; never one's own, filed or a
household member's case → code ``self_approval``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from unionaid.accounts.models import User
from unionaid.approvals import assignees, registry, selectors, services
from unionaid.approvals.models import TaskStatus
from unionaid.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset_page, next_link
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema, QuerySchema
from unionaid.core.errors import NotFound, ServiceError

router = Router(tags=["approvals"])


def _no_store(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"


def _amount(facts: dict) -> Decimal | None:
    value = (facts or {}).get("amount")
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


class PublicTimelineRowOut(Schema):
    """One step of a case's timeline in a subject's answer (applications, archive records)."""

    task_id: int | None
    order: int
    step: str
    status: str
    status_label: str
    decided_by: str
    decided_as: str
    decided_at: dt.datetime | None
    comment: str
    skip_kind: str
    assignee: str
    due_at: dt.datetime | None
    is_overdue: bool


class StaffTimelineRowOut(PublicTimelineRowOut):
    """A timeline row for approvers and staff: also on whose behalf a delegate decided."""

    on_behalf_of: str


def public_timeline(rows: list[dict], *, hide_names: bool) -> list[dict]:
    """Timeline rows for an answer; the applicant sees each approver as their post only."""
    return selectors.posts_only(rows) if hide_names else rows


# -- GET /todo ----------------------------------------------------------------------------------

class TodoQuery(QuerySchema):
    cursor: str | None = Field(None, description="上一页返回的 next_cursor")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class TodoItemOut(Schema):
    """A ``selectors.TodoRow``, the amount to the fen."""

    id: int = Field(..., alias="pk")
    case_id: int
    subject_kind: str
    subject_id: int
    item_code: str = ""
    amount: Decimal | None = None
    applicant_name: str
    org_unit_name: str
    step: str
    order: int
    assignee: str
    allow_batch: bool
    fast_track: bool
    created_at: dt.datetime
    due_at: dt.datetime | None
    is_overdue: bool


class TodoOut(Schema):
    items: list[TodoItemOut]
    next_cursor: str | None
    next: str | None = Field(None, description="下一页的地址；没有更多时为 null")


@router.get("/todo", response={200: TodoOut, **READ_ERRORS, 422: ErrorOut},
            summary="我的待办（本岗位、点名给我、委托给我的；最早的在前，标出逾期）")
def todo(request, response: HttpResponse, filters: Query[TodoQuery]):
    page = keyset_page(selectors.todo_for_user(user=request.auth), cursor=filters.cursor,
                       limit=filters.limit, fetch=selectors.todo_slice)
    for row in page.items:
        row.amount = _amount({"amount": row.amount})
    _no_store(response)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- GET /tasks/{id} ----------------------------------------------------------------------------

class TaskDetailOut(Schema):
    id: int
    case_id: int
    status: str
    status_label: str
    step: str
    order: int
    assignee: str
    allow_batch: bool
    due_at: dt.datetime | None
    is_overdue: bool
    can_decide: bool = Field(..., description="当前用户现在能否办理此待办")
    decide_note: str = Field("", description="不能办理或须注意的原因，如同一人已办理本事项的另一节点")
    subject_kind: str
    subject_id: int
    subject_label: str
    applicant_name: str
    org_unit_name: str
    amount: Decimal | None
    facts: dict[str, Any]
    fast_track: bool
    fast_track_reason: str
    case_status: str
    timeline: list[StaffTimelineRowOut]


def _subject_label(case) -> str:
    if registry.has_subject(case.subject_kind):
        return registry.subject_handler(case.subject_kind).label(case.subject_id)
    return f"{case.subject_kind}#{case.subject_id}"


@router.get("/tasks/{int:task_id}", response={200: TaskDetailOut, **READ_ERRORS},
            summary="待办详情（申请概要、审批进度）")
def task_detail(request, response: HttpResponse, task_id: int):
    user = request.auth
    task = selectors.task_get_for_user(user=user, pk=task_id)
    case = task.case
    pending = task.status == TaskStatus.PENDING
    authority = assignees.authority(user, task) if pending else None
    same = (selectors.same_decider(task, actor=user, on_behalf_of=authority.on_behalf_of)
            if authority is not None else None)
    _no_store(response)
    return {
        "id": task.pk, "case_id": case.pk, "status": task.status,
        "status_label": task.get_status_display(), "step": task.step.name, "order": task.order,
        "assignee": (assignees.task_assignee_post_label(task)
                     if user.member_id == case.applicant_id
                     else assignees.task_assignee_label(task)),
        "allow_batch": task.step.allow_batch,
        "due_at": task.due_at,
        "is_overdue": bool(pending and task.due_at and task.due_at < timezone.now()),
        "can_decide": bool(authority is not None and (same is None or same.allowed)
                           and not assignees.is_self_or_household(user=user, case=case)),
        "decide_note": same.message if same is not None else "",
        "subject_kind": case.subject_kind, "subject_id": case.subject_id,
        "subject_label": _subject_label(case), "applicant_name": case.applicant.name,
        "org_unit_name": case.org_unit.name, "amount": _amount(case.facts), "facts": case.facts,
        "fast_track": case.fast_track, "fast_track_reason": case.fast_track_reason,
        "case_status": case.status,
        "timeline": public_timeline(selectors.case_timeline(case=case, include_upcoming=True),
                                    hide_names=user.member_id == case.applicant_id),
    }


# -- POST /tasks/{id}/decide --------------------------------------------------------------------

class DecideIn(InputSchema):
    decision: Literal["approve", "reject", "return"] = Field(
        ..., description="approve 同意、reject 驳回、return 退回补充材料")
    comment: str = Field("", max_length=500, description="驳回、退回时必填")


class DecideOut(Schema):
    id: int
    status: str
    decided_at: dt.datetime | None
    decided_as: str
    comment: str
    case_id: int
    case_status: str = Field(..., alias="case.status")


@router.post("/tasks/{int:task_id}/decide", response={200: DecideOut, **WRITE_ERRORS},
             summary="办理待办：同意、驳回或退回补充材料")
def task_decide(request, task_id: int, payload: DecideIn):
    # The service locks the task and checks that the caller may decide it; only when it refuses
    # is the task's visibility looked up, so a task the caller may not see is "not found"
    # (journaled) and one they may see gets the service's own answer. Deciding needs no
    # separate read of the task (it was one heavy SELECT of the request's ~20).
    try:
        return services.task_decide(actor=request.auth, task=task_id, decision=payload.decision,
                                    comment=payload.comment)
    except ServiceError:
        selectors.task_get_for_user(user=request.auth, pk=task_id)
        raise


# -- POST /tasks/decide-batch -------------------------------------------------------------------

class DecideBatchIn(InputSchema):
    task_ids: list[int] = Field(..., min_length=1, max_length=200)
    decision: Literal["approve", "reject", "return"]
    comment: str = Field("", max_length=500)


class DecidedTaskOut(Schema):
    id: int
    status: str
    case_id: int


class DecideBatchOut(Schema):
    decided: list[DecidedTaskOut]


@router.post("/tasks/decide-batch", response={200: DecideBatchOut, **WRITE_ERRORS},
             summary="批量办理（仅限流程允许批量审批的节点；全部成功或全部不办）")
def tasks_decide_batch(request, payload: DecideBatchIn):
    ids = sorted(set(payload.task_ids))
    for pk in ids:  # each one must be visible to the caller, else "not found"
        selectors.task_get_for_user(user=request.auth, pk=pk)
    decided = services.tasks_decide_batch(actor=request.auth, task_ids=ids,
                                          decision=payload.decision, comment=payload.comment)
    return {"decided": decided}


# -- GET /cases/{id}/timeline -------------------------------------------------------------------

class CaseTimelineOut(Schema):
    case_id: int
    subject_kind: str
    subject_id: int
    status: str
    status_label: str
    flow: str
    flow_version: int
    fast_track: bool
    started_at: dt.datetime
    finished_at: dt.datetime | None
    steps: list[StaffTimelineRowOut]


@router.get("/cases/{case_id}/timeline", response={200: CaseTimelineOut, **READ_ERRORS},
            summary="审批进度（每个节点的状态、办理岗位、时间和意见）")
def case_timeline(request, response: HttpResponse, case_id: int):
    user = request.auth
    case = selectors.case_get_for_user(user=user, pk=case_id)
    rows = selectors.case_timeline(case=case, include_upcoming=True)
    _no_store(response)
    return {
        "case_id": case.pk, "subject_kind": case.subject_kind, "subject_id": case.subject_id,
        "status": case.status, "status_label": case.get_status_display(),
        "flow": case.flow_version.flow.name, "flow_version": case.flow_version.number,
        "fast_track": case.fast_track, "started_at": case.started_at,
        "finished_at": case.finished_at,
        "steps": public_timeline(rows, hide_names=user.member_id == case.applicant_id),
    }


# -- POST /delegations --------------------------------------------------------------------------

class DelegationCreateIn(InputSchema):
    to_username: str = Field(..., min_length=1, max_length=150, description="代办人的登录名")
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str = Field("", max_length=200)


class DelegationCreateOut(Schema):
    id: int
    to_user_id: int
    to_user_name: str = Field(..., alias="to_user.display_name")
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str


def _delegate(username: str) -> User | None:
    """An active login by name; the service refuses anyone without a current post (the same
    answer as for an unknown name, so the call can't be used to probe for logins)."""
    return User.objects.filter(username__iexact=username.strip(), is_active=True).first()


@router.post("/delegations", response={201: DelegationCreateOut, **WRITE_ERRORS},
             summary="委托代办：外出期间由他人办理我的待办")
def delegation_create(request, payload: DelegationCreateIn):
    to_user = _delegate(payload.to_username)
    if to_user is None:
        message = _("代办人须为在岗的工作人员。")
        raise ServiceError(message, code="delegate_not_staff", fields={"to_username": message})
    delegation = services.delegation_create(actor=request.auth, to_user=to_user,
                                            starts_at=payload.starts_at, ends_at=payload.ends_at,
                                            reason=payload.reason)
    return Status(201, delegation)


# -- GET /delegations, POST /delegations/{id}/end -------------------------------------------------

class DelegationOut(Schema):
    id: int
    from_user_name: str = Field(..., alias="from_user.display_name")
    to_user_name: str = Field(..., alias="to_user.display_name")
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str
    is_active: bool = Field(..., description="现在是否生效")


class DelegationsOut(Schema):
    given: list[DelegationOut] = Field(..., description="我委托他人的（最新的在前）")
    received: list[DelegationOut] = Field(..., description="他人委托我的（最新的在前）")


@router.get("/delegations", response={200: DelegationsOut, **READ_ERRORS},
            summary="我的委托代办：我委托他人的和他人委托我的（生效中、未开始、已结束）")
def delegation_list(request, response: HttpResponse):
    _no_store(response)
    return selectors.delegations_of(user=request.auth)


@router.post("/delegations/{int:delegation_id}/end", response={200: DelegationOut, **WRITE_ERRORS},
             summary="结束委托（仅委托人本人）")
def delegation_end(request, delegation_id: int):
    delegation = selectors.delegation_given_by(user=request.auth, pk=delegation_id)
    if delegation is None:
        raise NotFound()
    delegation = services.delegation_end(actor=request.auth, delegation=delegation)
    delegation.is_active = False
    return delegation
