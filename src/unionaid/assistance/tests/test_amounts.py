"""Amount rules: fixed, share of self-paid above a deductible up to a ceiling, table by case,
per unit; each with the calculation lines people see."""

from __future__ import annotations

from decimal import Decimal

import pytest

from unionaid.assistance import amounts
from unionaid.assistance.facts import clean_facts, rule_values, validate_fact_definitions
from unionaid.core.errors import ServiceError

SELF_PAID = [{"name": "self_paid", "label": "自付医疗费用", "type": "money"}]
SHARE = {"kind": "share", "fact": "self_paid", "deductible": 2000, "rate": 0.5, "ceiling": 8000}
CASES = [{"name": "case", "label": "就学情形", "type": "choice",
          "choices": ["本科新生", "专科新生", "本科在读", "专科在读"]}]
TABLE = {"kind": "table", "fact": "case",
         "rows": {"本科新生": 5000, "专科新生": 4000, "本科在读": 3000, "专科在读": 2000}}


def calc(rule, definitions, raw):
    definitions = validate_fact_definitions(definitions)
    rule = amounts.validate_amount_rule(rule, definitions)
    clean = clean_facts(definitions, raw, require_all=True)
    return amounts.calculate(rule, rule_values(definitions, clean), definitions)


def test_it_pays_half_of_self_paid_cost_above_2000():
    amount, steps = calc(SHARE, SELF_PAID, {"self_paid": "6,000"})
    assert amount == Decimal("2000.00")
    assert steps == [
        "自付医疗费用：6,000.00 元。",
        "超过起付线部分：6,000.00 − 2,000.00 = 4,000.00 元。",
        "按 50% 补助：4,000.00 × 50% = 2,000.00 元。",
        "按规则计算金额：2,000.00 元。",
    ]


def test_it_stops_the_share_at_the_8000_ceiling():
    amount, steps = calc(SHARE, SELF_PAID, {"self_paid": "30000"})
    assert amount == Decimal("8000.00")
    assert "超过封顶线 8,000.00 元，按封顶线计。" in steps


def test_it_gives_nothing_at_or_below_the_deductible():
    amount, steps = calc(SHARE, SELF_PAID, {"self_paid": "2000"})
    assert amount == Decimal("0.00")
    assert steps[-1] == "未超过起付线 2,000.00 元，不予补助。"


def test_it_rounds_shares_half_up_to_the_fen():
    assert calc(SHARE, SELF_PAID, {"self_paid": "2000.05"})[0] == Decimal("0.03")
    rule = {**SHARE, "rate": "0.333"}
    amount, steps = calc(rule, SELF_PAID, {"self_paid": "2100.05"})
    assert amount == Decimal("33.32")  # 100.05 × 0.333 = 33.31665
    assert "按 33.3% 补助：100.05 × 33.3% = 33.32 元。" in steps


@pytest.mark.parametrize(("case", "expected"), [
    ("本科新生", "5000.00"), ("专科新生", "4000.00"), ("本科在读", "3000.00"), ("专科在读", "2000.00"),
])
def test_the_education_table_gives_the_amount_for_each_case(case, expected):
    amount, steps = calc(TABLE, CASES, {"case": case})
    assert amount == Decimal(expected)
    assert steps[0] == f"就学情形：{case}，对应标准 {Decimal(expected):,.2f} 元。"


def test_a_fixed_amount_shows_its_standard():
    amount, steps = calc({"kind": "fixed", "amount": 3000}, [], {})
    assert amount == Decimal("3000.00")
    assert steps == ["定额标准：3,000.00 元。", "按规则计算金额：3,000.00 元。"]


def test_per_unit_counts_days_up_to_a_ceiling():
    days = [{"name": "days", "label": "住院天数", "type": "int"}]
    rule = {"kind": "per_unit", "fact": "days", "rate": 100, "unit": "天", "ceiling": 3000}
    assert calc(rule, days, {"days": "12"})[0] == Decimal("1200.00")
    amount, steps = calc(rule, days, {"days": 45})
    assert amount == Decimal("3000.00")
    assert steps[0] == "住院天数 45 天 × 100.00 元/天 = 4,500.00 元。"


@pytest.mark.parametrize(("rule", "message"), [
    ({"kind": "lottery"}, "请选择金额规则"),
    ({"kind": "fixed"}, "金额规则缺少“金额”"),
    ({"kind": "fixed", "amount": "abc"}, "须为数字"),
    ({**SHARE, "rate": 1.5}, "补助比例须在 0 到 1 之间"),
    ({**SHARE, "fact": "salary"}, "申请事项“salary”不存在"),
    ({**TABLE, "fact": "self_paid"}, "不存在或类型不符"),
])
def test_it_refuses_malformed_amount_rules_in_chinese(rule, message):
    definitions = validate_fact_definitions(SELF_PAID + CASES)
    with pytest.raises(ServiceError) as exc:
        amounts.validate_amount_rule(rule, definitions)
    assert message in exc.value.message
    assert exc.value.code == "invalid_amount_rule"


def test_a_table_row_must_be_one_of_the_choices():
    definitions = validate_fact_definitions(CASES)
    with pytest.raises(ServiceError) as exc:
        amounts.validate_amount_rule({**TABLE, "rows": {"博士新生": 8000}}, definitions)
    assert "博士新生" in exc.value.message


def test_a_case_missing_from_the_table_is_refused_with_its_name():
    definitions = validate_fact_definitions(CASES)
    rule = amounts.validate_amount_rule({**TABLE, "rows": {"本科新生": 5000}}, definitions)
    with pytest.raises(ServiceError) as exc:
        amounts.calculate(rule, {"case": "专科新生"}, definitions)
    assert exc.value.message == "“就学情形”为“专科新生”，不在本项目的标准表中。"


def test_facts_are_typed_and_bad_values_are_named_in_chinese():
    definitions = validate_fact_definitions(SELF_PAID + CASES)
    with pytest.raises(ServiceError) as exc:
        clean_facts(definitions, {"self_paid": "很多", "case": "博士"}, require_all=True)
    assert exc.value.fields["self_paid"] == "“自付医疗费用”的填写不正确（应为金额（元））。"
    assert "须从以下选项中选择：本科新生、专科新生" in exc.value.fields["case"]
    with pytest.raises(ServiceError) as exc:
        clean_facts(definitions, {}, require_all=True)
    assert exc.value.fields == {"self_paid": "请填写“自付医疗费用”。", "case": "请填写“就学情形”。"}
    assert clean_facts(definitions, {"self_paid": "12,000.5", "x": 1}, require_all=False) == {
        "self_paid": "12000.50"}


def test_an_unticked_box_is_false_and_yes_no_words_are_understood():
    definitions = validate_fact_definitions([
        {"name": "single_parent", "label": "是否单亲家庭", "type": "bool", "required": False}])
    assert clean_facts(definitions, {}, require_all=True) == {}
    assert rule_values(definitions, {}) == {"single_parent": False}
    assert clean_facts(definitions, {"single_parent": "是"}, require_all=True) == {
        "single_parent": True}
    assert clean_facts(definitions, {"single_parent": "on"}, require_all=True) == {
        "single_parent": True}
