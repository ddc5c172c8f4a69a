"""Yearly caps, checked before submit: per item and across items, per person and per
household; a cap partly used lowers the amount (shown in the calculation), a used-up cap
refuses with a clear Chinese message."""

from __future__ import annotations

from decimal import Decimal

import pytest

from unionaid.assistance import services
from unionaid.assistance.models import ApplicationStatus
from unionaid.core.errors import Conflict
from unionaid.members import services as member_services

from .helpers import PDF_BYTES, this_year, upload

HOSPITAL = {
    "code": "yl-zybz", "name": "住院医疗补助", "period_kind": "case",
    "facts": [{"name": "days", "label": "住院天数", "type": "int"}],
    "eligibility": [],
    "amount_rule": {"kind": "per_unit", "fact": "days", "rate": 100, "unit": "天",
                    "ceiling": 3000},
    "required_materials": [],
    "per_person_cap": 4000,
}


@pytest.fixture
def hospital(make_item):
    return make_item(**HOSPITAL)


def submit(actor, member, item, facts, period):
    application = services.application_create_draft(actor=actor, member=member, item=item,
                                                     facts=facts, period=period)
    for material in item.required_materials:
        services.attachment_add(actor=actor, application=application, material=material["name"],
                                uploaded_file=upload("a.pdf", PDF_BYTES))
    return services.application_submit(actor=actor, application=application)


def test_the_items_yearly_cap_per_person_lowers_then_refuses(worker, hospital, flow):
    first = submit(worker, worker.member, hospital, {"days": 30}, "第一次住院")
    assert first.amount == Decimal("3000.00")
    second = submit(worker, worker.member, hospital, {"days": 20}, "第二次住院")
    assert second.status == ApplicationStatus.IN_REVIEW
    assert second.amount == Decimal("1000.00")
    assert second.calculation[-2:] == [
        "本项目每人每年上限 4,000.00 元，本年度已申请或已获 3,000.00 元，本次最多 1,000.00 元。",
        "核定金额：1,000.00 元。",
    ]
    with pytest.raises(Conflict) as exc:
        submit(worker, worker.member, hospital, {"days": 5}, "第三次住院")
    assert exc.value.code == "cap_reached"
    assert exc.value.message == (
        "本项目每人每年帮扶上限为 4,000.00 元，本年度已申请或已获 4,000.00 元，已达上限，不能再申请。")


def test_a_withdrawn_application_no_longer_counts_against_the_cap(worker, hospital, flow):
    first = submit(worker, worker.member, hospital, {"days": 40}, "第一次住院")
    services.application_withdraw(actor=worker, application=first)
    second = submit(worker, worker.member, hospital, {"days": 40}, "第二次住院")
    assert second.amount == Decimal("3000.00")


def test_a_household_cap_across_items_counts_the_spouse(
        worker, staff, union, make_member, people, registrar, illness, hospital, flow):
    services.annual_cap_save(actor=staff.catalog_admin, category=None, per_household=5000)
    person = people.person()
    spouse = make_member(union.team_a, id_number=person["id_number"], name=person["name"])
    member_services.household_member_add(actor=registrar, member=worker.member,
                                         name=spouse.name, relation="spouse",
                                         id_number=person["id_number"])
    submit(staff.apply_cadre, spouse, hospital, {"days": 30}, "配偶住院")  # 3,000
    mine = services.application_create_draft(actor=worker, member=worker.member, item=illness,
                                             facts={"self_paid": "12000"})  # 5,000 by the rule
    services.attachment_add(actor=worker, application=mine, material="诊断证明",
                            uploaded_file=upload("a.pdf", PDF_BYTES))
    mine = services.application_submit(actor=worker, application=mine)
    assert mine.amount == Decimal("2000.00")
    assert ("全部项目每户每年上限 5,000.00 元，本年度已申请或已获 3,000.00 元，本次最多 2,000.00 元。"
            in mine.calculation)


def test_a_category_cap_per_person_only_counts_that_category(
        worker, staff, categories, make_item, hospital, flow):
    services.annual_cap_save(actor=staff.catalog_admin, category=categories["zhuyi"],
                             per_person=3500)
    living = make_item(code="kn-lsjz", name="临时困难救助", category="zhukun", facts=[],
                       eligibility=[], amount_rule={"kind": "fixed", "amount": 2000},
                       required_materials=[])
    submit(worker, worker.member, living, {}, str(this_year()))
    first = submit(worker, worker.member, hospital, {"days": 30}, "第一次住院")
    assert first.amount == Decimal("3000.00")  # the 助困 grant does not count for 助医
    second = submit(worker, worker.member, hospital, {"days": 30}, "第二次住院")
    assert second.amount == Decimal("500.00")
    assert "助医类每人每年上限 3,500.00 元" in second.calculation[-2]
