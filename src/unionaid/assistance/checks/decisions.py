"""Checks on who decided: a case decided by its filer, by someone of the applicant's household,
or twice by one person; a payment batch confirmed out of working hours by a delegate of the
person who made it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from unionaid.accounts.models import User
from unionaid.approvals import calendar
from unionaid.approvals.models import ApprovalTask, Delegation, TaskStatus
from unionaid.assistance.checks.common import application_ref, local, member_ref, paths_q, who
from unionaid.assistance.models import Application
from unionaid.assistance.services.applications import SUBJECT_KIND
from unionaid.checks.registry import Found, Ref
from unionaid.core.errors import ServiceError
from unionaid.funds.models import BatchStatus, DisbursementBatch
from unionaid.members.models import HouseholdMember, Member

DECIDED = (TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.RETURNED)
WORK_START = dt.time(8, 0)  # the office day, Beijing time: 8:00–18:00 on a working day
WORK_END = dt.time(18, 0)


def _user_ref(user) -> Ref:
    return Ref("accounts.user", user.pk, user.display_name)


def _household_pairs(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Of (decider's member, applicant) pairs, those of one household: one lists the other's ID
    number among their household members (matched by keyed hash; two queries)."""
    ids = {m for pair in pairs for m in pair}
    hashes = dict(Member.objects.filter(pk__in=ids).values_list("pk", "id_number_hash"))
    by_hash = {h: pk for pk, h in hashes.items()}
    linked = set()
    rows = (HouseholdMember.objects.filter(member_id__in=ids,
                                           id_number_hash__in=list(by_hash))
            .values_list("member_id", "id_number_hash"))
    for member_id, h in rows:
        other = by_hash.get(h)
        if other is not None:
            linked.add(frozenset((member_id, other)))
    return {pair for pair in pairs if frozenset(pair) in linked}


def find_self_decisions(*, paths, now):
    """A step of an application's case decided (approved, rejected or returned) by the person
    who filed it, by the applicant or a member of their household, or two steps of one case
    decided by one person (unless the flow allows it)."""
    decided = ApprovalTask.objects.filter(
        paths_q(paths, "case__org_unit"), case__subject_kind=SUBJECT_KIND,
        status__in=DECIDED, decided_by__isnull=False)
    tasks = list(decided.select_related("case__org_unit", "case__flow_version__flow",
                                        "decided_by").order_by("case_id", "order", "pk"))
    by_case: dict[int, list[ApprovalTask]] = defaultdict(list)
    for task in tasks:
        by_case[task.case_id].append(task)
    pairs = {(t.decided_by.member_id, t.case.applicant_id) for t in tasks
             if t.decided_by.member_id and t.decided_by.member_id != t.case.applicant_id}
    household = _household_pairs(pairs)
    apps = {a.case_id: a for a in Application.objects.filter(
        case_id__in=decided.values("case_id"))
            .select_related("member", "item")}
    for case_id, case_tasks in by_case.items():
        case, app = case_tasks[0].case, apps.get(case_id)
        if app is None:
            continue
        reasons: dict[tuple[str, int], list[ApprovalTask]] = defaultdict(list)
        orders: dict[int, set[int]] = defaultdict(set)
        for task in case_tasks:
            user = task.decided_by
            orders[user.pk].add(task.order)
            if case.filed_by_id == user.pk:
                reasons[("filer", user.pk)].append(task)
            if user.member_id and (user.member_id == case.applicant_id
                                   or (user.member_id, case.applicant_id) in household):
                reasons[("household", user.pk)].append(task)
        if not case.flow_version.flow.allow_same_decider:
            for user_id, steps in orders.items():
                if len(steps) >= 2:
                    reasons[("twice", user_id)] = [t for t in case_tasks
                                                   if t.decided_by_id == user_id]
        for (reason, _user_id), found_tasks in reasons.items():
            yield _decision_found(reason, case, app, found_tasks)


REASONS = {"filer": "由申请经办人本人审批", "household": "由申请人本人或其家庭成员审批",
           "twice": "同一人审批了两个节点"}


def _decision_found(reason: str, case, app, tasks: list[ApprovalTask]) -> Found:
    user = tasks[0].decided_by
    return Found(
        fingerprint=f"decision:{case.pk}:{reason}:{user.pk}",
        unit_path=case.org_unit.path,
        summary=f"申请#{app.pk}（{who(app.member)} · {app.item.name}）{REASONS[reason]}：{user.display_name}",
        evidence={"申请": f"#{app.pk} {app.item.name}", "申请人": who(app.member),
                  "问题": REASONS[reason], "审批人": user.display_name,
                  "节点": "、".join(f"{t.order}（{t.get_status_display()}，{local(t.decided_at)}）"
                                   for t in tasks)},
        records=[member_ref(app.member), application_ref(app),
                 Ref("approvals.approvalcase", case.pk, f"审批事项#{case.pk}"), _user_ref(user)],
        amount=app.amount, member_id=app.member_id)


# -- (g) a batch confirmed out of hours by its maker's delegate --------------------------------

def working_time(when: dt.datetime) -> bool:
    """Is ``when`` within the office day (8:00–18:00 Beijing time) of a working day (the
    Chinese calendar with the admins' overrides; Monday–Friday for a year it does not know)?"""
    moment = timezone.localtime(when)
    try:
        workday = calendar.is_workday(moment.date())
    except ServiceError:
        workday = moment.weekday() < 5
    return workday and WORK_START <= moment.time() < WORK_END


def find_delegate_confirmations(*, paths, now):
    """A confirmed payment batch whose confirmer was, at that moment, the delegate of the person
    who made or exported it (so the four-eyes rule held in name only), confirmed outside the
    office day."""
    batches = list(DisbursementBatch.objects.filter(
        paths_q(paths), status=BatchStatus.CONFIRMED, confirmed_by__isnull=False,
        confirmed_at__isnull=False)
        .select_related("org_unit", "created_by", "exported_by", "confirmed_by"))
    suspects = [b for b in batches if not working_time(b.confirmed_at)]
    if not suspects:
        return
    q = Q(pk__in=[])
    for b in suspects:
        makers = [u for u in (b.created_by_id, b.exported_by_id) if u]
        q |= Q(from_user_id__in=makers, to_user_id=b.confirmed_by_id,
               starts_at__lte=b.confirmed_at, ends_at__gte=b.confirmed_at)
    delegations = list(Delegation.objects.filter(q).select_related("from_user"))
    for b in suspects:
        found = next((d for d in delegations
                      if d.to_user_id == b.confirmed_by_id
                      and d.from_user_id in (b.created_by_id, b.exported_by_id)
                      and d.starts_at <= b.confirmed_at <= d.ends_at), None)
        if found is None:
            continue
        maker: User = found.from_user
        yield Found(
            fingerprint=f"batch:{b.pk}",
            unit_path=b.org_unit.path,
            summary=f"批次{b.pk}于非工作时间 {local(b.confirmed_at)} 由制单人{maker.display_name}"
                    f"的代办人{b.confirmed_by.display_name}确认",
            evidence={"批次": f"批次{b.pk}", "单位": b.org_unit.name,
                      "制单人": b.created_by.display_name,
                      "导出人": b.exported_by.display_name if b.exported_by else "—",
                      "确认人": b.confirmed_by.display_name,
                      "委托人": maker.display_name,
                      "委托期间": f"{local(found.starts_at)} 至 {local(found.ends_at)}",
                      "确认时间": local(b.confirmed_at), "金额（元）": f"{b.total:,.2f}"},
            records=[Ref("funds.disbursementbatch", b.pk, f"批次{b.pk}"),
                     _user_ref(maker), _user_ref(b.confirmed_by)],
            amount=b.total)
