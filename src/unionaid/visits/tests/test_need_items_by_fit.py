"""The need-to-application page judges every open item for the member in one pass: what the
rules know about the member is read once (``assistance.facts.MemberContext``) and each item is
checked in Python. The one-pass result is, item by item, what the single-item check gives (fits,
and the same Chinese reasons), and the page costs the same number of queries for 35 items as
for 120."""
# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import verified_login
from unionaid.accounts.models import User
from unionaid.archive.models import HardshipRecord, RecordStatus
from unionaid.assistance import catalog_data
from unionaid.assistance import facts as factlib
from unionaid.assistance.models import Application, ApplicationStatus, AssistanceItem
from unionaid.assistance.selectors import items_available_to
from unionaid.assistance.services.catalog import check_eligibility
from unionaid.assistance.services.catalog_load import catalog_load_defaults
from unionaid.members.models import ConsentKind, EmploymentForm, Member, Relation
from unionaid.members.services import consent_withdraw, household_member_add
from unionaid.visits.models import VisitNeed
from unionaid.visits.services import needs as need_services
from unionaid.visits.services import visits as visit_services

from .helpers_records import household, new_uuid, rec, visit_data  # noqa: F401

# Every page view reads the user, session, device, need, profile, items and the member's facts
# once; nothing is read per item. 30 leaves room for the page's own small reads.
PAGE_QUERY_BOUND = 30


@pytest.fixture
def items(db) -> list[AssistanceItem]:
    catalog_load_defaults(actor=None)
    loaded = list(items_available_to(None))
    assert len(loaded) == len(catalog_data.ITEMS) >= 30
    return loaded


def _code(items, code: str) -> AssistanceItem:
    return next(i for i in items if i.code == code)


def _visit(rec, member: Member, **profile_changes) -> VisitNeed:
    visit, _ = visit_services.visit_submit(
        actor=rec.visitor_a, client_uuid=new_uuid(),
        data=visit_data(member, profile=household(**profile_changes)))
    return visit.needs.get()


def _record(member: Member, category: str, status=RecordStatus.ACTIVE) -> HardshipRecord:
    profile = need_services.latest_profile(member)
    return HardshipRecord.objects.create(
        member=member, org_unit_id=member.org_unit_id, status=status, category=category,
        computed_category=category, profile=profile, per_capita_monthly=Decimal("600.00"),
        dibao_standard=Decimal("800.00"), enrolled_on=dt.date(2025, 3, 1),
        created_by=User.objects.get(username="registrar"))


def _application(rec, member: Member, item: AssistanceItem, status: str, amount: str,
                 period: str, submitted_at: dt.datetime | None = None) -> Application:
    return Application.objects.create(
        member=member, item=item, org_unit=member.org_unit, period=period,
        filed_by=rec.visitor_a, on_behalf=True, status=status, amount=Decimal(amount),
        submitted_at=submitted_at or timezone.now())


@dataclass
class Members:
    deep: Member       # deep hardship, a registered child, the visit's profile (health consent)
    none: Member       # nothing known: no profile, no record, no household
    capped: Member     # gig worker, relative hardship, grants this year up to the caps
    duplicate: Member  # exiting record, an application under review and a draft this period


@pytest.fixture
def members(rec, items, make_member) -> Members:
    this_year = str(timezone.localdate().year)
    last_year = timezone.now() - dt.timedelta(days=400)
    deep = rec.member
    household_member_add(actor=User.objects.get(username="registrar"), member=deep,
                         name="王小明", relation=Relation.CHILD)
    _visit(rec, deep)
    _record(deep, "deep")

    none = make_member(rec.union.team_a, joined_on=dt.date(2010, 5, 1))

    capped = make_member(rec.union.team_a, employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM,
                         joined_on=timezone.localdate() - dt.timedelta(days=30))
    _visit(rec, capped, causes=["disaster", "single_parent"],
           sudden_loss={"kind": "disaster", "amount": "20000", "note": ""})
    _record(capped, "relative")
    temporary, living = _code(items, "kn-lsjz"), _code(items, "kn-shjz")
    _application(rec, capped, temporary, ApplicationStatus.PAID, "5000", "case-1")
    _application(rec, capped, temporary, ApplicationStatus.PAYMENT_REVERSED, "3000", "case-2")
    _application(rec, capped, living, ApplicationStatus.APPROVED, "22000", this_year)
    # neither counts: last year's grant, and a rejected one
    _application(rec, capped, temporary, ApplicationStatus.PAID, "2000", "old",
                 submitted_at=last_year)
    _application(rec, capped, temporary, ApplicationStatus.REJECTED, "2000", "case-3")

    duplicate = make_member(rec.union.team_a, joined_on=dt.date(2015, 1, 1))
    _visit(rec, duplicate, sudden_loss={"kind": "major_illness", "amount": "8000", "note": ""})
    consent_withdraw(actor=rec.visitor_a, member=duplicate, kind=ConsentKind.HEALTH)
    _record(duplicate, "sudden", status=RecordStatus.EXITING)
    _application(rec, duplicate, _code(items, "kn-sdkn"), ApplicationStatus.IN_REVIEW, "5000",
                 this_year)
    Application.objects.create(member=duplicate, item=living, org_unit=duplicate.org_unit,
                               period=this_year, filed_by=rec.visitor_a)  # a draft
    _application(rec, duplicate, temporary, ApplicationStatus.APPROVED, "3000", "case-1")
    return Members(deep=deep, none=none, capped=capped, duplicate=duplicate)


def one_by_one(member: Member, items) -> dict[str, list[str]]:
    """The single-item path: each item on its own, as an application would be checked."""
    profile = need_services.latest_profile(member)
    return {item.code: check_eligibility(
        item=item, member=member,
        facts=need_services.facts_from_profile(item=item, member=member, profile=profile))
        for item in items}


def in_one_pass(member: Member, items) -> dict[str, list[str]]:
    fitting, others = need_services.items_by_fit(member=member, items=items)
    assert all(not row["problems"] for row in fitting)
    assert all(row["problems"] for row in others)
    order = [i.code for i in items]
    assert [r["item"].code for r in fitting] == [c for c in order if c in
                                                 {r["item"].code for r in fitting}]
    return {row["item"].code: row["problems"] for row in [*fitting, *others]}


@pytest.mark.parametrize("who", ["deep", "none", "capped", "duplicate"])
def test_one_pass_gives_each_item_what_the_single_item_check_gives(members, items, who):
    member = getattr(members, who)
    bulk = in_one_pass(member, items)
    assert list(bulk) != []
    assert set(bulk) == {i.code for i in items}
    assert bulk == one_by_one(member, items)


def test_the_scenarios_reach_the_rules_they_are_meant_to(members, items):
    deep, none = in_one_pass(members.deep, items), in_one_pass(members.none, items)
    capped, duplicate = (in_one_pass(members.capped, items),
                         in_one_pass(members.duplicate, items))
    assert deep["kn-sdkn"] == []
    assert deep["kn-shjz"] == []
    assert none["kn-shjz"] == ["仅限已建档的困难职工申请。"]
    assert capped["kn-sdkn"] == ["仅限建档的深度困难职工申请。"]
    # two grants of 临时困难救助 this year (a reversed payment counts; last year's and the
    # rejected one do not): the item's own yearly rule refuses a third
    assert capped["kn-lsjz"] == ["同一年度临时困难救助最多 2 次。"]
    assert duplicate["kn-lsjz"] == []
    assert duplicate["kn-shjz"] == []  # still in the archive while the exit is approved
    assert any(problems == [] for problems in capped.values())


def test_the_member_context_counts_this_years_grants_once_for_every_item(members, items):
    context = factlib.MemberContext.build(members.capped)
    temporary, living = _code(items, "kn-lsjz"), _code(items, "kn-shjz")
    assert (context.values(temporary)["item_grants_this_year"],
            context.values(living)["item_grants_this_year"],
            context.values(_code(items, "kn-sdkn"))["item_grants_this_year"]) == (2, 1, 0)
    values = context.values(temporary)
    assert (values["grants_this_year"], values["amount_this_year"]) == (3, Decimal("30000.00"))
    assert (values["new_employment_form"], values["in_archive"], values["hardship_category"]) \
        == (True, True, "相对困难")
    for item in items:
        assert context.values(item) == factlib.member_values(members.capped, item=item)
    assert context.values(None) == factlib.member_values(members.capped)
    empty = factlib.MemberContext.build(members.none).values(temporary)
    assert (empty["grants_this_year"], empty["amount_this_year"],
            empty["item_grants_this_year"]) == (0, Decimal("0"), 0)


def test_the_profile_is_read_once_for_all_items(members, items):
    profile = need_services.latest_profile(members.deep)
    with CaptureQueriesContext(connection) as one:
        need_services.items_by_fit(member=members.deep, items=items[:1])
    with CaptureQueriesContext(connection) as all_items:
        need_services.items_by_fit(member=members.deep, items=items)
    assert len(all_items.captured_queries) == len(one.captured_queries)
    facts = need_services.profile_facts(member=members.deep, profile=profile)
    illness = _code(items, "yl-dbjz")
    assert need_services.facts_for_item(item=illness, known=facts) == \
        need_services.facts_from_profile(item=illness, member=members.deep, profile=profile)


def _more_items(items, total: int) -> None:
    """Copies of the default items (their rules, facts and categories) up to ``total``."""
    copies = []
    for n in range(total - len(items)):
        source = items[n % len(items)]
        copies.append(AssistanceItem(
            code=f"x{n:03d}-{source.code}"[:40], name=f"{source.name}（{n}）",
            category=source.category, funding_source=source.funding_source,
            facts=source.facts, eligibility=source.eligibility, amount_rule=source.amount_rule,
            required_materials=source.required_materials, period_kind=source.period_kind,
            description=source.description))
    AssistanceItem.objects.bulk_create(copies)


def _page_queries(client, need: VisitNeed) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/visits/needs/{need.pk}/application/")
    assert page.status_code == 200
    return len(queries.captured_queries), page.content.decode()


@pytest.mark.parametrize("total", [35, 120])
def test_the_page_costs_the_same_queries_for_any_number_of_items(client, rec, members, items,
                                                                 total):
    _more_items(items, total)
    assert items_available_to(None).count() == total
    need = _visit(rec, members.deep)
    verified_login(client, rec.visitor_a)
    count, html = _page_queries(client, need)
    assert count <= PAGE_QUERY_BOUND
    assert html.count('name="item"') == total
    assert "深度困难职工生活补助" in html


def test_the_page_lists_the_fitting_items_first_with_the_reasons_for_the_others(
        client, rec, members, items):
    need = _visit(rec, members.capped)
    verified_login(client, rec.visitor_a)
    page = client.get(f"/visits/needs/{need.pk}/application/")
    html = page.content.decode()
    fitting, others = html.split('id="other-items"')
    assert "临时困难救助" in others
    assert "同一年度临时困难救助最多 2 次。" in others
    assert "深度困难职工生活补助" in others
    assert "仅限建档的深度困难职工申请。" in others
    assert "困难职工生活救助" in fitting
