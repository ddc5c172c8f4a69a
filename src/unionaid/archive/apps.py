from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    """The hardship archive (困难职工档案): categories computed against the local 低保 line,
    enrolment and exit through the approval engine with public notice, re-checks, follow-ups
    and watch lists."""

    name = "unionaid.archive"
    label = "archive"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from unionaid.accounts.permissions import register_permissions

        # the rights this app's pages, services and registrations below name
        register_permissions({
            "archive.view": _("查看困难职工档案"),
            "archive.manage": _("建档、复核、脱困、销档与动态管理清单"),
            "archive.config": _("维护低保标准、认定规则与工作日"),
        }, order=50)
        from unionaid.approvals.registry import register_subject
        from unionaid.archive import export_kinds, facts, jobs, panels, stat_facts, visit_state
        from unionaid.archive.approval_subject import EnrolmentSubject, ExitSubject
        from unionaid.members.panels import register_member_action, register_member_panel

        register_subject(EnrolmentSubject())
        register_subject(ExitSubject())
        facts.register()
        stat_facts.register()
        export_kinds.register()
        visit_state.register()
        jobs.register()
        register_member_panel(panels.PANEL)
        register_member_action(panels.ACTION)
