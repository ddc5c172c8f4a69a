"""The catalog: items with rules checked when saved, eligibility in Chinese, the default catalog
(idempotent load), and a catalog of hundreds listed in a bounded number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from unionaid.assistance import catalog_data, services
from unionaid.assistance.models import AnnualCap, AssistanceCategory, AssistanceItem
from unionaid.assistance.selectors import catalog_items, items_available_to
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied, ServiceError
from unionaid.funds.models import FundingSource
from unionaid.members.models import MembershipStatus

from .conftest import SERIOUS_ILLNESS


def test_an_admin_saves_an_item_and_it_is_journaled(staff, categories, source):
    item = services.item_save(actor=staff.catalog_admin, category=categories["zhuyi"],
                              funding_source=source, **SERIOUS_ILLNESS)
    assert item.amount_rule == {"kind": "share", "fact": "self_paid", "deductible": "2000",
                                "rate": "0.5", "ceiling": "8000"}
    assert item.required_materials == [{"name": "诊断证明", "required": True},
                                       {"name": "身份证", "required": False}]
    event = AuditEvent.objects.get(action="assistance_item.save", target_id=str(item.pk))
    assert event.actor_id == staff.catalog_admin.pk
    assert event.changes["name"] == {"before": None, "after": "大病医疗救助"}


def test_only_catalog_maintainers_edit_items(staff, personas, categories, source):
    for actor in (personas.station_cadre, staff.apply_cadre, personas.bureau_admin):
        with pytest.raises(PermissionDenied):
            services.item_save(actor=actor, category=categories["zhuyi"], funding_source=source,
                               **SERIOUS_ILLNESS)
    assert not AssistanceItem.objects.exists()


@pytest.mark.parametrize(("eligibility", "message"), [
    ([{"rule": "salary < 3000", "message": "收入过高"}], "salary"),
    ([{"rule": "__import__('os')", "message": "x"}], "有误"),
    ([{"rule": "membership_active and (", "message": "x"}], "有误"),
    ([{"rule": "membership_active", "message": ""}], "提示语"),
])
def test_it_refuses_an_eligibility_rule_it_cannot_evaluate(make_item, eligibility, message):
    with pytest.raises(ServiceError) as exc:
        make_item(eligibility=eligibility)
    assert message in exc.value.message
    assert "eligibility" in exc.value.fields
    assert not AssistanceItem.objects.exists()


def test_rules_may_use_member_facts_and_the_items_own_facts(make_item):
    item = make_item(eligibility=[
        {"rule": "self_paid > 2000 and household_size >= 1 and not in_archive",
         "message": "自付费用须超过 2,000 元"},
        {"rule": "hardship_category in ['深度困难', '']", "message": "类别不符"},
    ])
    assert len(item.eligibility) == 2


def test_fact_names_must_be_plain_and_not_reserved(make_item):
    for facts in ([{"name": "Self Paid", "type": "money"}],
                  [{"name": "amount", "type": "money"}],
                  [{"name": "case", "type": "choice", "choices": []}],
                  [{"name": "x", "type": "blob"}]):
        with pytest.raises(ServiceError):
            make_item(facts=facts, amount_rule={"kind": "fixed", "amount": 100},
                      eligibility=[])


def test_check_eligibility_returns_each_refusal_in_chinese(make_item, union, make_member):
    item = make_item(eligibility=[
        {"rule": "membership_active", "message": "仅限在籍工会会员申请。"},
        {"rule": "self_paid > 2000", "message": "自付医疗费用须超过 2,000 元。"},
        {"rule": "is_female", "message": "仅限女职工申请。"},
    ])
    member = make_member(union.team_a, membership_status=MembershipStatus.RETIRED)
    messages = services.check_eligibility(item=item, member=member, facts={"self_paid": "1500"})
    assert "仅限在籍工会会员申请。" in messages
    assert "自付医疗费用须超过 2,000 元。" in messages
    active = make_member(union.team_a)
    rest = services.check_eligibility(item=item, member=active, facts={"self_paid": "9000"})
    assert rest == ([] if active.sex == "F" else ["仅限女职工申请。"])


def test_calculate_amount_reads_the_items_rule(illness):
    amount, steps = services.calculate_amount(item=illness, facts={"self_paid": "10000"})
    assert amount == Decimal("4000.00")
    assert steps[-1] == "按规则计算金额：4,000.00 元。"


def test_the_default_catalog_is_large_realistic_and_loads_idempotently(db):
    call_command("load_catalog")
    items = AssistanceItem.objects.select_related("category")
    assert items.count() == len(catalog_data.ITEMS) >= 30
    by_category = {c.name: c.items.count() for c in AssistanceCategory.objects.all()}
    assert set(by_category) == {"助困", "助医", "助学"}
    assert all(n >= 8 for n in by_category.values())
    assert set(FundingSource.objects.values_list("code", flat=True)) >= {
        "ghjf", "swn", "sjbz", "shjz"}
    names = set(items.values_list("name", flat=True))
    assert {"困难职工生活救助", "大病医疗救助", "住院医疗补助", "金秋助学", "子女入学补助",
            "意外伤害救助", "单亲困难女职工帮扶", "新就业形态劳动者意外帮扶"} <= names
    assert {i.amount_rule["kind"] for i in items} >= {"fixed", "share", "table", "per_unit"}
    big_illness = items.get(code="yl-dbjz")
    assert services.calculate_amount(item=big_illness, facts={
        "self_paid": "20000", "disease": "尿毒症"})[0] == Decimal("8000.00")
    autumn = items.get(code="xx-jqzx")
    assert services.calculate_amount(item=autumn, facts={
        "case": "本科新生", "per_capita_income": "1000"})[0] == Decimal("5000.00")
    caps = AnnualCap.objects.count()
    events = AuditEvent.objects.count()

    call_command("load_catalog")
    assert AssistanceItem.objects.count() == len(catalog_data.ITEMS)
    assert AnnualCap.objects.count() == caps
    assert AuditEvent.objects.count() == events


def test_loading_again_keeps_what_the_union_edited_unless_asked_to_restore(db):
    call_command("load_catalog")
    item = AssistanceItem.objects.get(code="kn-shjz")
    services.item_save(actor=None, item=item, code=item.code, name="困难职工生活救助（本局）",
                       category=item.category, funding_source=item.funding_source,
                       facts=item.facts, eligibility=item.eligibility,
                       amount_rule={"kind": "fixed", "amount": 3500},
                       required_materials=item.required_materials)
    call_command("load_catalog")
    assert AssistanceItem.objects.get(code="kn-shjz").name == "困难职工生活救助（本局）"
    call_command("load_catalog", "--update")
    restored = AssistanceItem.objects.get(code="kn-shjz")
    assert restored.name == "困难职工生活救助"
    assert restored.amount_rule == {"kind": "fixed", "amount": "3000"}


def test_the_catalog_holds_hundreds_and_lists_them_in_a_few_queries(
        make_item, categories, django_assert_max_num_queries):
    for n in range(300):
        AssistanceItem.objects.create(
            code=f"item-{n:03d}", name=f"帮扶项目{n}", category=categories["zhukun"],
            funding_source=FundingSource.objects.get(code="ghjf"),
            amount_rule={"kind": "fixed", "amount": "100"})
    with django_assert_max_num_queries(1):
        rows = [(i.name, i.category.name, i.funding_source.name) for i in catalog_items()]
    assert len(rows) == 300
    with django_assert_max_num_queries(1):
        assert len(list(items_available_to(None))) == 300


def test_items_outside_their_validity_or_inactive_are_not_offered(make_item):
    import datetime as dt

    make_item(code="old", valid_to=dt.date(2020, 12, 31))
    make_item(code="off", is_active=False)
    current = make_item(code="now")
    assert list(items_available_to(None)) == [current]


def test_every_default_item_computes_and_judges_a_real_member(db, union, make_member):
    call_command("load_catalog")
    member = make_member(union.team_a)
    samples = {"money": "10000", "int": "10", "bool": True, "text": "x", "date": "2026-03-01"}
    for item in AssistanceItem.objects.all():
        facts = {f["name"]: f["choices"][0] if f["type"] == "choice" else samples[f["type"]]
                 for f in item.facts}
        amount, steps = services.calculate_amount(item=item, facts=facts)
        assert amount > 0, item.code
        assert steps[-1].startswith("按规则计算金额"), item.code
        messages = services.check_eligibility(item=item, member=member, facts=facts)
        assert not [m for m in messages if "无法判断" in m], item.code
