"""Reads of the approval engine: an approver's to-do list, a case's timeline, one task.

``todo_for_user`` is the hot path: two tiny lookups (the user's current posts and who delegated
to them; for a delegate, two more for their deciding posts) and one query on ApprovalTask that uses the (assigned_position|assigned_user, status,
created_at) indexes; nothing per row. The to-do page and API load one page of it with
``todo_slice``: the page's ids first, then those tasks with what the list shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import BooleanField, Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.accounts.models import Assignment, User
from unionaid.approvals import assignees, conditions, registry
from unionaid.approvals.models import (
    ApprovalCase,
    ApprovalFlow,
    ApprovalTask,
    AssigneeKind,
    CaseStatus,
    Delegation,
    FlowVersion,
    SkipKind,
    TaskStatus,
)
from unionaid.approvals.skips import skip_reason
from unionaid.audit.scoped import get_in_scope, scoped_getter
from unionaid.core import memo
from unionaid.core.masking import looks_like_identifier
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import units_visible_to

TODO_RELATED = ("case__org_unit", "case__applicant", "step", "assigned_position__org_unit",
                "assigned_user")
NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class Reach:
    """The pending tasks a user may decide now. ``positions``: the posts whose tasks they
    decide (their own, and their delegators' where they may act as delegate); ``users``: the
    user and everyone who currently delegates to them; ``named``: the named tasks (节点到人)
    among them; ``delegated``: for each delegator, the tasks the user reaches only through that
    delegator (a post the user does not hold, or the delegator's named step) — the engine would
    decide those on the delegator's behalf."""

    positions: list[int]
    users: list[int]
    named: Q
    delegated: dict[int, Q]


def _reach(user, now) -> Reach:
    """What ``user`` may decide now: their own posts and name, and those of everyone who
    currently delegates to them — a delegator's post or named step only in a unit where the
    user holds a post that decides approval steps (``assignees.delegate_may_decide_in``: the
    rule of delegation, at creation and at decision)."""
    delegators = list(assignees.active_delegations(user, now)
                      .values_list("from_user_id", flat=True).distinct())
    held = list(
        Assignment.objects.current(now)
        .filter(user_id__in=[user.pk, *delegators], position__is_active=True,
                position__org_unit__is_closed=False, user__is_active=True)
        .values_list("user_id", "position_id", "position__org_unit_id")
    )
    mine = {post for who, post, _unit in held if who == user.pk}
    deciding_units = ({post.org_unit_id for post in assignees.deciding_posts(user, now)}
                      if delegators else set())
    via = {d: sorted({post for who, post, unit in held
                      if who == d and unit in deciding_units and post not in mine})
           for d in delegators}
    positions = sorted(mine.union(*via.values()))
    # Named tasks count only while the named person still holds the post the step names.
    named = Q(assigned_user_id=user.pk) & (
        Q(step__user_position__isnull=True) | Q(step__user_position_id__in=positions))
    delegated = {}
    for d in delegators:
        theirs = Q(assigned_user_id=d, step__user_position_id__in=positions,
                   step__user_position__org_unit_id__in=deciding_units)
        named |= theirs
        delegated[d] = (Q(assigned_position_id__in=via[d]) | theirs) if via[d] else theirs
    if not ApprovalTask.objects.filter(assigned_user_id__in=[user.pk, *delegators],
                                       status=TaskStatus.PENDING).exists():
        # Nobody in reach has a named task waiting (the usual case): the list is the posts'
        # alone, which PostgreSQL reads in order off task_position_todo_idx and stops after a
        # page, instead of joining every pending task of the posts to sort them (1M-member
        # benchmark: 0.8 ms instead of 7.4 for 508 tasks).
        named = NOTHING
    return Reach(positions=positions, users=[user.pk, *delegators], named=named,
                 delegated=delegated)


def reach_for(user) -> Reach:
    """What ``user`` may decide now (``_reach``), for a page that lists both their to-do and
    their fast-track reviews: computed once, passed to both."""
    return _reach(user, timezone.now())


def todo_for_user(*, user, reach: Reach | None = None) -> QuerySet[ApprovalTask]:
    """Pending tasks the user may decide now, oldest first, with ``is_overdue``. Left out: cases
    the user filed or that are their own, and cases where the user decided (or had a delegate
    decide) another step — or, for a task they would decide as someone's delegate, where that
    person did — unless the flow allows the same decider (``same_decider_excluded``).
    The to-do page, its batch approval and the API all list tasks through this function."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ApprovalTask.objects.none()
    now = timezone.now()
    reach = reach or _reach(user, now)
    where = reach.named
    if reach.positions:
        where |= Q(assigned_position_id__in=reach.positions)
    qs = (
        ApprovalTask.objects.filter(where, status=TaskStatus.PENDING)
        .exclude(case__filed_by_id=user.pk)
        .exclude(same_decider_excluded(user, reach=reach))
        .select_related(*TODO_RELATED)
        .annotate(is_overdue=Case(When(due_at__lt=now, then=Value(True)), default=Value(False),
                                  output_field=BooleanField()))
        .order_by("created_at", "pk")
    )
    if user.member_id:
        qs = qs.exclude(case__applicant_id=user.member_id)
    return qs


@dataclass(slots=True)
class TodoRow:
    """One row of a to-do page (the page and the API): what the list shows, read as plain
    values, no model instances. ``amount`` and ``item_code`` are the case's facts as text (as
PostgreSQL's ``->>`` gives them; SQLite's JSON_EXTRACT gives numbers)."""

    pk: int
    case_id: int
    order: int
    created_at: object
    due_at: object
    is_overdue: bool
    subject_kind: str
    subject_id: int
    amount: str | None
    item_code: str
    applicant_name: str
    org_unit_name: str
    step: str
    allow_batch: bool
    is_public_notice: bool
    fast_track: bool
    assignee: str


_TODO_VALUES = (
    "pk", "case_id", "order", "created_at", "due_at", "assigned_position_id",
    "assigned_user_id", "case__subject_kind", "case__subject_id", "case__fast_track",
    "case__applicant__name", "case__org_unit__name", "step__name", "step__allow_batch",
    "step__is_public_notice", "assigned_position__name", "assigned_position__org_unit__name",
    "assigned_user__first_name", "assigned_user__last_name", "assigned_user__username",
)


def _assignee(v: dict) -> str:
    """``assignees.task_assignee_label`` from the row's values: "甲车务段·帮扶干事" or a
    named person (``User.display_name``)."""
    if v["assigned_position_id"]:
        return f"{v['assigned_position__org_unit__name']}·{v['assigned_position__name']}"
    if v["assigned_user_id"]:
        full = f"{v['assigned_user__first_name']} {v['assigned_user__last_name']}".strip()
        return full or v["assigned_user__username"]
    return ""


def todo_slice(qs: QuerySet[ApprovalTask], start: int, stop: int) -> list[TodoRow]:
    """Rows ``start:stop`` of a to-do list (``todo_for_user``, ``todo_filtered``), the way
    the to-do page and the API page it (``fetch`` of ``cheap_page`` and ``keyset_page``): first
    the ids and ``is_overdue`` by the list's filter and order alone (no join for display), then
    what those few rows show, as plain values (``TodoRow``). In one query PostgreSQL joined
    every pending task of the user to its case, applicant, step and post before keeping one
    page (the 1M-member benchmark: 508 tasks for 51); and a page of 50 tasks built as model
    instances with their case, applicant, unit, step and post made some 350 objects, a quarter
    of the to-do API's time under load (issue 11's serve benchmark)."""
    head = list(qs.values_list("pk", "is_overdue")[start:stop])
    if not head:
        return []
    found = {
        v["pk"]: v for v in ApprovalTask.objects.filter(pk__in=[pk for pk, _o in head])
        .annotate(amount=KeyTextTransform("amount", "case__facts"),
                  item_code=KeyTextTransform("item_code", "case__facts"))
        .values(*_TODO_VALUES, "amount", "item_code")
    }
    rows = []
    for pk, overdue in head:
        v = found.get(pk)
        if v is None:  # deleted in between: as if it had gone a moment earlier
            continue
        rows.append(TodoRow(
            pk=pk, case_id=v["case_id"], order=v["order"], created_at=v["created_at"],
            due_at=v["due_at"], is_overdue=bool(overdue), subject_kind=v["case__subject_kind"],
            subject_id=v["case__subject_id"],
            amount=None if v["amount"] is None else str(v["amount"]),
            item_code="" if v["item_code"] is None else str(v["item_code"]),
            applicant_name=v["case__applicant__name"], org_unit_name=v["case__org_unit__name"],
            step=v["step__name"], allow_batch=v["step__allow_batch"],
            is_public_notice=v["step__is_public_notice"], fast_track=v["case__fast_track"],
            assignee=_assignee(v)))
    return rows


# The to-do list's orders: (value, label) for the filter form, and the ORDER BY of each.
TODO_SORTS = {
    "received": ("created_at", "pk"),
    "due": (F("due_at").asc(nulls_last=True), "created_at", "pk"),
    "amount": (KeyTransform("amount", "case__facts").desc(nulls_last=True), "created_at", "pk"),
}
ITEM_SEPARATOR = ":"


@dataclass(frozen=True)
class TodoFilter:
    """What the approver narrowed their to-do list to. ``query``: applicant name, item name or
    number (never an ID number or phone: those are searched by POST on the member pages);
    ``item``: a registered kind, or "<kind>:<key>" for one item; ``unit``: cases of that unit
    and below; ``overdue``: only tasks past their deadline; ``sort``: one of ``TODO_SORTS``."""

    query: str = ""
    item: str = ""
    unit: OrgUnit | None = None
    overdue: bool = False
    sort: str = "received"


def todo_item_choices() -> list[tuple[str, str]]:
    """(value, label) of every item a to-do may be filtered by: each registered kind, and each
    key of a kind ("帮扶 · 临时救助（TEMP）"). Kept per language under the access stamp
    (``core.memo``): the domains' catalogs change it (e.g. assistance migration 0007)."""
    return list(memo.kept(f"approvals.todo_item_choices:{get_language()}", _item_choices))


def _item_choices() -> list[tuple[str, str]]:
    out = []
    for subject in registry.subjects():
        out.append((subject.kind, str(subject.title)))
        for key, label in subject.key_labels().items():
            out.append((f"{subject.kind}{ITEM_SEPARATOR}{key}", f"{subject.title} · {label}"))
    return out


def todo_units_for_user(*, user) -> QuerySet[OrgUnit]:
    """The units a to-do may be filtered by: those the user may view cases of, for any
    registered kind."""
    units = OrgUnit.objects.none()
    for perm in sorted({s.view_permission for s in registry.subjects()}):
        units = units | units_visible_to(user=user, perm=perm)
    return units.distinct().order_by("path")


def _subjects_of_keys(kind: str, keys: list[str]) -> Q:
    if not keys or not registry.has_subject(kind):
        return Q(pk__in=[])
    ids = registry.subject_handler(kind).subject_ids_for_keys(keys)
    return Q(case__subject_kind=kind, case__subject_id__in=ids)


def _title_matches(query: str) -> Q:
    """Cases whose kind or item is called something containing ``query``."""
    where = Q(pk__in=[])
    for subject in registry.subjects():
        if query in str(subject.title):
            where |= Q(case__subject_kind=subject.kind)
            continue
        keys = [key for key, label in subject.key_labels().items() if query in str(label)]
        if keys:
            where |= _subjects_of_keys(subject.kind, keys)
    return where


def todo_filtered(*, user, flt: TodoFilter, reach: Reach | None = None
                  ) -> QuerySet[ApprovalTask]:
    """The user's to-do list (``todo_for_user``) narrowed and ordered as ``flt`` says. An ID
    number or phone as ``query`` finds nothing (it must not travel in a URL)."""
    qs = todo_for_user(user=user, reach=reach)
    query = (flt.query or "").strip()
    if query:
        if looks_like_identifier(query):
            return qs.none()
        where = Q(case__applicant__name__contains=query) | _title_matches(query)
        number = query.lstrip("#")
        if number.isdigit():
            where |= Q(case__subject_id=int(number)) | Q(case_id=int(number))
        qs = qs.filter(where)
    if flt.item:
        kind, _sep, key = flt.item.partition(ITEM_SEPARATOR)
        qs = qs.filter(_subjects_of_keys(kind, [key]) if key else Q(case__subject_kind=kind))
    if flt.unit is not None:
        qs = qs.filter(case__org_unit__path__startswith=flt.unit.path)
    if flt.overdue:
        qs = qs.filter(due_at__lt=timezone.now())
    return qs.order_by(*TODO_SORTS.get(flt.sort, TODO_SORTS["received"]))


def todo_next(*, user, flt: TodoFilter, after: ApprovalTask | None = None) -> ApprovalTask | None:
    """The next task to decide in the same filtered list: the first one still there (the task
    just decided has left it), other than ``after``."""
    qs = todo_filtered(user=user, flt=flt)
    if after is not None:
        qs = qs.exclude(pk=after.pk)
    return qs.first()


@dataclass(frozen=True)
class SameDecider:
    """The person deciding a task (or the one a delegate acts for) decided ``earlier``, another
    step of the same case. ``allowed``: the case's flow allows it (a very small union).
    ``by``: the person the delegate acts for, when it was they (not the delegate) who decided
    ``earlier``; None when it was the person deciding now."""

    earlier: ApprovalTask
    allowed: bool
    by: User | None = None

    @property
    def message(self) -> str:
        step = self.earlier.step.name
        if self.by is not None:
            who = self.by.display_name
            if self.allowed:
                return _("本流程允许同一人办理多个节点（仅适用于人员很少的工会）：您所代办的委托人"
                         "（%(who)s）已办理本事项的“%(step)s”节点，本次办理将记入审计日志。"
                         ) % {"who": who, "step": step}
            return _("您所代办的委托人（%(who)s）已办理本事项的“%(step)s”节点，同一人不能办理"
                     "同一事项的两个节点，请由其他审批人办理。") % {"who": who, "step": step}
        if self.allowed:
            return _("本流程允许同一人办理多个节点（仅适用于人员很少的工会）：您已办理本事项的"
                     "“%(step)s”节点，本次办理将记入审计日志。") % {"step": step}
        return _("您已办理本事项的“%(step)s”节点，同一人不能办理同一事项的两个节点，"
                 "请由其他审批人办理。") % {"step": step}


def same_decider(task, *, actor, on_behalf_of=None) -> SameDecider | None:
    """Whether ``actor`` (deciding on behalf of ``on_behalf_of``) already decided another step
    of ``task``'s case — or the person they act for did — and whether the flow allows it; None
    when neither did. The one rule the decision, the task page and the API share. A public
    notice step (closed when its period is over, objections settled) is left out both ways: the
    post that runs the notice may then decide the case (the archive's default flow)."""
    if task.step.is_public_notice:
        return None
    earlier = assignees.earlier_decision(task, [actor, on_behalf_of])
    if earlier is None:
        return None
    allowed = ApprovalFlow.objects.filter(
        versions__cases__pk=task.case_id).values_list("allow_same_decider", flat=True).first()
    by = (on_behalf_of if on_behalf_of is not None
          and actor.pk not in (earlier.decided_by_id, earlier.on_behalf_of_id) else None)
    return SameDecider(earlier=earlier, allowed=bool(allowed), by=by)


def _decided_another_step(user_ids: list[int]) -> Exists:
    """Another step of the outer task's case (no public notice) was decided by one of
    ``user_ids``, or by a delegate on their behalf."""
    return Exists(ApprovalTask.objects.filter(
        Q(decided_by_id__in=user_ids) | Q(on_behalf_of_id__in=user_ids),
        case_id=OuterRef("case_id"), step__is_public_notice=False,
    ).exclude(pk=OuterRef("pk")))


def same_decider_excluded(user, *, reach: Reach | None = None) -> Q:
    """Pending tasks ``user`` may not decide because another step of the same case, whose flow
    does not allow the same decider, was decided by them (or by a delegate for them) — or, for
    a task they reach only as someone's delegate (``Reach.delegated``), by that person (or for
    them): the engine decides it on that person's behalf and refuses it (``same_decider``).
    ``reach``: the user's ``_reach`` when the caller has it already."""
    if reach is None:
        reach = _reach(user, timezone.now())
    blocked = Q(_decided_another_step([user.pk]))
    for delegator, through in reach.delegated.items():
        blocked |= through & Q(_decided_another_step([delegator]))
    return Q(blocked, case__flow_version__flow__allow_same_decider=False,
             step__is_public_notice=False)


def fast_track_reviews_for_user(*, user, reach: Reach | None = None
                                ) -> QuerySet[ApprovalCase]:
    """Fast-tracked cases still waiting for the review of someone who would have decided one
    of their skipped steps (the user, by post, name or delegation)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ApprovalCase.objects.none()
    reach = reach or _reach(user, timezone.now())
    positions, users = reach.positions, reach.users
    # A correlated EXISTS over the partial index of waiting cases: with IN (subquery) the
    # databases scanned every case or task (docs/benchmarks.md, finding A).
    mine = ApprovalTask.objects.filter(
        Q(assigned_position_id__in=positions) | Q(assigned_user_id__in=users),
        case_id=OuterRef("pk"), skip_kind=SkipKind.FAST_TRACK,
    )
    return (ApprovalCase.objects.filter(Exists(mine), fast_track=True,
                                        fast_track_reviewed_at__isnull=True)
            .exclude(filed_by_id=user.pk).select_related("org_unit", "applicant")
            .order_by("started_at", "pk"))


def _name(user) -> str:
    return user.display_name if user is not None else ""


def viewer_is_applicant(user, case: ApprovalCase) -> bool:
    """Is ``user`` the case's applicant (the member linked to their login)? Wherever they look
    — the portal, a staff page of their own case, the API — they see approvers' posts only."""
    member_id = getattr(user, "member_id", None)
    return bool(member_id) and member_id == case.applicant_id


def posts_only(rows: list[dict]) -> list[dict]:
    """Timeline rows without approvers' names: who decided is their post (``decided_as``), and
    a pending step waits for a post (or "指定审批人"), never for a named person."""
    return [{**row, "decided_by": "", "on_behalf_of": "",
             "assignee": row.get("assignee_post", "")} for row in rows]


def case_timeline(*, case: ApprovalCase, include_upcoming: bool = False,
                  viewer=None) -> list[dict]:
    """Every task of the case in order: step, status, who decided as which post and when, the
    comment; a pending task shows whom it waits for. With ``include_upcoming``, steps not
    reached yet follow with status "upcoming", each with ``will_skip``: whether the engine would
    skip it on the case's facts today (a skip condition, a level that does not apply, fast
    track) — a page for the applicant leaves those out. With ``viewer``: when the viewer is the
    case's applicant, approvers' names are left out (``posts_only``)."""
    rows = _timeline_rows(case=case, include_upcoming=include_upcoming)
    if viewer is not None and viewer_is_applicant(viewer, case):
        return posts_only(rows)
    return rows


def _timeline_rows(*, case: ApprovalCase, include_upcoming: bool) -> list[dict]:
    now = timezone.now()
    tasks = list(
        ApprovalTask.objects.filter(case_id=case.pk)
        .select_related("step", "decided_by", "on_behalf_of", "assigned_position__org_unit",
                        "assigned_user")
        .order_by("order", "pk")
    )
    labels = None
    out = []
    for task in tasks:
        pending = task.status == TaskStatus.PENDING
        comment = task.comment
        if task.skip_kind == SkipKind.CONDITION and task.step.skip_condition:
            # the condition in words, as the subject names its facts (also for old rows)
            if labels is None:
                key = (FlowVersion.objects.filter(pk=case.flow_version_id)
                       .values_list("flow__subject_key", flat=True).first())
                labels = conditions.labels_for(case.subject_kind, key or "")
            comment = conditions.skip_condition_reason(task.step.skip_condition, labels)
        out.append({
            "task_id": task.pk,
            "order": task.order,
            "step": task.step.name,
            "status": task.status,
            "status_label": task.get_status_display(),
            "decided_by": _name(task.decided_by),
            "decided_as": task.decided_as,
            "on_behalf_of": _name(task.on_behalf_of),
            "decided_at": task.decided_at,
            "comment": comment,
            "skip_kind": task.skip_kind,
            "assignee": assignees.task_assignee_label(task) if pending else "",
            "assignee_post": assignees.task_assignee_post_label(task) if pending else "",
            "created_at": task.created_at,
            "due_at": task.due_at,
            "is_overdue": bool(pending and task.due_at and task.due_at < now),
            "escalated_at": task.escalated_at,
            "will_skip": False,
        })
    if include_upcoming and case.status == CaseStatus.IN_PROGRESS:
        reached = max((t.order for t in tasks), default=0)
        for step in case.flow_version.steps.filter(order__gt=reached).order_by("order"):
            skip_kind = skip_reason(step, org_unit=case.org_unit, facts=case.facts,
                                    fast_track=case.fast_track)[0]
            out.append({
                "task_id": None, "order": step.order, "step": step.name, "status": "upcoming",
                "status_label": _("未开始"), "decided_by": "", "decided_as": "",
                "on_behalf_of": "", "decided_at": None, "comment": "", "skip_kind": "",
                "assignee": "", "assignee_post": "", "created_at": None, "due_at": None,
                "is_overdue": False,
                "escalated_at": None,
                "will_skip": bool(skip_kind),
            })
    return out


def case_for_subject(*, subject_kind: str, subject_id: int) -> ApprovalCase | None:
    """The latest case of a subject (a returned application may have several)."""
    return (ApprovalCase.objects.filter(subject_kind=subject_kind, subject_id=subject_id)
            .select_related("org_unit", "flow_version__flow").order_by("-started_at", "-pk")
            .first())


def _case_in_view_scope(user, case_id: int, kind: str) -> bool:
    """Is the case in the user's scope for its kind's ``view_permission``? (Registered kinds
    only: the callers refuse an unknown kind first.)"""
    perm = registry.subject_handler(kind).view_permission
    scope = access_for(user).scope_q(perm, unit_field="org_unit",
                                     self_field="applicant_id")
    return ApprovalCase.objects.filter(scope, pk=case_id).exists()


@scoped_getter
def task_get_for_user(*, user, pk) -> ApprovalTask:
    """The task if the user may decide it, decided it, or its case is in the user's view scope
    for the subject (its ``view_permission``); otherwise NotFound (and the try journaled).
    A kind nobody registered (any longer) is not found for everyone: no default right."""

    def allow(task: ApprovalTask) -> bool:
        if (user is None or not getattr(user, "is_authenticated", False)
                or not registry.has_subject(task.case.subject_kind)):
            return False
        if user.pk in (task.decided_by_id, task.on_behalf_of_id):
            return True
        if task.status == TaskStatus.PENDING and assignees.authority(user, task):
            return True
        return _case_in_view_scope(user, task.case_id, task.case.subject_kind)

    return get_in_scope(
        user=user, pk=pk, perm="approvals.task.view", scope=Q(), allow=allow,
        queryset=ApprovalTask.objects.select_related(*TODO_RELATED,
                                                     "step__user_position__org_unit"),
        target_type="approvals.approvaltask",
        # the task page shows the applicant's case and application: a read of their data
        unit_field="case__org_unit", log_read="case__applicant_id",
    )


@scoped_getter
def case_get_for_user(*, user, pk) -> ApprovalCase:
    """The case if it is in the user's view scope for its subject (a worker: their own), or the
    user may decide or has decided one of its tasks; otherwise NotFound (journaled)."""

    def allow(case: ApprovalCase) -> bool:
        if (user is None or not getattr(user, "is_authenticated", False)
                or not registry.has_subject(case.subject_kind)):
            return False
        if _case_in_view_scope(user, case.pk, case.subject_kind):
            return True
        tasks = ApprovalTask.objects.filter(case_id=case.pk).select_related(*TODO_RELATED)
        if tasks.filter(Q(decided_by_id=user.pk) | Q(on_behalf_of_id=user.pk)).exists():
            return True
        return any(assignees.authority(user, t) for t in tasks.filter(status=TaskStatus.PENDING))

    return get_in_scope(
        user=user, pk=pk, perm="approvals.case.view", scope=Q(), allow=allow,
        queryset=ApprovalCase.objects.select_related("org_unit", "applicant",
                                                     "flow_version__flow"),
        target_type="approvals.approvalcase",
    )


def flows_visible_to(*, user, subject_kind: str) -> QuerySet[ApprovalFlow]:
    """Flows of ``subject_kind`` defined in units the user may maintain flows for."""
    if not registry.has_subject(subject_kind):
        return ApprovalFlow.objects.none()
    perm = registry.subject_handler(subject_kind).flow_permission
    units = units_visible_to(user=user, perm=perm)
    return (ApprovalFlow.objects.filter(org_unit__in=units, subject_kind=subject_kind)
            .select_related("org_unit").order_by("org_unit__path", "subject_key"))


def flow_steps_as_dicts(*, version: FlowVersion) -> list[dict]:
    """A version's steps in the shape ``flow_save`` takes (to prefill an editor)."""
    out = []
    for step in version.steps.order_by("order"):
        row = {"name": step.name, "assignee_kind": step.assignee_kind,
               "skip_condition": step.skip_condition, "due_days": step.due_days,
               "allow_batch": step.allow_batch,
               "skippable_by_fast_track": step.skippable_by_fast_track,
               "is_public_notice": step.is_public_notice,
               "notice_working_days": step.notice_working_days}
        if step.assignee_kind == AssigneeKind.USER:
            row.update(user=step.user_id, user_position=step.user_position_id)
        else:
            row.update(position_name=step.position_name, unit_depth=step.unit_depth)
        out.append(row)
    return out


def delegate_candidates(*, user) -> list[tuple[User, str]]:
    """The colleagues ``user`` may delegate to, each with the post it counts through: active
    users other than ``user`` holding a deciding post (``assignees.deciding_posts``) in a unit
    where ``user`` holds one — the rule ``delegation_create`` applies, offered as a list so an
    approver need not know a login name."""
    units = {post.org_unit_id for post in assignees.deciding_posts(user)}
    if not units:
        return []
    colleagues = (User.objects.filter(
        is_active=True, assignments__in=Assignment.objects.current().filter(
            position__org_unit_id__in=units, position__is_active=True))
        .exclude(pk=user.pk).distinct().order_by("last_name", "first_name", "username"))
    out = []
    for colleague in colleagues:
        posts = [p for p in assignees.deciding_posts(colleague) if p.org_unit_id in units]
        if posts:
            out.append((colleague, f"{posts[0].org_unit.name}·{posts[0].name}"))
    return out


def delegations_of(*, user) -> dict[str, list[Delegation]]:
    """The user's delegations: ``given`` (they let someone decide for them) and ``received``,
    each newest first, with ``is_active`` (running now) and ``is_future``."""
    now = timezone.now()
    out: dict[str, list[Delegation]] = {"given": [], "received": []}
    if user is None or not getattr(user, "pk", None):
        return out
    rows = (Delegation.objects.filter(Q(from_user_id=user.pk) | Q(to_user_id=user.pk))
            .select_related("from_user", "to_user").order_by("-starts_at", "-pk")[:200])
    for delegation in rows:
        delegation.is_active = delegation.starts_at <= now < delegation.ends_at
        delegation.is_future = now < delegation.starts_at
        delegation.is_ended = delegation.ends_at <= now
        out["given" if delegation.from_user_id == user.pk else "received"].append(delegation)
    return out


def delegation_given_by(*, user, pk) -> Delegation | None:
    """A delegation ``user`` gave (only the delegator ends it); None for anything else."""
    if user is None or not getattr(user, "pk", None) or not str(pk).isdigit():
        return None
    return Delegation.objects.filter(pk=int(pk), from_user_id=user.pk).first()
