"""The funds ledgers union offices file upward (台账), exported to .xlsx for a unit subtree and a
period: the payment ledger (帮扶资金发放台账, ``payment_ledger``) and the budget execution
ledger (预算执行台账, ``budget_ledger``). They sit beside the archive's visit and archive
ledgers and use the same common parts (``unionaid.exports.ledgers``: the streaming writer, the
request checks, the title unit); the reads are in ``rows``.

They live in the assistance domain because the funds engine may not register with the exports
engine (same layer), and the payment ledger names what each payment was for (the application's
item and category), which is assistance's own data.
"""
