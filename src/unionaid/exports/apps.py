from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "unionaid.exports"
    label = "exports"

    def ready(self) -> None:
        from unionaid.exports import jobs

        jobs.register()
