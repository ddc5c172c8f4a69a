"""Review finding: the "never repeat a lead" key covers every column of the list, so the same
evidence re-sent with one column more (or a changed remark) raises the same lead again."""

# ruff: noqa: F811

from __future__ import annotations

from unionaid.matching.leads import services as leads
from unionaid.matching.models import Lead
from unionaid.matching.tests.helpers_leads import (  # noqa: F401 (fixtures)
    archive,
    clock,
    matched,
    people,
    world,
)


def test_the_same_bill_resent_with_an_extra_column_raises_no_second_lead(
        world, matched, make_member):
    member = make_member(world["union"].team_a)
    first = matched("medical", member, {"amount": "9000", "date": "2026-08-01",
                                        "备注": "首次报送"})
    assert leads.leads_raise(first.run) == 1
    # the department sends the same bill again, with an export-date column and a new remark
    again = matched("medical", member, {"amount": "9000", "date": "2026-08-01",
                                        "备注": "补报", "导出日期": "2026-09-30"},
                    title="同一名单再次报送")
    assert leads.leads_raise(again.run) == 0
    assert Lead.objects.filter(member=member).count() == 1


def test_a_station_level_config_admin_cannot_rewrite_the_federations_lead_rules(world):
    import pytest

    from conftest import make_role, make_staff
    from unionaid.core.errors import NotFound, PermissionDenied
    from unionaid.matching.models import LeadRule

    station_admin = make_staff("station_cfg", world["union"].station_a,
                               [make_role("station-config", ["matching.view",
                                                             "matching.config"])])
    rule = LeadRule.objects.filter(action="visit").first()
    with pytest.raises((PermissionDenied, NotFound)):
        leads.lead_rule_save(actor=station_admin, rule=rule, code=rule.code, name=rule.name,
                             action=rule.action, condition="True",
                             source_kinds=rule.source_kinds, due_days=rule.due_days)
