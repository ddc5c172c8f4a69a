"""Assistance's part of the member page (members/panels.py): this year's grants and the
applications under review, in 帮扶概况; and the 代办申请 button in the page head."""

from __future__ import annotations

from unionaid.assistance.selectors import member_summary_for_user
from unionaid.members.panels import MemberAction, MemberPanel


def member_part(user, member) -> dict | None:
    return member_summary_for_user(user=user, member=member)


PANEL = MemberPanel(key="assistance", order=30, permission="assistance.view",
                    context=member_part, template="assistance/_member_panel.html")
ACTION = MemberAction(key="assistance", order=15, template="assistance/_member_actions.html")
