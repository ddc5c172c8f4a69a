"""Statistics (统计分析): the engine that turns the facts the domains publish into tables, charts
and dashboards, within the user's data scope. It imports no domain: each domain registers its
facts, dimensions and measures in ``AppConfig.ready()``."""
