from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    """The 三助 catalog and applications."""

    name = "unionaid.assistance"
    label = "assistance"

