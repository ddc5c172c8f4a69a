from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The worker's own phone-friendly pages: my applications, their timeline, notifications."""

    name = "unionaid.portal"
    label = "portal"

    def ready(self) -> None:
        from unionaid.portal import jobs

        jobs.register()
