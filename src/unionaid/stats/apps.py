"""Statistics (统计分析): the engine that turns the facts the domains publish into tables, charts
and dashboards, within the user's data scope. It imports no domain: each domain registers its
facts, dimensions and measures in ``AppConfig.ready()``."""
from django.apps import AppConfig


class StatsConfig(AppConfig):
    """Statistics: registered facts, dimensions and measures; tables, charts, dashboards."""

    name = "unionaid.stats"
    label = "stats"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from unionaid.accounts.permissions import register_permissions

        register_permissions({"stats.view": _("查看统计分析（本人数据范围内）")}, order=85)
        from unionaid.stats import jobs

        jobs.register()
