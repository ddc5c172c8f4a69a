from django.apps import AppConfig


class VisitsConfig(AppConfig):
    """Visit campaigns (走访行动), pairings (结对), visits with the six-clears household profile,
    the needs found on a visit and their follow-ups."""

    name = "unionaid.visits"
    label = "visits"

    def ready(self) -> None:
        from unionaid.assistance.facts import register_member_fact_provider
        from unionaid.members.panels import register_member_action, register_member_panel
        from unionaid.visits import panels
        from unionaid.visits.facts import member_household_facts

        register_member_fact_provider(member_household_facts)
        register_member_panel(panels.PANEL)
        register_member_action(panels.ACTION)
