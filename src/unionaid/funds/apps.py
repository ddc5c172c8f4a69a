from django.apps import AppConfig


class FundsConfig(AppConfig):
    """Budgets and the append-only, double-entry money ledger."""

    name = "unionaid.funds"
    label = "funds"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from unionaid.accounts.permissions import register_permissions

        # the rights this app's pages, services and registrations below name
        register_permissions({
            "funds.view": _("查看预算与资金流水"),
            "funds.manage": _("管理预算、发放批次"),
            "funds.confirm": _("确认发放、冲正"),
            "trace.view": _("资金追溯查询（审计人员）"),
        }, order=60)
