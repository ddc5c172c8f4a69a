from django.apps import AppConfig


class MatchingConfig(AppConfig):
    """Other departments' lists (低保, medical bills, admissions, household registry, property,
    disability) imported, matched to the member roll, reviewed, and turned into leads."""

    name = "unionaid.matching"
    label = "matching"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from unionaid.accounts.permissions import register_permissions
        from unionaid.matching import jobs, panels
        from unionaid.matching.leads import panels as lead_panels
        from unionaid.members.panels import register_member_panel

        register_permissions({
            "matching.view": _("查看外部数据比对结果与线索"),
            "matching.manage": _("导入外部数据、运行比对、处理线索"),
            "matching.review": _("复核待确认的比对结果"),
            "matching.config": _("维护数据来源、保留期限与线索规则"),
        }, order=55)
        jobs.register()
        register_member_panel(lead_panels.PANEL)
        register_member_panel(panels.PANEL)
