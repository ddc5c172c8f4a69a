"""Writes to budgets and the ledger (see ``ledger`` for the sign convention).

Every function is keyword-only, transactional and journals its change in the same transaction.
"""

from unionaid.funds.services.batches import (
    batch_confirm,
    batch_confirm_refusal,
    batch_create,
    batch_export,
    batch_void,
)
from unionaid.funds.services.budgets import (
    budget_allocate,
    budget_allocate_down,
    budget_for,
    funding_source_save,
)
from unionaid.funds.services.disbursements import (
    disbursement_close,
    disbursement_release,
    disbursement_repay,
    disbursement_reverse,
    release,
    reserve,
)
from unionaid.funds.services.ledger import (
    Mismatch,
    ledger_recompute,
    positive_money,
    to_money,
)
from unionaid.funds.services.notices import missing_account_notify

__all__ = [
    "Mismatch",
    "batch_confirm",
    "batch_confirm_refusal",
    "batch_create",
    "batch_export",
    "batch_void",
    "budget_allocate",
    "budget_allocate_down",
    "budget_for",
    "disbursement_close",
    "disbursement_release",
    "disbursement_repay",
    "disbursement_reverse",
    "funding_source_save",
    "ledger_recompute",
    "missing_account_notify",
    "positive_money",
    "release",
    "reserve",
    "to_money",
]
