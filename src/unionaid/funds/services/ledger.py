"""The ledger's low-level machinery: money values, row locks, posting balanced transactions,
and the recomputation check (the subjects' hooks are in ``funds.subjects``).

Sign convention, per budget (every transaction also balances *within* each budget it touches):

=============  ==============================================================
allocate       source −X, available +X
allocate_down  parent: available −X, allocated_down +X; child: source −X, available +X
reserve        available −X, reserved +X
release        reserved −X, available +X
pay            reserved −X, paid +X
reverse        paid −X, available +X
=============  ==============================================================

(paying a reversed disbursement again, 重新发放, is a new disbursement's ``reserve``; closing one
without re-payment, 终止发放, moves no money: the reversal already put it back to available)

so that the cached columns are ``allocated = −Σ source`` and ``<column> = Σ <column>`` for
available, reserved, paid and allocated_down.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from unionaid.core.errors import Conflict, ServiceError
from unionaid.funds.models import Account, Budget, Disbursement, LedgerEntry

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HALF_CENT = Decimal("0.005")
MAX_AMOUNT = Decimal("999999999999.99")  # 14 digits, 2 decimals
BALANCE_COLUMNS = ("allocated", "available", "reserved", "paid", "allocated_down")


def to_money(value, *, field: str = "amount") -> Decimal:
    """A Decimal with exactly two places. Floats are refused (a programming error), as are
    more than two decimals (never rounded silently)."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal, int or str, never float")
    message = _("金额格式不正确，请填写数字，最多两位小数。")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ServiceError(message, code="validation_error", fields={field: message}) from None
    if not amount.is_finite() or amount != amount.quantize(CENT) or abs(amount) > MAX_AMOUNT:
        raise ServiceError(message, code="validation_error", fields={field: message})
    return amount.quantize(CENT)


def positive_money(value, *, field: str = "amount") -> Decimal:
    amount = to_money(value, field=field)
    if amount <= 0:
        message = _("金额必须大于零。")
        raise ServiceError(message, code="validation_error", fields={field: message})
    return amount


def yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def lock_budgets(pks: Iterable[int]) -> dict[int, Budget]:
    """Lock budgets in primary-key order (the one lock order everywhere: no deadlocks)."""
    rows = (
        Budget.objects.select_for_update(of=("self",))
        .select_related("org_unit", "funding_source")
        .filter(pk__in=sorted(set(pks)))
        .order_by("pk")
    )
    return {b.pk: b for b in rows}


def insufficient(budget: Budget, amount: Decimal) -> Conflict:
    shortfall = amount - budget.available
    return Conflict(
        _("“%(budget)s”预算可用额度不足：需要 %(need)s 元，可用 %(available)s 元，还差 %(short)s 元。")
        % {"budget": f"{budget.org_unit.name}·{budget.funding_source.name}·{budget.year}年",
           "need": yuan(amount), "available": yuan(budget.available), "short": yuan(shortfall)},
        code="budget_insufficient",
    )


@dataclass(frozen=True)
class Leg:
    """One side of a transaction: ``amount`` (signed) on ``account`` of ``budget``."""

    budget: Budget
    account: str
    amount: Decimal
    disbursement: Disbursement | None = None
    subject_kind: str = ""
    subject_id: int | None = None


def _apply(budget: Budget, account: str, amount: Decimal) -> str:
    column = "allocated" if account == Account.SOURCE else account
    delta = -amount if account == Account.SOURCE else amount
    setattr(budget, column, getattr(budget, column) + delta)
    return column


def post(*, kind: str, legs: list[Leg], actor=None, memo: str = "",
         reverses_txn: uuid.UUID | None = None) -> uuid.UUID:
    """Write one balanced transaction and update the (locked) budgets' cached columns.

    Callers must have locked every budget in ``legs`` (``lock_budgets``) and pass those very
    instances. Raises if the legs don't sum to zero or a balance would go below zero.
    """
    if not legs or sum((leg.amount for leg in legs), ZERO) != 0:
        raise AssertionError("a ledger transaction must balance to zero")
    txn = uuid.uuid4()
    budgets: dict[int, Budget] = {}
    changed: dict[int, set[str]] = defaultdict(set)
    for leg in legs:
        budget = budgets.setdefault(leg.budget.pk, leg.budget)
        changed[budget.pk].add(_apply(budget, leg.account, leg.amount))
    for budget in budgets.values():
        if any(getattr(budget, col) < 0 for col in BALANCE_COLUMNS):
            raise Conflict(_("操作会使预算余额小于零，已拒绝。"), code="budget_insufficient")
    created_by = actor if getattr(actor, "pk", None) else None
    LedgerEntry.objects.bulk_create([
        LedgerEntry(
            txn=txn, budget_id=leg.budget.pk, account=leg.account, amount=leg.amount, kind=kind,
            subject_kind=leg.subject_kind, subject_id=leg.subject_id,
            disbursement=leg.disbursement, reverses_txn=reverses_txn, memo=memo[:200],
            created_by=created_by,
        )
        for leg in legs
    ])
    for pk, budget in budgets.items():
        budget.save(update_fields=sorted(changed[pk]))
    return txn


# -- recomputation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Mismatch:
    """A cached balance that differs from its entries (``budget_id`` set), or a transaction
    whose entries don't sum to zero (``txn`` set)."""

    budget_id: int | None
    column: str
    cached: Decimal
    computed: Decimal
    txn: uuid.UUID | None = None


def ledger_recompute(*, budget: Budget | None = None) -> list[Mismatch]:
    """Recompute every budget's balances (or one budget's) from its entries and compare them
    with the cached columns; also report unbalanced transactions. Empty list = all good."""
    budgets = Budget.objects.order_by("pk")
    entries = LedgerEntry.objects.all()
    if budget is not None:
        budgets = budgets.filter(pk=budget.pk)
        entries = entries.filter(budget_id=budget.pk)
    sums: dict[tuple[int, str], Decimal] = {
        # quantize: SQLite sums decimals in binary floating point
        (row["budget_id"], row["account"]): row["total"].quantize(CENT)
        for row in entries.values("budget_id", "account").annotate(total=Sum("amount"))
        .order_by()
    }
    problems: list[Mismatch] = []
    for row in budgets.values("pk", *BALANCE_COLUMNS):
        computed = {
            "allocated": -sums.get((row["pk"], Account.SOURCE), ZERO),
            **{col: sums.get((row["pk"], col), ZERO)
               for col in ("available", "reserved", "paid", "allocated_down")},
        }
        for col in BALANCE_COLUMNS:
            if row[col] != computed[col]:
                problems.append(Mismatch(row["pk"], col, row[col], computed[col]))
    txns = LedgerEntry.objects.all()
    if budget is not None:
        txns = txns.filter(txn__in=entries.values("txn"))
    unbalanced = Q(total__gte=HALF_CENT) | Q(total__lte=-HALF_CENT)  # SQLite sums in floats
    for row in (txns.values("txn").annotate(total=Sum("amount")).filter(unbalanced)
                .order_by("txn")):
        problems.append(Mismatch(None, "txn", ZERO, row["total"].quantize(CENT), txn=row["txn"]))
    return problems
