from django.apps import AppConfig


class ToyConfig(AppConfig):
    """A test-only domain (installed by config/settings_test.py only): toy requests that go
    through the approval engine exactly as a real domain's records do. It registers its subject
    here and touches no engine code."""

    name = "unionaid.approvals.tests.toyapp"
    label = "approvals_toy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from unionaid.approvals.registry import register_subject
        from unionaid.approvals.tests.toyapp.subject import ToySubject

        register_subject(ToySubject())
