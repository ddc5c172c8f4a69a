from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "unionaid.members"
    label = "members"

    def ready(self) -> None:
        from unionaid.members.services import unit_close_guard
        from unionaid.org.guards import register_close_guard

        register_close_guard("members.members", unit_close_guard, order=10)
