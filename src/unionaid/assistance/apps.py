from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    """The 三助 catalog and applications."""

    name = "unionaid.assistance"
    label = "assistance"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from unionaid.approvals.registry import register_subject
        from unionaid.assistance import panels, storage
        from unionaid.assistance.approval_subject import ApplicationSubject
        from unionaid.assistance.services import outcomes
        from unionaid.assistance.services.applications import SUBJECT_KIND
        from unionaid.funds.services import (
            register_closed_hook,
            register_paid_hook,
            register_released_hook,
            register_repaid_hook,
            register_reversed_hook,
        )
        from unionaid.members.panels import register_member_panel

        register_subject(ApplicationSubject())
        register_paid_hook(SUBJECT_KIND, outcomes.disbursement_paid)
        register_reversed_hook(SUBJECT_KIND, outcomes.disbursement_reversed)
        register_repaid_hook(SUBJECT_KIND, outcomes.disbursement_repaid)
        register_released_hook(SUBJECT_KIND, outcomes.disbursement_released)
        register_closed_hook(SUBJECT_KIND, outcomes.disbursement_closed)
        register_member_panel(panels.PANEL)
        # Files of rolled-back uploads are deleted after the request, outside its transaction.
        request_finished.connect(storage.flush_discarded_quietly,
                                 dispatch_uid="unionaid.assistance.storage.flush_discarded")
