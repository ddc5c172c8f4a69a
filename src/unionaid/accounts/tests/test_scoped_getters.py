"""Every single-record getter, one test: in scope → the record; out of scope → not found and a
journaled ``access.denied``; a garbage id → not found.

``SPECS`` says, for each getter registered with ``@scoped_getter``, how to make a record inside
and one outside the viewer's scope. ``test_every_getter_is_registered_and_specified`` fails when
a ``*_get_for_user`` is added without registering it (or without a spec here).

The viewer holds a post at 站段 A with every view permission the getters ask for (unit and
below); "outside" is 站段 B, or another user's own record (exports, notifications, imports).
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from conftest import PASSWORD, make_role, make_staff
from unionaid.accounts import services as account_services
from unionaid.approvals.models import (
    ApprovalCase,
    ApprovalFlow,
    ApprovalStep,
    ApprovalTask,
    FlowVersion,
)
from unionaid.archive.models import (
    DibaoStandard,
    DifficultUnit,
    HardshipRecord,
    Objection,
    WatchEntry,
)
from unionaid.assistance.models import Application, AssistanceCategory, AssistanceItem
from unionaid.audit.models import AuditEvent, ReadEvent
from unionaid.audit.scoped import SCOPED_GETTERS
from unionaid.checks.models import Finding, Sample, SampledCase
from unionaid.core.errors import NotFound
from unionaid.exports.models import ExportJob
from unionaid.funds.models import Budget, Disbursement, DisbursementBatch, FundingSource
from unionaid.matching.models import Dataset, ExternalRecord, Match, MatchRun, Source
from unionaid.members.models import ImportJob
from unionaid.notifications.models import Notification
from unionaid.visits.models import (
    FollowUp,
    HouseholdProfile,
    Pairing,
    Visit,
    VisitCampaign,
    VisitNeed,
)

SRC = Path(__file__).resolve().parents[2]  # src/unionaid
VIEW_PERMS = [
    "org.view", "members.view", "members.import", "assistance.view", "archive.view",
    "archive.config", "visits.view", "funds.view", "matching.view", "checks.view",
]


@dataclass
class World:
    union: object
    viewer: object
    other: object
    member_in: object
    member_out: object
    today: dt.date

    def unit(self, inside: bool):
        return self.union.team_a if inside else self.union.team_b

    def member(self, inside: bool):
        return self.member_in if inside else self.member_out


@pytest.fixture
def world(union, make_member) -> World:
    role = make_role("scope-viewer", VIEW_PERMS)
    viewer = make_staff("scope_viewer", union.station_a, [role])
    other = account_services.user_create(actor=None, username="scope_other", password=PASSWORD)
    return World(union=union, viewer=viewer, other=other, member_in=make_member(union.team_a),
                 member_out=make_member(union.team_b), today=timezone.localdate())


# -- how to make a record inside (or outside) the viewer's scope ------------------------------

def _member(w: World, inside: bool):
    return w.member(inside), {}


def _lead(w: World, inside: bool):
    # imported here: kept apart from the matching imports above (written in parallel)
    from unionaid.matching.models import Lead, LeadRule

    rule, _ = LeadRule.objects.get_or_create(code="scope-rule",
                                             defaults={"name": "走访", "action": "visit"})
    return Lead.objects.create(rule=rule, member=w.member(inside),
                               evidence_key=f"scope-{inside}"), {}


def _unit(w: World, inside: bool):
    return w.unit(inside), {}


def _funding_source():
    return FundingSource.objects.get_or_create(code="scope-fs", defaults={"name": "专项"})[0]


def _application(w: World, inside: bool):
    category, _ = AssistanceCategory.objects.get_or_create(code="scope-cat",
                                                           defaults={"name": "生活"})
    item, _ = AssistanceItem.objects.get_or_create(
        code="scope-item", defaults={"name": "生活救助", "category": category,
                                     "funding_source": _funding_source()})
    return Application.objects.create(member=w.member(inside), item=item, org_unit=w.unit(inside),
                                      period="2026", filed_by=w.other), {}


def _case(w: World, inside: bool) -> ApprovalCase:
    flow = ApprovalFlow.objects.create(subject_kind="assistance.application",
                                       org_unit=w.unit(inside), name="流程")
    version = FlowVersion.objects.create(flow=flow, number=1)
    return ApprovalCase.objects.create(subject_kind="assistance.application", subject_id=1,
                                       flow_version=version, org_unit=w.unit(inside),
                                       applicant=w.member(inside))


def _case_spec(w: World, inside: bool):
    return _case(w, inside), {}


def _task(w: World, inside: bool):
    case = _case(w, inside)
    step = ApprovalStep.objects.create(version=case.flow_version, order=1, name="审核")
    return ApprovalTask.objects.create(case=case, step=step, order=1), {}


def _profile(w: World, inside: bool) -> HouseholdProfile:
    return HouseholdProfile.objects.create(
        member=w.member(inside), org_unit=w.unit(inside), taken_on=w.today, data_json="{}",
        household_size=3, annual_income=Decimal("36000.00"),
        per_capita_monthly=Decimal("1000.00"), recorded_by=w.other)


def _profile_spec(w: World, inside: bool):
    return _profile(w, inside), {}


def _record(w: World, inside: bool) -> HardshipRecord:
    return HardshipRecord.objects.create(
        member=w.member(inside), org_unit=w.unit(inside), category="relative",
        profile=_profile(w, inside), per_capita_monthly=Decimal("1000.00"),
        dibao_standard=Decimal("800.00"), created_by=w.other)


def _record_spec(w: World, inside: bool):
    return _record(w, inside), {}


def _objection(w: World, inside: bool):
    return Objection.objects.create(record=_record(w, inside), case=_case(w, inside),
                                    content="异议", recorded_by=w.other), {}


def _dibao_standard(w: World, inside: bool):
    unit = w.union.station_a if inside else w.union.station_b
    return DibaoStandard.objects.create(org_unit=unit, region="某市", year=2026,
                                        monthly_amount=Decimal("800.00")), {}


def _watch_entry(w: World, inside: bool):
    return WatchEntry.objects.create(member=w.member(inside), org_unit=w.unit(inside),
                                     kind="edge", source="manual"), {}


def _difficult_unit(w: World, inside: bool):
    return DifficultUnit.objects.create(org_unit=w.unit(inside), since=w.today,
                                        added_by=w.other), {}


def _visit(w: World, inside: bool) -> Visit:
    return Visit.objects.create(member=w.member(inside), org_unit=w.unit(inside),
                                visited_on=w.today, visitors="张三", recorded_by=w.other)


def _visit_spec(w: World, inside: bool):
    return _visit(w, inside), {}


def _need(w: World, inside: bool):
    return VisitNeed.objects.create(visit=_visit(w, inside), kind="money"), {}


def _follow_up(w: World, inside: bool):
    return FollowUp.objects.create(member=w.member(inside), org_unit=w.unit(inside),
                                   title="回访", owner=w.other, due_on=w.today,
                                   created_by=w.other), {}


def _campaign(w: World, inside: bool) -> VisitCampaign:
    unit = w.union.station_a if inside else w.union.station_b
    return VisitCampaign.objects.create(name="走访", org_unit=unit, starts_on=w.today,
                                        ends_on=w.today)


def _campaign_spec(w: World, inside: bool):
    return _campaign(w, inside), {}


def _pairing(w: World, inside: bool):
    campaign = _campaign(w, inside)
    pairing = Pairing.objects.create(campaign=campaign, cadre=w.other, kind="household",
                                     member=w.member(inside), org_unit=w.unit(inside))
    return pairing, {"campaign": campaign}


def _notification(w: World, inside: bool):
    return Notification.objects.create(recipient=w.viewer if inside else w.other,
                                       title="通知"), {}


def _export_job(w: World, inside: bool):
    return ExportJob.objects.create(kind="members", created_by=w.viewer if inside else w.other,
                                    expires_at=timezone.now() + dt.timedelta(days=1)), {}


def _import_job(w: World, inside: bool):
    return ImportJob.objects.create(created_by=w.viewer if inside else w.other,
                                    file_name="roster.xlsx", org_unit=w.unit(inside)), {}


def _budget_for(w: World, inside: bool) -> Budget:
    return Budget.objects.create(org_unit=w.unit(inside), funding_source=_funding_source(),
                                 year=2026)


def _budget(w: World, inside: bool):
    return _budget_for(w, inside), {}


def _disbursement(w: World, inside: bool):
    return Disbursement.objects.create(subject_kind="assistance.application",
                                       subject_id=1 if inside else 2,
                                       budget=_budget_for(w, inside), member=w.member(inside),
                                       amount=Decimal("500.00")), {}


def _batch(w: World, inside: bool):
    return DisbursementBatch.objects.create(org_unit=w.unit(inside),
                                            funding_source=_funding_source(),
                                            created_by=w.other), {}


def _source(w: World, inside: bool):
    return Source.objects.create(kind="dibao", name="低保", org_unit=w.unit(inside)), {}


def _dataset_for(w: World, inside: bool) -> Dataset:
    source = Source.objects.create(kind="dibao", name="低保", org_unit=w.union.bureau)
    return Dataset.objects.create(source=source, org_unit=w.unit(inside), title="名单",
                                  file_name="a.csv", uploaded_by=w.other)


def _dataset(w: World, inside: bool):
    return _dataset_for(w, inside), {}


def _run_for(w: World, inside: bool) -> MatchRun:
    return MatchRun.objects.create(dataset=_dataset_for(w, inside), started_by=w.other)


def _run(w: World, inside: bool):
    return _run_for(w, inside), {}


def _match(w: World, inside: bool):
    run = _run_for(w, inside)
    record = ExternalRecord.objects.create(dataset=run.dataset, row_no=1, name="某人")
    return Match.objects.create(run=run, dataset=run.dataset, record=record,
                                member=w.member(inside), score=0.9, method="probabilistic",
                                status="review"), {}


def _finding(w: World, inside: bool):
    now = timezone.now()
    return Finding.objects.create(check_key="test.scope", fingerprint=f"scope-{inside}",
                                  org_unit=w.unit(inside), member=w.member(inside),
                                  summary="疑点", first_seen_at=now, last_seen_at=now), {}


def _sample_for(w: World, inside: bool) -> Sample:
    return Sample.objects.create(population="test.cases", rule="item", seed=1,
                                 org_unit=w.unit(inside), drawn_at=timezone.now(),
                                 drawn_by=w.other)


def _sample(w: World, inside: bool):
    return _sample_for(w, inside), {}


def _sampled_case(w: World, inside: bool):
    return SampledCase.objects.create(sample=_sample_for(w, inside), subject_kind="test.case",
                                      subject_id=1, org_unit=w.unit(inside),
                                      member=w.member(inside), label="案例"), {}


Make = Callable[[World, bool], tuple[object, dict]]
SPECS: dict[str, Make] = {
    "member_get_for_user": _member,
    "lead_get_for_user": _lead,
    "unit_get_for_user": _unit,
    "application_get_for_user": _application,
    "task_get_for_user": _task,
    "case_get_for_user": _case_spec,
    "record_get_for_user": _record_spec,
    "objection_get_for_user": _objection,
    "dibao_standard_get_for_user": _dibao_standard,
    "watch_entry_get_for_user": _watch_entry,
    "difficult_unit_get_for_user": _difficult_unit,
    "visit_get_for_user": _visit_spec,
    "profile_get_for_user": _profile_spec,
    "need_get_for_user": _need,
    "follow_up_get_for_user": _follow_up,
    "campaign_get_for_user": _campaign_spec,
    "pairing_get_for_user": _pairing,
    "notification_get_for_user": _notification,
    "export_job_get_for_user": _export_job,
    "import_job_get_for_user": _import_job,
    "budget_get_for_user": _budget,
    "disbursement_get_for_user": _disbursement,
    "batch_get_for_user": _batch,
    "source_get_for_user": _source,
    "dataset_get_for_user": _dataset,
    "run_get_for_user": _run,
    "match_get_for_user": _match,
    "finding_get_for_user": _finding,
    "sample_get_for_user": _sample,
    "sampled_case_get_for_user": _sampled_case,
}


# -- the registry covers the code base --------------------------------------------------------

def _getter_definitions() -> dict[str, tuple[str, ast.FunctionDef]]:
    """Every ``*_get_for_user`` defined under src/unionaid (tests aside): name → (module, def)."""
    found: dict[str, tuple[str, ast.FunctionDef]] = {}
    for path in SRC.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.endswith("_get_for_user"):
                module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
                assert node.name not in found, f"two getters named {node.name}"
                found[node.name] = (module, node)
    return found


@functools.cache
def _registered() -> dict[str, Callable]:
    """The registry once every module defining a getter is imported (as the running site has)."""
    for module, _node in _getter_definitions().values():
        importlib.import_module(module)
    return SCOPED_GETTERS


def _calls(node: ast.FunctionDef, name: str) -> bool:
    return any(isinstance(n, ast.Call) and getattr(n.func, "id", None) == name
               for n in ast.walk(node))


def test_every_getter_is_registered_and_specified():
    definitions = _getter_definitions()
    assert len(definitions) >= 22
    assert set(_registered()) == set(definitions)
    assert set(SPECS) == set(definitions)
    for name, (module, node) in definitions.items():
        assert _calls(node, "get_in_scope"), f"{module}.{name} does not use get_in_scope"
        assert _registered()[name].__module__ == module


# -- the getters ------------------------------------------------------------------------------

def _denials(obj) -> int:
    return AuditEvent.objects.filter(action="access.denied", outcome="denied",
                                     target_type=obj._meta.label_lower,
                                     target_id=str(obj.pk)).count()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_a_getter_answers_in_scope_only_and_journals_the_denial(name, world):
    getter = _registered()[name]
    inside, kwargs = SPECS[name](world, True)
    outside, out_kwargs = SPECS[name](world, False)

    assert getter(user=world.viewer, pk=inside.pk, **kwargs) == inside
    assert getter(user=world.viewer, pk=str(inside.pk), **kwargs) == inside
    assert _denials(inside) == 0

    with pytest.raises(NotFound):
        getter(user=world.viewer, pk=outside.pk, **out_kwargs)
    assert _denials(outside) == 1
    denial = AuditEvent.objects.get(action="access.denied", target_id=str(outside.pk),
                                    target_type=outside._meta.label_lower)
    assert denial.actor_id == world.viewer.pk
    assert denial.changes["attempted"]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_a_getter_answers_not_found_for_a_garbage_or_missing_id(name, world):
    _obj, kwargs = SPECS[name](world, True)
    getter = _registered()[name]
    for garbage in ["abc", "", None, "1.5", [1], True, -1, 0, 10**30, 987654321]:
        with pytest.raises(NotFound):
            getter(user=world.viewer, pk=garbage, **kwargs)
    assert not AuditEvent.objects.filter(action="access.denied").exists()


# getters of a member's personal data: each read goes to the read log (audit.ReadEvent)
READ_LOGGED = {"member_get_for_user", "application_get_for_user", "record_get_for_user",
               "profile_get_for_user", "visit_get_for_user", "task_get_for_user",
               "match_get_for_user", "finding_get_for_user", "sampled_case_get_for_user"}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_reads_of_personal_data_go_to_the_read_log(name, world):
    getter = _registered()[name]
    inside, kwargs = SPECS[name](world, True)
    outside, out_kwargs = SPECS[name](world, False)
    getter(user=world.viewer, pk=inside.pk, **kwargs)
    with pytest.raises(NotFound):
        getter(user=world.viewer, pk=outside.pk, **out_kwargs)
    reads = list(ReadEvent.objects.values_list("actor_id", "member_id", "target_type",
                                               "target_id", "channel"))
    if name in READ_LOGGED:
        assert reads == [(world.viewer.pk, world.member_in.pk, inside._meta.label_lower,
                          str(inside.pk), "other")]
    else:
        assert reads == []


# a lead shows the member's evidence: its read is logged too
READ_LOGGED.add("lead_get_for_user")
