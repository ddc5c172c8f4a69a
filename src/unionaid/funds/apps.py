from django.apps import AppConfig


class FundsConfig(AppConfig):
    """Budgets and the append-only, double-entry money ledger."""

    name = "unionaid.funds"
    label = "funds"
