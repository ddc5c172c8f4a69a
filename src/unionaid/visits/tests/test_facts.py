"""The assistance rules see the household a visit recorded."""
# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

from unionaid.assistance import facts as assistance_facts
from unionaid.visits.services import visits as visit_services

from .helpers_records import new_uuid, rec, visit_data  # noqa: F401


def test_the_rules_count_the_household_the_visit_recorded(rec):
    before = assistance_facts.member_values(rec.member)
    assert before["household_size"] == 1  # nobody registered in the member's household
    visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(),
                                data=visit_data(rec.member))
    after = assistance_facts.member_values(rec.member)
    assert after["household_size"] == 3  # 本人, a sick spouse, a son at college
    assert after["children_count"] == 1
