from django.apps import AppConfig


class ChecksConfig(AppConfig):
    """The auditor's checks: registered checks, findings, explanations and samples."""

    name = "unionaid.checks"
    label = "checks"
