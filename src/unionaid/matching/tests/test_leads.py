"""Leads (线索): the default rules, safe rule expressions, no duplicate leads, accepting each
kind through the owning domain's services with the evidence, dismissing with a reason, scope,
the conversion figures, and the hooks (a run's matches, a confirmation in review)."""

# The archive fixtures come from its helpers (no shared conftest), hence F811 as parameters.
# ruff: noqa: F811

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from unionaid.archive.models import HardshipRecord, RecordStatus
from unionaid.assistance.models import Application, ApplicationStatus
from unionaid.assistance.services.applications import application_precheck
from unionaid.audit.models import AuditEvent
from unionaid.core import rules
from unionaid.core.errors import Conflict, NotFound, ServiceError
from unionaid.funds.models import Budget, Disbursement, FundingSource
from unionaid.matching import linking, services
from unionaid.matching.leads import selectors as lead_selectors
from unionaid.matching.leads import services as leads
from unionaid.matching.leads.facts import iso_date
from unionaid.matching.models import (
    Dataset,
    DatasetStatus,
    Lead,
    LeadRule,
    LeadStatus,
    MatchStatus,
    Source,
)
from unionaid.matching.tests.fake_linkage import FakeLink
from unionaid.matching.tests.helpers_leads import (  # noqa: F401 (fixtures)
    archive,
    archived,
    clock,
    matched,
    people,
    record_profile,
    world,
)
from unionaid.visits.models import FollowUp


def _codes(member) -> list[str]:
    return sorted(Lead.objects.filter(member=member).values_list("rule__code", flat=True))


# -- the default rules -----------------------------------------------------------------------------

def test_a_child_on_an_admission_list_raises_the_fitting_education_grant_with_its_amount(
        world, matched, make_member):
    member = make_member(world["union"].team_a)
    match = matched("admission", member, {"学生姓名": "张小明", "录取院校": "西南交通大学",
                                          "层次": "本科"})
    assert leads.leads_raise(match.run) == 1
    lead = Lead.objects.get(member=member)
    assert lead.rule.code == "admission-jqzx"
    assert lead.amount == Decimal("5000.00")  # the catalog's 本科新生 standard
    assert lead.evidence_data["facts"]["school"] == "西南交通大学"


def test_a_postgraduate_admission_raises_the_postgraduate_grant(world, matched, make_member):
    member = make_member(world["union"].team_a)
    leads.leads_raise(matched("admission", member, {"层次": "硕士研究生"}).run)
    assert _codes(member) == ["admission-yjs"]
    assert Lead.objects.get(member=member).amount == Decimal("6000.00")


def test_medical_self_paid_above_the_line_raises_medical_aid_and_below_it_nothing(
        world, matched, make_member):
    high, low = make_member(world["union"].team_a), make_member(world["union"].team_a)
    leads.leads_raise(matched("medical", high, {"amount": "12,000.00"}).run)
    leads.leads_raise(matched("medical", low, {"amount": "1500"}).run)
    assert _codes(high) == ["medical-dbjz"]
    assert Lead.objects.get(member=high).amount == Decimal("5000.00")  # (12000-2000) × 50%
    assert _codes(low) == []


def test_a_dibao_member_not_in_the_archive_gets_a_visit_and_an_enrolment_proposal(
        world, matched, make_member, clock):
    outside, inside = make_member(world["union"].team_a), make_member(world["union"].team_a)
    archived(world, inside, clock)
    leads.leads_raise(matched("dibao", outside, {}).run)
    leads.leads_raise(matched("dibao", inside, {}).run)
    assert _codes(outside) == ["dibao-enrol", "dibao-visit"]
    assert _codes(inside) == []


def test_an_archived_household_with_two_homes_or_a_business_is_flagged_for_review(
        world, matched, make_member, clock):
    holder, other = make_member(world["union"].team_a), make_member(world["union"].team_a)
    archived(world, holder, clock)
    leads.leads_raise(matched("property", holder, {"房产套数": "2"}).run)
    leads.leads_raise(matched("property", other, {"房产套数": "3"}).run)
    leads.leads_raise(matched("other", holder, {"企业名称": "某某商贸有限公司"}).run)
    assert _codes(holder) == ["business-review", "property-review"]
    assert _codes(other) == []  # not in the archive: nothing to cross-check


def test_a_death_record_of_an_archived_member_proposes_closing_the_file(
        world, matched, make_member, clock):
    member = make_member(world["union"].team_a)
    archived(world, member, clock)
    leads.leads_raise(matched("registry", member, {"变动类型": "出生"}).run)
    assert _codes(member) == []
    leads.leads_raise(matched("registry", member, {"变动类型": "死亡", "date": "2026-09-01"}).run)
    assert _codes(member) == ["death-close"]


def test_review_matches_raise_nothing_until_confirmed_then_the_confirmation_raises(
        world, matched, make_member):
    member = make_member(world["union"].team_a)
    match = matched("medical", member, {"amount": "9000"}, status=MatchStatus.REVIEW)
    assert leads.leads_raise(match.run) == 0
    services.match_decide(actor=world["cadres"].station_a, match=match, decision="confirmed")
    assert _codes(member) == ["medical-dbjz"]


def test_rejecting_a_match_in_review_dismisses_the_leads_it_raised(world, matched, make_member):
    member = make_member(world["union"].team_a)
    match = matched("medical", member, {"amount": "9000"})
    leads.leads_raise(match.run)
    services.match_decide(actor=world["cadres"].station_a, match=match, decision="rejected")
    lead = _lead(member, "medical-dbjz")
    assert lead.status == LeadStatus.DISMISSED
    assert lead.dismiss_reason == "复核认定不是同一人"
    assert AuditEvent.objects.filter(action="matching.leads_withdraw").exists()


def test_a_finished_run_raises_its_leads(world, make_member, make_record, monkeypatch,
                                         django_capture_on_commit_callbacks):
    monkeypatch.setattr(linking, "_link", FakeLink())
    member = make_member(world["union"].team_a)
    source = Source.objects.create(kind="medical", name="医保", org_unit=world["union"].bureau)
    dataset = Dataset.objects.create(
        source=source, org_unit=world["union"].station_a, title="医保大额", file_name="m.csv",
        status=DatasetStatus.LOADED, uploaded_by=world["cadres"].station_a,
        loaded_at=timezone.now())
    make_record(dataset, person=member, extra=json.dumps({"amount": "30000"}))
    with django_capture_on_commit_callbacks(execute=True):
        run = services.match_run_start(actor=world["cadres"].station_a, dataset=dataset)
    assert _codes(member) == ["medical-dbjz"]
    assert Lead.objects.get(member=member).match.run_id == run.pk


@pytest.mark.parametrize(("text", "iso"), [
    ("2026-09-01", "2026-09-01"), ("2026/9/1", "2026-09-01"), ("2026年9月1日", "2026-09-01"),
    ("20260901", "2026-09-01"), ("2026-09-01 00:00:00", "2026-09-01"), ("2026-13-01", ""),
    ("", ""), ("不详", ""),
])
def test_the_record_date_is_read_in_the_usual_forms(text, iso):
    assert iso_date(text) == iso


# -- no duplicates ---------------------------------------------------------------------------------

def test_raising_twice_or_a_reimport_of_the_same_list_raises_no_duplicate(
        world, matched, make_member):
    member = make_member(world["union"].team_a)
    first = matched("medical", member, {"amount": "9000", "date": "2026-08-01", "序号": "7"})
    assert leads.leads_raise(first.run) == 1
    assert leads.leads_raise(first.run) == 0
    # the same list again, in another order (its running number changed)
    again = matched("medical", member, {"amount": "9000", "date": "2026-08-01", "序号": "12"},
                    title="同一名单再次导入")
    assert leads.leads_raise(again.run) == 0
    assert Lead.objects.filter(member=member).count() == 1
    other_bill = matched("medical", member, {"amount": "9000", "date": "2026-10-01"})
    assert leads.leads_raise(other_bill.run) == 1  # new evidence: a new lead


def test_a_large_run_raises_its_leads_batch_by_batch(world, matched, make_member, make_record,
                                                     make_match, monkeypatch):
    monkeypatch.setattr(leads, "BATCH", 2)
    members = [make_member(world["union"].team_a) for _ in range(5)]
    first = matched("medical", members[0], {"amount": "9000"})
    for member in members[1:]:
        record = make_record(first.dataset, person=member,
                             extra=json.dumps({"amount": "9000"}))
        make_match(first.dataset, record, member, status=MatchStatus.MATCHED, run=first.run)
    assert leads.leads_raise(first.run) == 5
    assert leads.leads_raise(first.run) == 0
    assert AuditEvent.objects.filter(action="matching.leads_raise").count() == 3


def test_a_dismissed_lead_is_not_raised_again_for_the_same_evidence(world, matched, make_member):
    member = make_member(world["union"].team_a)
    match = matched("medical", member, {"amount": "9000"})
    leads.leads_raise(match.run)
    leads.lead_dismiss(actor=world["lead_a"], lead=Lead.objects.get(member=member),
                       reason="已通过其他渠道救助")
    assert leads.leads_raise(matched("medical", member, {"amount": "9000"}).run) == 0


# -- rules are data, checked when saved ------------------------------------------------------------

@pytest.mark.parametrize(("condition", "fragment"), [
    ("amount >", "条件"),
    ("salary > 3000", "条件"),
    ("amount.__class__", "条件"),
    ("__import__('os')", "条件"),
])
def test_a_bad_condition_is_refused_on_save_with_a_clear_message(world, condition, fragment):
    with pytest.raises(rules.RuleError) as caught:
        leads.lead_rule_save(actor=world["cadres"].bureau, code="bad", name="坏规则",
                             action="visit", condition=condition)
    assert fragment in caught.value.message
    assert "condition" in caught.value.fields
    assert not LeadRule.objects.filter(code="bad").exists()


def test_a_rule_naming_an_unknown_item_fact_or_material_is_refused(world):
    admin = world["cadres"].bureau
    with pytest.raises(ServiceError) as caught:
        leads.lead_rule_save(actor=admin, code="x1", name="x", action="application",
                             item_code="yl-dbjz", item_facts={"salary": "amount"})
    assert "item_facts" in caught.value.fields
    with pytest.raises(ServiceError) as caught:
        leads.lead_rule_save(actor=admin, code="x2", name="x", action="application",
                             item_code="yl-dbjz", item_facts={"self_paid": "amount +"})
    assert "item_facts" in caught.value.fields
    with pytest.raises(ServiceError) as caught:
        leads.lead_rule_save(actor=admin, code="x3", name="x", action="application",
                             item_code="no-such-item")
    assert "item_code" in caught.value.fields


def test_a_good_rule_is_saved_and_journaled_and_only_the_config_right_may_save(world):
    rule = leads.lead_rule_save(
        actor=world["cadres"].bureau, code="disabled-aid", name="残疾证 → 残疾职工生活补助",
        action="application", source_kinds=["disability"], condition="extra['等级'] != ''",
        item_code="kn-cjsh", item_facts={"level": "extra['等级']"}, material="残疾人证")
    assert rule.item_facts == {"level": "extra['等级']"}
    assert AuditEvent.objects.filter(action="matching.lead_rule_save",
                                     target_id=str(rule.pk)).exists()
    with pytest.raises(ServiceError):
        leads.lead_rule_save(actor=world["lead_a"], code="y", name="y", action="visit")


def test_a_rules_amount_expression_gives_the_leads_amount(world, matched, make_member):
    leads.lead_rule_save(
        actor=world["cadres"].bureau, code="rehab", name="康复治疗 → 康复治疗补助",
        action="application", source_kinds=["disability"], condition="amount > 0",
        item_code="yl-kfzl", item_facts={"self_paid": "amount"},
        amount_expression="min(amount * 0.3, 3000)")
    member = make_member(world["union"].team_a)
    leads.leads_raise(matched("disability", member, {"amount": "4000"}).run)
    assert _lead(member, "rehab").amount == Decimal("1200.00")


def test_a_rule_that_fails_on_a_real_record_skips_it_instead_of_failing_the_run(
        world, matched, make_member):
    LeadRule.objects.create(code="div", name="除零", action="visit", condition="1 / homes > 0",
                            source_kinds=["property"])
    member = make_member(world["union"].team_a)
    assert leads.leads_raise(matched("property", member, {"房产套数": "0"}).run) == 0


# -- accepting -------------------------------------------------------------------------------------

def _lead(member, code) -> Lead:
    return Lead.objects.get(member=member, rule__code=code)


def test_accepting_an_education_lead_starts_a_prefilled_application_carrying_the_evidence(
        world, matched, make_member):
    member = make_member(world["union"].team_a)
    leads.leads_raise(matched("admission", member, {"录取院校": "兰州交通大学", "层次": "专科"},
                              title="2026年高校录取名单").run)
    lead = leads.lead_accept(actor=world["lead_a"], lead=_lead(member, "admission-jqzx"))
    application = Application.objects.get(pk=lead.target_id)
    assert (lead.status, lead.target_kind) == (LeadStatus.ACCEPTED, "assistance.application")
    assert application.member == member
    assert application.status == ApplicationStatus.DRAFT
    assert application.item.code == "xx-jqzx"
    assert application.facts["case"] == "专科新生"
    assert "2026年高校录取名单" in application.reason
    assert "第 " in application.reason
    assert "兰州交通大学" in application.reason
    assert "录取通知书或在读证明" in application.reason
    # the record stands for the admission letter: a PDF attached under that material
    attachment = application.attachments.get()
    assert attachment.material == "录取通知书或在读证明"
    assert attachment.content_type == "application/pdf"
    precheck = application_precheck(application=application)
    assert not any("录取通知书" in problem for problem in precheck["problems"])
    assert AuditEvent.objects.filter(action="matching.lead_accept", target_id=str(lead.pk),
                                     actor_id=world["lead_a"].pk).exists()
    # accepting again changes nothing
    again = leads.lead_accept(actor=world["lead_a"], lead=lead)
    assert again.target_id == application.pk
    assert Application.objects.filter(member=member).count() == 1
    assert application.attachments.count() == 1


def test_accepting_a_medical_lead_prefills_the_self_paid_amount(world, matched, make_member):
    member = make_member(world["union"].team_a)
    leads.leads_raise(matched("medical", member, {"amount": "12000"}).run)
    lead = leads.lead_accept(actor=world["lead_a"], lead=_lead(member, "medical-dbjz"))
    assert Application.objects.get(pk=lead.target_id).facts["self_paid"] == "12000.00"


def test_accepting_a_visit_lead_plans_a_visit_owned_by_the_cadre(world, matched, make_member):
    member = make_member(world["union"].team_a)
    leads.leads_raise(matched("dibao", member, {}).run)
    lead = leads.lead_accept(actor=world["lead_a"], lead=_lead(member, "dibao-visit"))
    follow_up = FollowUp.objects.get(pk=lead.target_id)
    assert lead.target_kind == "visits.followup"
    assert follow_up.member == member
    assert follow_up.owner == world["lead_a"]
    assert follow_up.due_on == timezone.localdate() + timezone.timedelta(days=7)
    assert "入户走访" in follow_up.title


def test_accepting_an_enrolment_lead_starts_the_enrolment_with_the_evidence(
        world, matched, make_member):
    member = make_member(world["union"].team_a)
    leads.leads_raise(matched("dibao", member, {}, title="11月低保名单").run)
    lead = _lead(member, "dibao-enrol")
    with pytest.raises(ServiceError):  # no household profile yet: the archive says so
        leads.lead_accept(actor=world["lead_a"], lead=lead)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.RAISED
    record_profile(world["archive"], member, monthly="600")
    lead = leads.lead_accept(actor=world["lead_a"], lead=lead)
    record = HardshipRecord.objects.get(pk=lead.target_id)
    assert record.member == member
    assert record.status == RecordStatus.PENDING
    assert "11月低保名单" in record.reason


def test_accepting_a_review_lead_plans_a_recheck_of_the_archived_household(
        world, matched, make_member, clock):
    member = make_member(world["union"].team_a)
    record = archived(world, member, clock)
    leads.leads_raise(matched("property", member, {"房产套数": "2"}).run)
    lead = leads.lead_accept(actor=world["lead_a"], lead=_lead(member, "property-review"))
    follow_up = FollowUp.objects.get(pk=lead.target_id)
    assert follow_up.hardship_record == record
    assert "档案复核" in follow_up.title


def test_accepting_a_death_lead_closes_the_file(world, matched, make_member, clock):
    member = make_member(world["union"].team_a)
    record = archived(world, member, clock)
    leads.leads_raise(matched("registry", member, {"变动类型": "死亡",
                                                   "date": "2026年9月1日"}).run)
    leads.lead_accept(actor=world["lead_a"], lead=_lead(member, "death-close"))
    record.refresh_from_db()
    assert record.status == RecordStatus.CLOSED
    assert record.close_reason == "death"
    assert record.closed_on.isoformat() == "2026-09-01"


# -- dismissing ------------------------------------------------------------------------------------

def test_dismissing_needs_a_reason_and_a_dismissed_lead_cannot_be_accepted(
        world, matched, make_member):
    member = make_member(world["union"].team_a)
    leads.leads_raise(matched("medical", member, {"amount": "9000"}).run)
    lead = _lead(member, "medical-dbjz")
    with pytest.raises(ServiceError) as caught:
        leads.lead_dismiss(actor=world["lead_a"], lead=lead, reason="  ")
    assert "reason" in caught.value.fields
    lead = leads.lead_dismiss(actor=world["lead_a"], lead=lead, reason="费用已由大病保险全额报销")
    assert lead.status == LeadStatus.DISMISSED
    assert lead.dismiss_reason == "费用已由大病保险全额报销"
    event = AuditEvent.objects.get(action="matching.lead_dismiss", target_id=str(lead.pk))
    assert event.changes["reason_chars"] == len("费用已由大病保险全额报销")
    with pytest.raises(Conflict):
        leads.lead_accept(actor=world["lead_a"], lead=lead)
    assert not Application.objects.filter(member=member).exists()


# -- scope -----------------------------------------------------------------------------------------

def test_a_cadre_sees_only_leads_of_members_in_their_units(world, matched, make_member):
    in_a, in_b = make_member(world["union"].team_a), make_member(world["union"].team_b)
    leads.leads_raise(matched("medical", in_a, {"amount": "9000"}).run)
    leads.leads_raise(matched("medical", in_b, {"amount": "9000"}).run)
    lead_a, lead_b = _lead(in_a, "medical-dbjz"), _lead(in_b, "medical-dbjz")
    assert list(lead_selectors.leads_visible_to(user=world["lead_a"])) == [lead_a]
    assert list(lead_selectors.leads_visible_to(user=world["lead_b"])) == [lead_b]
    with pytest.raises(NotFound):
        lead_selectors.lead_get_for_user(user=world["lead_b"], pk=lead_a.pk)
    assert AuditEvent.objects.filter(action="access.denied", actor_id=world["lead_b"].pk,
                                     target_type="matching.lead").exists()
    with pytest.raises(NotFound):
        leads.lead_accept(actor=world["lead_b"], lead=lead_a)
    with pytest.raises(NotFound):
        leads.lead_dismiss(actor=world["lead_b"], lead=lead_a, reason="不是我的")
    assert lead_selectors.conversion(user=world["lead_b"])["raised"] == 1


# -- conversion ------------------------------------------------------------------------------------

def _pay(application: Application, when) -> None:
    """The payment as funds records it (the approval and payment flows are tested there)."""
    fund = FundingSource.objects.get(code="swn")
    budget = Budget.objects.create(org_unit=application.org_unit, funding_source=fund,
                                   year=when.year)
    Application.objects.filter(pk=application.pk).update(status=ApplicationStatus.PAID,
                                                         amount=Decimal("5000"))
    Disbursement.objects.create(subject_kind="assistance.application", subject_id=application.pk,
                                budget=budget, member=application.member, amount=Decimal("5000"),
                                status="paid", paid_at=when)


def test_conversion_counts_raised_accepted_paid_and_the_days_from_data_to_money(
        world, matched, make_member):
    members = [make_member(world["union"].team_a) for _ in range(3)]
    for member in members:
        leads.leads_raise(matched("admission", member, {"层次": "本科"}).run)
    first, second, third = (_lead(m, "admission-jqzx") for m in members)
    Lead.objects.filter(pk=first.pk).update(data_at=timezone.now() - timezone.timedelta(days=12))
    first = leads.lead_accept(actor=world["lead_a"], lead=first)
    leads.lead_accept(actor=world["lead_a"], lead=second)
    leads.lead_dismiss(actor=world["lead_a"], lead=third, reason="子女已毕业")
    _pay(Application.objects.get(pk=first.target_id), timezone.now())
    figures = lead_selectors.conversion(user=world["lead_a"])
    assert figures["raised"] == 3
    assert figures["accepted"] == 2
    assert figures["dismissed"] == 1
    assert figures["paid"] == 1
    assert figures["paid_amount"] == Decimal("5000")
    assert figures["days_to_money_median"] == 12


# -- the retention purge ---------------------------------------------------------------------------

def test_purging_a_list_drops_the_evidence_of_dismissed_leads_and_keeps_open_ones(
        world, matched, make_member):
    dismissed, open_ = make_member(world["union"].team_a), make_member(world["union"].team_a)
    first = matched("medical", dismissed, {"amount": "9000"})
    dataset = first.dataset
    second = matched("medical", open_, {"amount": "8000"}, dataset=dataset)
    leads.leads_raise(first.run)
    leads.leads_raise(second.run)
    leads.lead_dismiss(actor=world["lead_a"], lead=_lead(dismissed, "medical-dbjz"),
                       reason="已报销")
    services.dataset_purge(actor=world["cadres"].bureau, dataset=dataset)
    gone, kept = _lead(dismissed, "medical-dbjz"), _lead(open_, "medical-dbjz")
    assert gone.evidence == ""
    assert gone.dismiss_reason == "已报销"
    assert kept.evidence_data["facts"]["amount"] == 8000.0
    assert kept.record_id is None  # the record itself is gone with the list
    # the lead is still accepted from its kept evidence
    lead = leads.lead_accept(actor=world["lead_a"], lead=kept)
    assert Application.objects.get(pk=lead.target_id).facts["self_paid"] == "8000.00"
