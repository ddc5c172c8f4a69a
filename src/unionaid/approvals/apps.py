from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    """The generic approval engine: flows of ordered steps held by posts, versioned, inherited
    down the org tree. Used by assistance applications and (next) hardship-archive enrolment."""

    name = "unionaid.approvals"
    label = "approvals"

    def ready(self) -> None:
        from unionaid.accounts.services import register_assignment_end_hook
        from unionaid.approvals.handover import on_assignment_ended

        register_assignment_end_hook(on_assignment_ended)
