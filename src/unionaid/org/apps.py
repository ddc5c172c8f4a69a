from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "unionaid.org"
    label = "org"

    def ready(self) -> None:
        from unionaid.org import guards

        # Members (order 10, registered by members) are named before open sub-units, and
        # these before people in posts (30, accounts).
        guards.register_close_guard("org.open_children", guards.no_open_children, order=20)
