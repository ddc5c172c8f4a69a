"""Disbursements: reserving money at final approval, releasing an unpaid reservation,
reversing a payment, paying a reversed one again or closing it without re-payment (终止发放).
Lock order everywhere: budget(s) first, then the disbursement(s).

A subject's disbursements form one chain (a re-payment ``repays`` the reversed row before it),
and at most one of them is live (reserved, in a batch or paid; a partial unique constraint).
The newest row is the subject's current one."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.audit.services import atomic_audited, audit_record
from unionaid.core.errors import Conflict, NotFound, ServiceError
from unionaid.funds.models import (
    NOT_LIVE_STATUSES,
    Account,
    BatchStatus,
    Budget,
    Disbursement,
    DisbursementBatch,
    DisbursementStatus,
    EntryKind,
    FundingSource,
    LedgerEntry,
)
from unionaid.funds.services.budgets import ancestor_paths, require_unit_perm
from unionaid.funds.services.ledger import (
    Leg,
    insufficient,
    lock_budgets,
    positive_money,
    post,
)
from unionaid.funds.subjects import subject_for
from unionaid.org.models import OrgUnit

RELEASABLE = (DisbursementStatus.RESERVED, DisbursementStatus.IN_BATCH)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        message = _("请填写原因。")
        raise ServiceError(message, code="validation_error", fields={"reason": message})
    return reason[:200]


def _current(subject_kind: str, subject_id: int, *, lock: bool) -> Disbursement | None:
    """The subject's newest disbursement (the head of its chain)."""
    qs = Disbursement.objects.select_for_update() if lock else Disbursement.objects
    return (qs.filter(subject_kind=subject_kind, subject_id=subject_id).order_by("-pk")
            .first())


def _lock_nearest_budget(org_unit: OrgUnit, funding_source: FundingSource, year: int) -> Budget:
    budget = (
        Budget.objects.select_for_update(of=("self",))
        .select_related("org_unit", "funding_source")
        .filter(funding_source=funding_source, year=year,
                org_unit__path__in=ancestor_paths(org_unit))
        .order_by("-org_unit__depth")
        .first()
    )
    if budget is None:
        raise Conflict(
            _("“%(unit)s”及其上级单位没有%(year)s年“%(source)s”预算，无法核定发放。")
            % {"unit": org_unit.name, "year": year, "source": funding_source.name},
            code="no_budget",
        )
    return budget


def reserve(*, actor, subject_kind: str, subject_id: int, member, org_unit: OrgUnit,
            funding_source: FundingSource, year: int, amount,
            savepoint: bool = True) -> Disbursement:
    """Commit ``amount`` from the nearest budget up the tree for an approved subject.

    Called by a subject's approval handler inside the engine's transaction (the approval is
    the authority, so no funds permission is checked here). Idempotent: a second call for the
    same subject returns its current disbursement and moves no money (a reversed one too: paying
    it again is ``disbursement_repay``); a released reservation is reserved again. Not enough
    available → Conflict ``budget_insufficient``; a ``subject_kind`` no domain registered
    (``funds.subjects``) → Conflict ``unknown_subject``.

    ``savepoint=False`` for a caller that lets a refusal undo its whole transaction (the
    approval handler): two statements fewer per final approval.
    """
    with transaction.atomic(savepoint=savepoint):
        subject_for(subject_kind)  # an unregistered kind is refused: no orphan reservation
        amount = positive_money(amount)
        budget = _lock_nearest_budget(org_unit, funding_source, year)
        # Looked up under the budget's lock: a racing call for the same subject has committed by
        # now (it locked the same budget), so it is found here and no money moves twice.
        existing = _current(subject_kind, subject_id, lock=True)
        if existing is not None and existing.status != DisbursementStatus.RELEASED:
            return existing
        if budget.available < amount:
            raise insufficient(budget, amount)
        if existing is None:
            # The partial unique constraint (one live row per subject) is the last guard should a
            # racing call have gone through another budget (the tree's budgets changed meanwhile).
            disbursement = Disbursement.objects.create(subject_kind=subject_kind,
                                                       subject_id=subject_id, budget=budget,
                                                       member=member, amount=amount)
        else:
            disbursement = existing
            disbursement.budget, disbursement.amount = budget, amount
            disbursement.status, disbursement.released_at = DisbursementStatus.RESERVED, None
            disbursement.save(update_fields=["budget", "amount", "status", "released_at"])
        txn = post(kind=EntryKind.RESERVE, actor=actor, legs=[
            Leg(budget, Account.AVAILABLE, -amount, disbursement, subject_kind, subject_id),
            Leg(budget, Account.RESERVED, amount, disbursement, subject_kind, subject_id),
        ])
        audit_record(actor=actor, action="funds.reserve", target=disbursement,
                     org_unit_path=budget.org_unit.path,
                     changes={"amount": str(amount), "budget": budget.pk,
                              "subject": f"{subject_kind}#{subject_id}", "txn": str(txn)})
        return disbursement


def _lock_disbursement(pk: int) -> tuple[Disbursement, Budget]:
    """Lock a disbursement's budget, then the disbursement itself."""
    budget_id = Disbursement.objects.filter(pk=pk).values_list("budget_id", flat=True).first()
    if budget_id is None:
        raise NotFound()
    budget = lock_budgets([budget_id])[budget_id]
    disbursement = Disbursement.objects.select_for_update().get(pk=pk)
    if disbursement.budget_id != budget.pk:
        raise Conflict(_("数据已被他人修改，请刷新后重试。"), code="concurrent_change")
    return disbursement, budget


def _release(*, actor, disbursement: Disbursement, reason: str) -> Disbursement:
    reason = _reason(reason)
    disbursement, budget = _lock_disbursement(disbursement.pk)
    if disbursement.status == DisbursementStatus.RELEASED:
        return disbursement
    if disbursement.status not in RELEASABLE:
        raise Conflict(_("该笔款项已发放或已冲正，不能释放预留；已发放的请办理冲正。"),
                       code="not_releasable")
    batch = None
    if disbursement.batch_id:
        batch = DisbursementBatch.objects.select_for_update().get(pk=disbursement.batch_id)
        if batch.status != BatchStatus.DRAFT:
            raise Conflict(_("该笔款项所在批次已导出银行文件，不能释放预留。"),
                           code="batch_not_draft")
    amount = disbursement.amount
    kind, sid = disbursement.subject_kind, disbursement.subject_id
    txn = post(kind=EntryKind.RELEASE, actor=actor, memo=reason, legs=[
        Leg(budget, Account.RESERVED, -amount, disbursement, kind, sid),
        Leg(budget, Account.AVAILABLE, amount, disbursement, kind, sid),
    ])
    disbursement.status = DisbursementStatus.RELEASED
    disbursement.released_at = timezone.now()
    disbursement.batch = None
    disbursement.save(update_fields=["status", "released_at", "batch"])
    if disbursement.repays_id:
        # Cancelling a re-payment ends the reversal it was paying again (终止发放): the grant is
        # cancelled, so the reversed row offers neither 重新发放 nor 终止发放 any more. Same budget,
        # locked above, so this never waits on a repay or close of that row.
        Disbursement.objects.filter(pk=disbursement.repays_id, closed_at__isnull=True).update(
            closed_at=disbursement.released_at, close_reason=reason)
    if batch is not None:
        batch.total -= amount
        batch.save(update_fields=["total"])
    subject_for(disbursement.subject_kind).on_released(disbursement=disbursement, actor=actor,
                                                       reason=reason)
    audit_record(actor=actor, action="funds.release", target=disbursement,
                 org_unit_path=budget.org_unit.path,
                 changes={"amount": str(amount), "reason": reason, "txn": str(txn),
                          "batch": batch.pk if batch else None})
    return disbursement


@transaction.atomic
def release(*, actor, subject_kind: str, subject_id: int, reason: str) -> Disbursement:
    """Cancel the reservation of a subject not yet paid (e.g. the approval was withdrawn);
    the money goes back to available. Called by subject handlers (no funds permission)."""
    disbursement = _current(subject_kind, subject_id, lock=False)
    if disbursement is None:
        raise NotFound(_("没有找到该事项的核定发放记录。"), code="no_disbursement")
    return _release(actor=actor, disbursement=disbursement, reason=reason)


@transaction.atomic
def disbursement_release(*, actor, disbursement: Disbursement, reason: str) -> Disbursement:
    """The finance office's "cancel reservation" (needs funds.manage for the budget's unit)."""
    require_unit_perm(actor, "funds.manage", disbursement.budget.org_unit)
    return _release(actor=actor, disbursement=disbursement, reason=reason)


@transaction.atomic
def disbursement_reverse(*, actor, disbursement: Disbursement, reason: str) -> Disbursement:
    """Undo a payment made by mistake (冲正): new REVERSE entries (paid −X, available +X)
    restore the budget; nothing is edited or deleted. Needs funds.confirm."""
    require_unit_perm(actor, "funds.confirm", disbursement.budget.org_unit)
    reason = _reason(reason)
    disbursement, budget = _lock_disbursement(disbursement.pk)
    if disbursement.status == DisbursementStatus.REVERSED:
        raise Conflict(_("该笔发放已冲正，不能重复冲正。"), code="already_reversed")
    if disbursement.status != DisbursementStatus.PAID:
        raise Conflict(_("只有已发放的款项才能冲正；未发放的请释放预留。"), code="not_paid")
    amount = disbursement.amount
    kind, sid = disbursement.subject_kind, disbursement.subject_id
    pay_txn = (LedgerEntry.objects.filter(disbursement=disbursement, kind=EntryKind.PAY)
               .order_by("-id").values_list("txn", flat=True).first())
    txn = post(kind=EntryKind.REVERSE, actor=actor, memo=reason, reverses_txn=pay_txn, legs=[
        Leg(budget, Account.PAID, -amount, disbursement, kind, sid),
        Leg(budget, Account.AVAILABLE, amount, disbursement, kind, sid),
    ])
    disbursement.status = DisbursementStatus.REVERSED
    disbursement.reversed_at = timezone.now()
    disbursement.reversal_reason = reason
    disbursement.save(update_fields=["status", "reversed_at", "reversal_reason"])
    subject_for(disbursement.subject_kind).on_reversed(disbursement=disbursement, actor=actor)
    audit_record(actor=actor, action="funds.reverse", target=disbursement,
                 org_unit_path=budget.org_unit.path,
                 changes={"amount": str(amount), "reason": reason, "txn": str(txn),
                          "reverses_txn": str(pay_txn) if pay_txn else None})
    return disbursement


@atomic_audited
def disbursement_repay(*, actor, disbursement: Disbursement, reason: str) -> Disbursement:
    """Pay a reversed disbursement again (重新发放), e.g. once the worker's bank account is put
    right: a NEW disbursement of the same amount for the same subject, reserved from the same
    budget (RESERVE entries: available −X, reserved +X) and linked by ``repays``; it then goes
    through a batch like any other. The reversed row keeps its batch, payment and reversal.

    Needs funds.manage for the budget's unit. Idempotent: a reversal already paid again returns
    its re-payment and moves no money; releasing a re-payment closes the reversal (终止发放), so it
    is refused afterwards (``closed``). Not enough available → Conflict
    ``budget_insufficient`` and nothing is written.
    """
    require_unit_perm(actor, "funds.manage", disbursement.budget.org_unit)
    reason = _reason(reason)
    original, budget = _lock_disbursement(disbursement.pk)
    if original.status != DisbursementStatus.REVERSED:
        raise Conflict(_("只有已冲正的发放才能重新发放。"), code="not_reversed")
    if original.closed_at is not None:
        raise Conflict(_("该笔发放已终止发放，不能重新发放。"), code="closed")
    kind, sid, amount = original.subject_kind, original.subject_id, original.amount
    repayment = Disbursement.objects.select_for_update().filter(repays=original).first()
    if repayment is not None:  # paid again already (releasing it would have closed `original`)
        return repayment
    live = (Disbursement.objects.filter(subject_kind=kind, subject_id=sid)
            .exclude(status__in=NOT_LIVE_STATUSES))
    if live.exists():  # the constraint would refuse it too; say why in words
        raise Conflict(_("该事项已有待发放或已发放的款项，不能重复发放。"), code="already_live")
    if budget.available < amount:
        raise insufficient(budget, amount)
    repayment = Disbursement.objects.create(
        subject_kind=kind, subject_id=sid, budget=budget, member_id=original.member_id,
        amount=amount, repays=original)
    txn = post(kind=EntryKind.RESERVE, actor=actor, memo=reason, legs=[
        Leg(budget, Account.AVAILABLE, -amount, repayment, kind, sid),
        Leg(budget, Account.RESERVED, amount, repayment, kind, sid),
    ])
    subject_for(repayment.subject_kind).on_repaid(disbursement=repayment, actor=actor)
    audit_record(actor=actor, action="funds.repay", target=repayment,
                 org_unit_path=budget.org_unit.path,
                 changes={"amount": str(amount), "reason": reason, "txn": str(txn),
                          "repays": original.pk, "budget": budget.pk,
                          "subject": f"{kind}#{sid}"})
    return repayment


@atomic_audited
def disbursement_close(*, actor, disbursement: Disbursement, reason: str) -> Disbursement:
    """Close a reversed payment without paying it again (终止发放), e.g. the worker declined the
    money, left or died, or the grant turned out to be wrong. No money moves (the reversal put
    it back to available already): the row stays reversed and records when and why it was
    closed, and can no longer be paid again. The closed hooks run (the application's grant is
    cancelled, so it stops counting against the caps).

    Needs funds.manage for the budget's unit. Only a reversed disbursement whose re-payment, if
    any, was released (else Conflict ``already_repaid``). Idempotent: closing a closed
    one returns it and journals nothing.
    """
    require_unit_perm(actor, "funds.manage", disbursement.budget.org_unit)
    reason = _reason(reason)
    disbursement, budget = _lock_disbursement(disbursement.pk)
    if disbursement.closed_at is not None:
        return disbursement
    if disbursement.status != DisbursementStatus.REVERSED:
        raise Conflict(_("只有已冲正的发放才能终止发放；未发放的请释放预留，已发放的请先冲正。"),
                       code="not_reversed")
    repayment = Disbursement.objects.select_for_update().filter(repays=disbursement).first()
    if repayment is not None and repayment.status == DisbursementStatus.REVERSED:
        # paid again and reversed again: the newer row is the one to close
        raise Conflict(_("该笔发放已重新发放（发放 #%(n)s）并再次冲正，请对发放 #%(n)s 办理终止发放。")
                       % {"n": repayment.pk}, code="already_repaid")
    if repayment is not None and repayment.status != DisbursementStatus.RELEASED:
        raise Conflict(_("该笔发放已重新发放（发放 #%(n)s），不能终止发放。") % {"n": repayment.pk},
                       code="already_repaid")
    disbursement.closed_at = timezone.now()
    disbursement.close_reason = reason
    disbursement.save(update_fields=["closed_at", "close_reason"])
    subject_for(disbursement.subject_kind).on_closed(disbursement=disbursement, actor=actor,
                                                     reason=reason)
    audit_record(actor=actor, action="funds.close", target=disbursement,
                 org_unit_path=budget.org_unit.path,
                 changes={"amount": str(disbursement.amount), "reason": reason,
                          "budget": budget.pk,
                          "subject": f"{disbursement.subject_kind}#{disbursement.subject_id}",
                          "repayment": repayment.pk if repayment else None})
    return disbursement
