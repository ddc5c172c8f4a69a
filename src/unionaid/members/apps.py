from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "unionaid.members"
    label = "members"
