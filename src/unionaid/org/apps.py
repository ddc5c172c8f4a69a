from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "unionaid.org"
    label = "org"
