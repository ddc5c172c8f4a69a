from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "unionaid.core"
    label = "core"
