"""The leads part of the member page (members/panels.py): the worker's open leads, each linking
to its evidence and accept / dismiss, in the viewer's scope."""

from __future__ import annotations

from unionaid.matching.leads.selectors import leads_visible_to
from unionaid.matching.models import LeadStatus
from unionaid.matching.selectors import VIEW
from unionaid.members.panels import MemberPanel

SHOWN = 10


def member_part(user, member) -> dict | None:
    leads = list(leads_visible_to(user=user, status=LeadStatus.RAISED)
                 .filter(member=member)[:SHOWN])
    return {"leads": leads} if leads else None


PANEL = MemberPanel(key="matching_leads", order=41, permission=VIEW, context=member_part,
                    template="matching/_member_leads_panel.html")
