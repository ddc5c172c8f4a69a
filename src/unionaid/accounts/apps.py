from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "unionaid.accounts"
    label = "accounts"

    def ready(self) -> None:
        from unionaid.accounts.services import unit_close_guard
        from unionaid.org.guards import register_close_guard

        register_close_guard("accounts.current_assignments", unit_close_guard, order=30)
