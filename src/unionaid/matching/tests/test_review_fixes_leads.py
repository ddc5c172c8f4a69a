"""Fixes of the review findings on leads: the evidence key holds only what the rule reads, the
evidence names the row the spreadsheet shows, the rules need the config right over the whole
tree."""

# ruff: noqa: F811

from __future__ import annotations

import json

from django.urls import reverse

from unionaid.matching.leads import services as leads
from unionaid.matching.leads.facts import key_facts
from unionaid.matching.models import Lead
from unionaid.matching.tests.helpers_leads import (  # noqa: F401 (fixtures)
    archive,
    clock,
    matched,
    people,
    world,
)

FACTS = {"source_kind": "disability", "amount": 4000.0, "date": "2026-08-01", "school": "某大学",
         "homes": 0, "extra": {"等级": "二级", "备注": "首次", "导出日期": "2026-09-30"}}


def test_the_key_holds_the_amount_the_date_and_the_facts_the_rule_reads():
    assert key_facts(FACTS, ["extra['等级'] != ''", ""]) == {
        "amount": 4000.0, "date": "2026-08-01", "extra": {"等级": "二级"}}
    assert key_facts(FACTS, ["school != '' and homes < 2"]) == {
        "amount": 4000.0, "date": "2026-08-01", "school": "某大学", "homes": 0}
    # extra read as a whole: every column counts
    assert key_facts(FACTS, ["'备注' in extra"])["extra"] == FACTS["extra"]


def test_a_changed_fact_that_the_rule_reads_raises_a_new_lead(world, matched, make_member):
    member = make_member(world["union"].team_a)
    rule = leads.lead_rule_save(
        actor=None, code="dis-level", name="残疾等级", action="visit",
        source_kinds=["disability"], condition="extra['等级'] != ''")
    first = matched("disability", member, {"等级": "二级", "备注": "甲"})
    leads.leads_raise(first.run)
    assert Lead.objects.filter(member=member, rule=rule).count() == 1
    leads.leads_raise(matched("disability", member, {"等级": "二级", "备注": "乙"},
                              title="再次报送").run)
    assert Lead.objects.filter(member=member, rule=rule).count() == 1
    leads.leads_raise(matched("disability", member, {"等级": "一级", "备注": "乙"},
                              title="等级变更").run)
    assert Lead.objects.filter(member=member, rule=rule).count() == 2


def test_the_evidence_names_the_row_the_spreadsheet_shows(world, matched, make_member):
    member = make_member(world["union"].team_a)
    match = matched("medical", member, {"amount": "9000", "date": "2026-08-01"})
    match.record.sheet_row = 17
    match.record.save(update_fields=["sheet_row"])
    leads.leads_raise(match.run)
    lead = Lead.objects.get(member=member)
    assert json.loads(lead.evidence)["row"] == 17


def test_the_rules_page_offers_no_edit_to_a_station_config_admin(world, client):
    from conftest import make_role, make_staff

    admin = make_staff("station_cfg2", world["union"].station_a,
                       [make_role("station-config2", ["matching.view", "matching.config"])])
    client.force_login(admin)
    assert not leads.may_edit_rules(admin)
    assert client.get(reverse("matching:lead-rule-create")).status_code == 404
