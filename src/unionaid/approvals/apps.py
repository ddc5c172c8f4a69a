from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    """The generic approval engine: flows of ordered steps held by posts, versioned, inherited
    down the org tree. Domains register their approval subjects (``registry.register_subject``)
    in their own ``ready()``; the engine imports none of them."""

    name = "unionaid.approvals"
    label = "approvals"

    def ready(self) -> None:
        from unionaid.accounts.services import register_assignment_end_hook
        from unionaid.approvals import jobs
        from unionaid.approvals.handover import on_assignment_ended

        register_assignment_end_hook(on_assignment_ended)
        jobs.register()
