"""``manage.py ledger_check``: recompute every budget's balances from the ledger entries and
compare them with the cached columns; report unbalanced transactions. Exits 1 on any problem."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from unionaid.funds.models import Budget, LedgerEntry
from unionaid.funds.services import ledger_recompute


class Command(BaseCommand):
    help = "Check that budget balances match the append-only ledger entries."

    def handle(self, *args, **options):
        problems = ledger_recompute()
        for p in problems:
            if p.txn:
                self.stdout.write(f"PROBLEM txn {p.txn}: entries sum to {p.computed}, not 0")
            else:
                self.stdout.write(f"PROBLEM budget {p.budget_id} {p.column}: cached {p.cached}, "
                                  f"entries give {p.computed}")
        if problems:
            raise CommandError(f"ledger check failed: {len(problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS(
            f"OK: {Budget.objects.count()} budgets, {LedgerEntry.objects.count()} entries, "
            "balances match the ledger"))
