"""Visits' part of the member page (members/panels.py): the latest visit in 帮扶概况, and the
visit buttons (登记走访, 走访记录, 家庭情况变化) in the page head."""

from __future__ import annotations

from unionaid.members.panels import MemberAction, MemberPanel
from unionaid.visits.selectors.records import member_summary_for_user


def member_part(user, member) -> dict | None:
    return member_summary_for_user(user=user, member=member)


PANEL = MemberPanel(key="visits", order=20, permission="visits.view", context=member_part,
                    template="visits/_member_panel.html")
ACTION = MemberAction(key="visits", order=10, template="visits/_member_actions.html")
