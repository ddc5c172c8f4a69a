from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "unionaid.exports"
    label = "exports"
