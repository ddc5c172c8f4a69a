from django.apps import AppConfig


class WebConfig(AppConfig):
    """The back-office shell: layout, navigation, home page, shared view helpers."""

    name = "unionaid.web"
    label = "web"
