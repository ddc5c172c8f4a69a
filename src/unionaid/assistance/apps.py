from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    """The 三助 catalog and applications."""

    name = "unionaid.assistance"
    label = "assistance"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from unionaid.accounts.permissions import register_permissions

        # the rights this app's pages, services and registrations below name
        register_permissions({
            "assistance.view": _("查看帮扶申请"),
            "assistance.apply": _("代职工提交帮扶申请"),
            "assistance.catalog": _("维护帮扶项目与审批流程"),
        }, order=30)
        from django.core.signals import request_finished

        from unionaid.approvals.registry import register_subject
        from unionaid.assistance import checks, export_kinds, jobs, panels, stat_facts, storage
        from unionaid.assistance.approval_subject import ApplicationSubject
        from unionaid.assistance.disbursement_subject import ApplicationDisbursementSubject
        from unionaid.funds import subjects as disbursement_subjects
        from unionaid.members.panels import register_member_action, register_member_panel

        register_subject(ApplicationSubject())
        disbursement_subjects.register(ApplicationDisbursementSubject())
        register_member_panel(panels.PANEL)
        register_member_action(panels.ACTION)
        jobs.register()
        checks.register()
        export_kinds.register()
        stat_facts.register()
        # Files of rolled-back uploads are deleted after the request, outside its transaction.
        request_finished.connect(storage.flush_discarded_quietly,
                                 dispatch_uid="unionaid.assistance.storage.flush_discarded")
