from django.apps import AppConfig


class WebConfig(AppConfig):
    """The back-office shell: layout, navigation, home page, shared view helpers."""

    name = "unionaid.web"
    label = "web"

    def ready(self) -> None:
        from unionaid.web import export_kinds, jobs

        export_kinds.register()
        jobs.register()
