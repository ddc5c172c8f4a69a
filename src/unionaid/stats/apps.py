from django.apps import AppConfig


class StatsConfig(AppConfig):
    """Statistics: registered facts, dimensions and measures; tables, charts, dashboards."""

    name = "unionaid.stats"
    label = "stats"
