from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "unionaid.audit"
    label = "audit"

    def ready(self) -> None:
        from unionaid.audit import receivers  # noqa: F401  (login/logout journal entries)
