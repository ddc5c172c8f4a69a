from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "unionaid.core"
    label = "core"

    def ready(self) -> None:
        from unionaid.core import checks  # noqa: F401  (registers the deploy checks)
