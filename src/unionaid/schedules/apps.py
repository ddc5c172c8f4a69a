from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    """Scheduled jobs (定时任务): the engine that runs the periodic jobs the domains register
    (``registry.register_job``) at the times the system admin sets, once per slot across
    scheduler processes (``unionaid scheduler``). It imports no domain."""

    name = "unionaid.schedules"
    label = "schedules"
