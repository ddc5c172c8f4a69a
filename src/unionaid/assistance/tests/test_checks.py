"""Assistance's audit checks: each catches a planted case and passes a clean one.

Records are planted straight in the tables (an application, its payment, its approval steps, a
batch): the checks read what happened, whatever service made it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from conftest import PASSWORD
from unionaid.accounts import services as account_services
from unionaid.approvals.models import (
    ApprovalCase,
    ApprovalFlow,
    ApprovalStep,
    ApprovalTask,
    CaseStatus,
    Delegation,
    FlowVersion,
    TaskStatus,
)
from unionaid.assistance.checks import CHECKS, decisions, payments, sampling
from unionaid.assistance.models import Application, ApplicationStatus, AssistanceItem
from unionaid.checks import registry
from unionaid.checks.models import Finding, FindingStatus
from unionaid.checks.services import checks_run
from unionaid.funds.models import (
    BatchStatus,
    Budget,
    Disbursement,
    DisbursementBatch,
    DisbursementStatus,
)
from unionaid.members import services as member_services
from unionaid.members.models import HouseholdMember, MembershipStatus, Relation

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=SHANGHAI)
_n = itertools.count(1)


def at(day: int, hour: int = 10, month: int = 6) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


@pytest.fixture
def budget(union, source):
    return Budget.objects.create(org_unit=union.bureau, funding_source=source, year=2026,
                                 allocated=Decimal("100000"), available=Decimal("100000"))


@pytest.fixture
def living(categories, source):
    """A per-case living grant: at most 5,000 a case, 8,000 a person a year."""
    return AssistanceItem.objects.create(
        code="kn-sh", name="生活救助", category=categories["zhukun"], funding_source=source,
        amount_rule={"kind": "fixed", "amount": 5000}, per_person_cap=Decimal("8000"),
        eligibility=[{"rule": "membership_active", "message": "仅限在籍会员。"}],
        period_kind="case")


@pytest.fixture
def threshold_flow(union):
    """Applications up to 2,000 skip the chairman's step."""
    flow = ApprovalFlow.objects.create(subject_kind="assistance.application",
                                       org_unit=union.bureau, name="帮扶审批")
    version = FlowVersion.objects.create(flow=flow, number=1)
    ApprovalStep.objects.create(version=version, order=1, name="站段审核",
                                position_name="帮扶干事", unit_depth=2)
    ApprovalStep.objects.create(version=version, order=2, name="主席审批", position_name="主席",
                                unit_depth=1, skip_condition="amount <= 2000")
    return version


@pytest.fixture
def pay(budget, staff):
    """pay(member, item, amount, when, unit=None): a paid application and its payment."""

    def _pay(member, item, amount, when, *, unit=None, status=ApplicationStatus.PAID):
        app = Application.objects.create(
            member=member, item=item, org_unit=unit or member.org_unit, period=f"c{next(_n)}",
            filed_by=staff.apply_cadre, amount=Decimal(amount), status=status,
            submitted_at=when - dt.timedelta(days=3))
        if status == ApplicationStatus.PAID:
            Disbursement.objects.create(
                subject_kind="assistance.application", subject_id=app.pk, budget=budget,
                member=member, amount=Decimal(amount), status=DisbursementStatus.PAID,
                paid_at=when)
        return app

    return _pay


def found(find, **kwargs) -> list[registry.Found]:
    return list(find(paths=kwargs.pop("paths", None), now=NOW))


def test_every_check_is_registered_under_its_key():
    for check in CHECKS:
        assert registry.check_or_none(check.key) is check
    assert registry.population_or_none("assistance.paid") is not None


# -- (a) one bank account for several members -----------------------------------------------

def test_it_flags_one_account_paid_for_two_members(union, make_member, living, pay):
    account = "6222020200112233445"
    first = make_member(union.team_a, bank_account=account)
    second = make_member(union.team_b, bank_account=account)
    pay(first, living, 800, at(2))
    pay(second, living, 900, at(3))

    [finding] = found(payments.find_shared_accounts)
    assert finding.amount == Decimal("1700")
    assert finding.unit_path == union.bureau.path  # both stations: the bureau's auditor's
    assert {r.id for r in finding.records if r.kind == "members.member"} == {first.pk, second.pk}
    assert account not in str(finding.evidence)
    assert account not in finding.fingerprint
    assert finding.evidence["收款职工数"] == 2
    # a station auditor's run keeps nothing that reaches another station
    assert found(payments.find_shared_accounts, paths=[union.station_a.path])[0].unit_path \
        == union.bureau.path


def test_it_passes_members_paid_to_their_own_accounts(union, make_member, living, pay):
    pay(make_member(union.team_a), living, 800, at(2))
    pay(make_member(union.team_a), living, 900, at(3))
    assert found(payments.find_shared_accounts) == []


# -- (b) split payments ----------------------------------------------------------------------

def test_it_flags_payments_split_under_the_approval_threshold(union, make_member, living, pay,
                                                             threshold_flow):
    member = make_member(union.team_a)
    pay(member, living, 1500, at(1))
    pay(member, living, 1800, at(12))

    [finding] = found(payments.find_split_payments)
    assert finding.amount == Decimal("3300")
    assert finding.evidence["审批金额界限（元）"] == "2,000.00"
    assert finding.member_id == member.pk


def test_it_flags_payments_split_under_the_item_cap(union, make_member, living, pay):
    member = make_member(union.team_a)
    pay(member, living, 3000, at(1))
    pay(member, living, 2500, at(20))

    [finding] = found(payments.find_split_payments)  # no flow: the item's 5,000 a case
    assert finding.evidence["单次救助上限（元）"] == "5,000.00"


def test_it_passes_payments_months_apart_or_over_the_threshold(union, make_member, living, pay,
                                                             threshold_flow):
    member = make_member(union.team_a)
    pay(member, living, 1500, at(1, month=3))
    pay(member, living, 1800, at(1, month=6))  # 92 days later
    other = make_member(union.team_a)
    pay(other, living, 2500, at(2))  # over the threshold: it went through the chairman
    pay(other, living, 1000, at(3))
    assert found(payments.find_split_payments) == []


# -- (c) who decided -------------------------------------------------------------------------

@pytest.fixture
def decide(union, threshold_flow, living, staff):
    """decide(app_member, [(order, user), …], filed_by=…): an approved case and its tasks."""
    steps = {s.order: s for s in threshold_flow.steps.all()}

    def _decide(member, deciders, *, filed_by=None):
        filer = filed_by or staff.apply_cadre
        case = ApprovalCase.objects.create(
            subject_kind="assistance.application", subject_id=0, flow_version=threshold_flow,
            org_unit=member.org_unit, applicant=member, filed_by=filer,
            status=CaseStatus.APPROVED)
        app = Application.objects.create(member=member, item=living, org_unit=member.org_unit,
                                         period=f"c{next(_n)}", filed_by=filer, case=case,
                                         amount=Decimal(3000), status=ApplicationStatus.APPROVED)
        case.subject_id = app.pk
        case.save(update_fields=["subject_id"])
        for order, user in deciders:
            ApprovalTask.objects.create(case=case, step=steps[order], order=order,
                                        status=TaskStatus.APPROVED, decided_by=user,
                                        decided_at=at(order))
        return case

    return _decide


def test_it_flags_a_case_decided_by_its_filer(union, make_member, decide, staff):
    case = decide(make_member(union.team_a), [(1, staff.apply_cadre), (2, staff.chairman)])
    [finding] = found(decisions.find_self_decisions)
    assert finding.fingerprint == f"decision:{case.pk}:filer:{staff.apply_cadre.pk}"
    assert finding.unit_path == union.team_a.path


def test_it_flags_a_case_decided_by_the_applicants_household(union, make_member, decide,
                                                            staff):
    applicant = make_member(union.team_a)
    spouse = make_member(union.team_a)
    HouseholdMember.objects.create(member=spouse, name=applicant.name, relation=Relation.SPOUSE,
                                   id_number=applicant.id_number,
                                   id_number_hash=applicant.id_number_hash)
    approver = account_services.user_create(actor=None, username="spouse_approver",
                                            password=PASSWORD, member=spouse)
    case = decide(applicant, [(1, approver), (2, staff.chairman)])
    [finding] = found(decisions.find_self_decisions)
    assert finding.fingerprint == f"decision:{case.pk}:household:{approver.pk}"


def test_it_flags_two_steps_decided_by_one_person(union, make_member, decide, staff):
    case = decide(make_member(union.team_a), [(1, staff.chairman), (2, staff.chairman)])
    [finding] = found(decisions.find_self_decisions)
    assert finding.fingerprint == f"decision:{case.pk}:twice:{staff.chairman.pk}"


def test_it_passes_a_case_decided_by_two_unrelated_people(union, make_member, decide, staff):
    applicant = make_member(union.team_a)
    stranger = make_member(union.team_a)
    approver = account_services.user_create(actor=None, username="stranger_approver",
                                            password=PASSWORD, member=stranger)
    decide(applicant, [(1, approver), (2, staff.chairman)])
    assert found(decisions.find_self_decisions) == []


# -- (d) above the cap, outside the conditions -----------------------------------------------

def test_it_flags_a_payment_above_the_items_amount(union, make_member, living, pay):
    app = pay(make_member(union.team_a), living, 6000, at(2))
    fingerprints = {f.fingerprint for f in found(payments.find_over_cap)}
    assert fingerprints == {f"over_max:{Disbursement.objects.get(subject_id=app.pk).pk}"}


def test_it_flags_a_year_above_the_yearly_cap(union, make_member, living, pay):
    member = make_member(union.team_a)
    pay(member, living, 5000, at(2, month=1))
    pay(member, living, 4000, at(2, month=5))
    [finding] = found(payments.find_over_cap)
    assert finding.fingerprint == f"over_cap:{member.pk}:{living.pk}:2026"
    assert finding.amount == Decimal("9000")


def test_it_flags_a_payment_outside_the_items_conditions(union, make_member, living, pay):
    living.valid_to = dt.date(2026, 3, 31)
    living.save(update_fields=["valid_to"])
    late = pay(make_member(union.team_a), living, 1000, at(10))
    outsider = make_member(union.team_a, membership_status=MembershipStatus.NON_MEMBER)
    early = pay(outsider, living, 1000, at(10, month=2))
    fingerprints = {f.fingerprint for f in found(payments.find_over_cap)}
    assert fingerprints == {f"outside:{late.pk}:validity", f"outside:{early.pk}:membership"}


def test_it_passes_payments_within_the_items_rules(union, make_member, living, pay):
    member = make_member(union.team_a)
    pay(member, living, 5000, at(2, month=1))
    pay(member, living, 3000, at(2, month=5))
    assert found(payments.find_over_cap) == []


# -- (e) the same need in two units ----------------------------------------------------------

def test_it_flags_one_need_assisted_in_two_units(union, make_member, living, pay, categories,
                                                 source):
    other_item = AssistanceItem.objects.create(
        code="kn-qt", name="临时救助", category=categories["zhukun"], funding_source=source,
        amount_rule={"kind": "fixed", "amount": 1000})
    member = make_member(union.team_a)
    pay(member, living, 1000, at(2))
    pay(member, other_item, 1000, at(20), unit=union.team_b, status=ApplicationStatus.APPROVED)
    [finding] = found(payments.find_two_units)
    assert finding.fingerprint == f"two_units:{member.pk}:{categories['zhukun'].pk}:2026"
    assert finding.unit_path == union.bureau.path


def test_it_passes_two_grants_of_one_unit(union, make_member, living, pay):
    member = make_member(union.team_a)
    pay(member, living, 1000, at(2))
    pay(member, living, 1000, at(20))
    assert found(payments.find_two_units) == []


# -- (f) paid after the member left or died --------------------------------------------------

def test_it_flags_money_paid_after_death(union, make_member, living, pay, registrar):
    member = make_member(union.team_a)
    before = pay(member, living, 1000, at(1, month=1))
    member_services.member_update(actor=registrar, member=member,
                                  membership_status=MembershipStatus.DECEASED)
    after = pay(member, living, 1000, timezone.now() + dt.timedelta(days=1))
    [finding] = found(payments.find_paid_after_exit)
    assert finding.fingerprint == \
        f"after_exit:{Disbursement.objects.get(subject_id=after.pk).pk}"
    assert before.pk not in [r.id for r in finding.records if r.kind == "assistance.application"]


def test_it_passes_money_paid_before_a_transfer(union, make_member, living, pay, registrar):
    member = make_member(union.team_a)
    pay(member, living, 1000, at(1, month=1))
    member_services.member_update(actor=registrar, member=member,
                                  membership_status=MembershipStatus.TRANSFERRED_OUT)
    pay(make_member(union.team_a), living, 1000, timezone.now() + dt.timedelta(days=1))
    assert found(payments.find_paid_after_exit) == []


# -- (g) a batch confirmed out of hours by the maker's delegate ------------------------------

@pytest.fixture
def batch_by(union, source, staff):
    def _batch(confirmed_at, *, delegate=True):
        batch = DisbursementBatch.objects.create(
            org_unit=union.bureau, funding_source=source, status=BatchStatus.CONFIRMED,
            created_by=staff.finance, exported_by=staff.finance, confirmed_by=staff.cashier,
            confirmed_at=confirmed_at, total=Decimal("5000"))
        if delegate:
            Delegation.objects.create(from_user=staff.finance, to_user=staff.cashier,
                                      starts_at=confirmed_at - dt.timedelta(days=2),
                                      ends_at=confirmed_at + dt.timedelta(days=2))
        return batch

    return _batch


def test_it_flags_a_batch_confirmed_on_saturday_night_by_the_makers_delegate(batch_by):
    batch = batch_by(at(6, hour=22))  # Saturday 2026-06-06, 22:00
    [finding] = found(decisions.find_delegate_confirmations)
    assert finding.fingerprint == f"batch:{batch.pk}"
    assert finding.evidence["确认时间"] == "2026-06-06 22:00"


def test_it_passes_a_delegate_in_office_hours_and_a_stranger_at_night(batch_by, staff):
    batch_by(at(8, hour=10))  # Monday 10:00, delegate
    batch_by(at(7, hour=23, month=6) + dt.timedelta(days=7), delegate=False)  # Sunday night
    assert found(decisions.find_delegate_confirmations) == []


def test_working_time_follows_the_chinese_calendar(db):
    assert decisions.working_time(at(8, hour=9))  # Monday
    assert not decisions.working_time(at(8, hour=19))
    assert not decisions.working_time(dt.datetime(2026, 10, 1, 10, tzinfo=SHANGHAI))  # 国庆


# -- the engine with these checks ------------------------------------------------------------

def test_a_run_stores_the_shared_account_once_and_resolves_it_when_gone(union, make_member,
                                                                      living, pay, registrar):
    account = "6222020200112233445"
    first = make_member(union.team_a, bank_account=account)
    pay(first, living, 800, at(2))
    pay(make_member(union.team_a, bank_account=account), living, 900, at(3))
    checks_run(actor=None, keys=["assistance.shared_account"], now=NOW)
    checks_run(actor=None, keys=["assistance.shared_account"], now=NOW)
    finding = Finding.objects.get(check_key="assistance.shared_account")
    assert finding.status == FindingStatus.OPEN
    assert finding.org_unit == union.team_a

    member_services.member_update(actor=registrar, member=first,
                                  bank_account="6222020200119999999")
    checks_run(actor=None, keys=["assistance.shared_account"], now=NOW)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED


# -- the sampling population -----------------------------------------------------------------

def test_paid_cases_follow_the_rule_conditions(union, make_member, living, pay):
    small = pay(make_member(union.team_a), living, 500, at(2))
    large = pay(make_member(union.team_a), living, 4000, at(3))
    pay(make_member(union.team_b), living, 4000, at(3))
    pay(make_member(union.team_a), living, 4000, at(3), status=ApplicationStatus.APPROVED)
    cases = sampling.paid_cases(paths=[union.station_a.path])
    assert [c.subject_id for c in cases] == [small.pk, large.pk]
    assert [c.subject_id for c in sampling.paid_cases(paths=[union.station_a.path],
                                                      min_amount=Decimal(1000))] == [large.pk]
    assert sampling.paid_cases(paths=None, item="other") == []
    assert sampling.paid_cases(paths=None, date_from=dt.date(2026, 6, 4)) == []
