from django.apps import AppConfig


class VisitsConfig(AppConfig):
    """Visit campaigns (走访行动), pairings (结对), visits with the six-clears household profile,
    the needs found on a visit and their follow-ups."""

    name = "unionaid.visits"
    label = "visits"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from unionaid.accounts.permissions import register_permissions

        # the rights this app's pages, services and registrations below name
        register_permissions({
            "visits.view": _("查看走访记录与走访行动"),
            "visits.record": _("登记走访、家庭情况与跟进事项"),
            "visits.campaign": _("组织走访行动与结对"),
        }, order=40)
        from unionaid.assistance.facts import register_member_fact_provider
        from unionaid.members.panels import register_member_action, register_member_panel
        from unionaid.visits import panels, stat_facts
        from unionaid.visits.facts import member_household_facts

        register_member_fact_provider(member_household_facts)
        stat_facts.register()
        register_member_panel(panels.PANEL)
        register_member_action(panels.ACTION)
