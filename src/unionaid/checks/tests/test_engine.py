"""The checks engine: findings stored once by fingerprint, explained ones stay explained,
missing ones resolved (never deleted), runs scoped, explanations and samples journaled."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from unionaid.audit.models import AuditEvent
from unionaid.checks import registry, services
from unionaid.checks.models import (
    Finding,
    FindingNote,
    FindingStatus,
    ReviewOutcome,
    SampledCase,
    SampleRule,
)
from unionaid.checks.tests.conftest import case, found
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.schedules.registry import job_or_none


def run(actor=None):
    return services.checks_run(actor=actor, keys=["test.planted"])


def test_common_path_is_the_deepest_shared_unit():
    assert registry.common_path(["00010002", "000100030001"]) == "0001"
    assert registry.common_path(["000100020001", "000100020003"]) == "00010002"
    assert registry.common_path(["00010002"]) == "00010002"
    assert registry.common_path([]) == ""


def test_a_rerun_does_not_duplicate_and_keeps_the_explanation(union, planted, auditors):
    planted.append(found(union.team_a, 1))
    [result] = run()
    assert (result.found, result.new, result.resolved) == (1, 1, 0)
    finding = Finding.objects.get()
    services.finding_explain(actor=auditors["bureau"], finding=finding, text="已核实")
    planted[0].summary = "疑点1（更新）"
    [result] = run()
    assert (result.found, result.new) == (1, 0)
    finding.refresh_from_db()
    assert Finding.objects.count() == 1
    assert finding.status == FindingStatus.EXPLAINED
    assert finding.summary == "疑点1（更新）"


def test_a_finding_no_longer_found_is_resolved_and_comes_back_explained(union, planted,
                                                                         auditors):
    planted.append(found(union.team_a, 1))
    run()
    finding = Finding.objects.get()
    services.finding_explain(actor=auditors["bureau"], finding=finding, text="已核实")
    planted.clear()
    [result] = run()
    assert result.resolved == 1
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED
    assert finding.resolved_at is not None
    planted.append(found(union.team_a, 1))
    run()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.EXPLAINED
    assert finding.explanation == "已核实"


def test_a_station_run_resolves_and_stores_nothing_outside_the_station(union, planted,
                                                                       auditors):
    planted.extend([found(union.team_a, 1), found(union.team_b, 2)])
    run()
    planted.clear()
    planted.append(found(union.team_b, 3))  # out of the station auditor's subtree
    [result] = run(auditors["station"])
    assert (result.found, result.resolved) == (0, 1)
    statuses = dict(Finding.objects.values_list("fingerprint", "status"))
    assert statuses == {"fp-1": FindingStatus.RESOLVED, "fp-2": FindingStatus.OPEN}
    event = AuditEvent.objects.filter(action="checks.run").latest("id")
    assert event.actor_id == auditors["station"].pk
    assert event.changes["resolved"] == 1


def test_an_unknown_check_is_not_found(auditors):
    with pytest.raises(NotFound):
        services.checks_run(actor=auditors["bureau"], keys=["test.nothing"])


def test_explaining_needs_review_right_and_a_text(union, planted, auditors):
    planted.append(found(union.team_a, 1))
    run()
    finding = Finding.objects.get()
    with pytest.raises(PermissionDenied):
        services.finding_explain(actor=auditors["reader"], finding=finding, text="看过")
    with pytest.raises(ServiceError) as exc:
        services.finding_explain(actor=auditors["bureau"], finding=finding, text="  ")
    assert exc.value.fields == {"text": "请填写说明。"}
    assert not AuditEvent.objects.filter(action="checks.finding_explain").exists()


def test_explain_and_reopen_are_kept_and_journaled(union, planted, auditors):
    planted.append(found(union.team_a, 1))
    run()
    finding = Finding.objects.get()
    with pytest.raises(Conflict):
        services.finding_reopen(actor=auditors["bureau"], finding=finding)
    services.finding_explain(actor=auditors["bureau"], finding=finding, text="夫妻共用账户")
    services.finding_reopen(actor=auditors["station"], finding=finding, text="材料不全")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    assert finding.explained_at is None
    notes = list(FindingNote.objects.values_list("kind", "text", "created_by"))
    assert notes == [("explain", "夫妻共用账户", auditors["bureau"].pk),
                     ("reopen", "材料不全", auditors["station"].pk)]
    events = list(AuditEvent.objects.filter(target_type="checks.finding").order_by("id")
                  .values_list("action", "actor_id", "changes__text"))
    assert events == [("checks.finding_explain", auditors["bureau"].pk, "夫妻共用账户"),
                      ("checks.finding_reopen", auditors["station"].pk, "材料不全")]


def test_the_nightly_job_runs_every_check_over_the_whole_tree(union, planted):
    planted.extend([found(union.team_a, 1), found(union.team_b, 2)])
    job = job_or_none("checks.run_all")
    assert job is not None
    assert job.default_schedule == "30 2 * * *"
    summary = job.func(now=timezone.now())
    assert "发现疑点" in summary
    assert set(Finding.objects.filter(check_key="test.planted")
               .values_list("fingerprint", flat=True)) == {"fp-1", "fp-2"}


# -- sampling --------------------------------------------------------------------------------

def test_a_random_sample_is_reproducible_from_its_seed(union, cases, auditors):
    cases.extend(case(union.team_a, n) for n in range(1, 41))
    first = services.sample_draw(actor=auditors["bureau"], population="test.cases",
                                 rule=SampleRule.RANDOM, unit=union.bureau,
                                 params={"percent": 10}, seed=1234)
    again = services.sample_draw(actor=auditors["bureau"], population="test.cases",
                                 rule=SampleRule.RANDOM, unit=union.bureau,
                                 params={"percent": "10"}, seed=first.seed)
    other = services.sample_draw(actor=auditors["bureau"], population="test.cases",
                                 rule=SampleRule.RANDOM, unit=union.bureau,
                                 params={"percent": 10}, seed=99)

    def ids(sample):
        return list(sample.cases.values_list("subject_id", flat=True))

    assert len(ids(first)) == 4
    assert ids(first) == ids(again) != ids(other)
    assert first.population_size == 40
    event = AuditEvent.objects.filter(action="checks.sample_draw").order_by("id").first()
    assert event.changes["seed"] == 1234
    assert event.changes["drawn"] == 4


def test_rule_samples_take_every_matching_case_in_the_unit(union, cases, auditors):
    cases.extend([case(union.team_a, 1, amount="5000"), case(union.team_a, 2, amount="50"),
                  case(union.team_b, 3, amount="9000"),
                  case(union.team_a, 4, amount="10", item="it-b")])
    above = services.sample_draw(actor=auditors["station"], population="test.cases",
                                 rule=SampleRule.ABOVE_AMOUNT, unit=union.station_a,
                                 params={"min_amount": "1000"})
    assert list(above.cases.values_list("subject_id", flat=True)) == [1]
    by_item = services.sample_draw(actor=auditors["station"], population="test.cases",
                                   rule=SampleRule.ITEM, unit=union.station_a,
                                   params={"item": "it-b"})
    assert list(by_item.cases.values_list("subject_id", flat=True)) == [4]
    assert by_item.cases.get().reviewer == auditors["station"]


def test_a_sample_outside_ones_scope_or_with_a_bad_rule_is_refused(union, cases, auditors):
    cases.append(case(union.team_b, 1))
    with pytest.raises(NotFound):
        services.sample_draw(actor=auditors["station"], population="test.cases",
                             rule=SampleRule.RANDOM, unit=union.station_b,
                             params={"percent": 50})
    with pytest.raises(ServiceError) as exc:
        services.sample_draw(actor=auditors["bureau"], population="test.cases",
                             rule=SampleRule.RANDOM, unit=union.bureau, params={"percent": 0})
    assert "percent" in exc.value.fields
    with pytest.raises(ServiceError) as exc:
        services.sample_draw(actor=auditors["bureau"], population="test.cases",
                             rule=SampleRule.ITEM, unit=union.bureau, params={"item": "zz"})
    assert "item" in exc.value.fields
    with pytest.raises(ServiceError) as exc:
        services.sample_draw(actor=auditors["bureau"], population="test.cases",
                             rule=SampleRule.ABOVE_AMOUNT, unit=union.bureau,
                             params={"min_amount": "99999"})
    assert exc.value.code == "empty_sample"


def test_a_review_outcome_is_kept_and_journaled(union, cases, auditors):
    cases.append(case(union.team_a, 1))
    sample = services.sample_draw(actor=auditors["bureau"], population="test.cases",
                                  rule=SampleRule.ITEM, unit=union.bureau,
                                  params={"item": "it-a"})
    sampled = sample.cases.get()
    with pytest.raises(ServiceError) as exc:
        services.sampled_case_review(actor=auditors["station"], case=sampled,
                                     outcome=ReviewOutcome.ISSUE, note="")
    assert "note" in exc.value.fields
    services.sampled_case_review(actor=auditors["station"], case=sampled,
                                 outcome=ReviewOutcome.ISSUE, note="缺诊断证明")
    sampled = SampledCase.objects.get()
    assert (sampled.outcome, sampled.note, sampled.reviewer) == (
        ReviewOutcome.ISSUE, "缺诊断证明", auditors["station"])
    event = AuditEvent.objects.get(action="checks.case_review")
    assert event.changes["after"] == {"outcome": "issue", "note": "缺诊断证明"}
    with pytest.raises(PermissionDenied):
        services.sampled_case_review(actor=auditors["reader"], case=sampled,
                                     outcome=ReviewOutcome.OK)


def test_random_draw_takes_the_ceiling_of_the_share():
    items = [registry.Case("k", n, "0001", None, "x", Decimal(1)) for n in range(7)]
    assert len(services.draw(items, rule=SampleRule.RANDOM, params={"percent": "10"},
                             seed=1)) == 1
    assert len(services.draw(items, rule=SampleRule.RANDOM, params={"percent": "100"},
                             seed=1)) == 7
