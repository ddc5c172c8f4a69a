"""The category calculation on worked examples (低保 line 800 yuan, default rules: deep below
1×, relative below 2×, sudden above 80 % of a year's income), the strict boundaries, the
precedence, the review flags, and the look-ups of the line and the rules up the tree."""

from __future__ import annotations

from decimal import Decimal

import pytest

from unionaid.archive.category import (
    compute_category,
    dibao_standard_for,
    rules_for,
)
from unionaid.archive.models import CategoryRules, DibaoStandard
from unionaid.archive.tests.helpers_records import LINE, unsaved_profile
from unionaid.core.errors import ServiceError


def category_of(rules=None, line=LINE, **household):
    profile, data = unsaved_profile(**household)
    return compute_category(profile=profile, line=line, rules=rules or CategoryRules(), data=data)


# -- worked examples, one per category ----------------------------------------------------

def test_worked_example_relative_hardship_shows_every_step():
    # (4,000 × 12 − 12,000) ÷ 12 ÷ 3 = 1,000: at or above 800, below 1,600
    result = category_of(size=3, monthly="4000", rigid="12000")
    assert result.category == "relative"
    assert result.per_capita_monthly == Decimal("1000.00")
    assert result.lines[0] == ("人均月收入 =（家庭年可支配收入 48,000.00 − 刚性支出 12,000.00）"
                               "÷ 12 ÷ 3 人 = 1,000.00 元")
    assert result.lines[1] == ("低保标准 800.00 元；1,000.00 ≥ 800.00 × 1.00；"
                               "1,000.00 < 800.00 × 2.00 → 相对困难")
    assert result.lines[2] == ("意外支出 0.00 ≤ 家庭年收入 48,000.00 × 0.80 = 38,400.00 "
                               "→ 不属意外致困")
    assert result.lines[-1] == "认定：相对困难"
    assert result.review_flags == []


def test_worked_example_deep_hardship():
    # (2,500 × 12 − 12,000) ÷ 12 ÷ 3 = 500 < 800
    result = category_of(size=3, monthly="2500", rigid="12000")
    assert result.category == "deep"
    assert result.lines[1] == "低保标准 800.00 元；500.00 < 800.00 × 1.00 → 深度困难"
    assert result.lines[-1] == "认定：深度困难"


def test_worked_example_sudden_hardship():
    # per capita (84,000 − 12,000) ÷ 36 = 2,000 (not below 2×), loss 70,000 > 84,000 × 0.8
    result = category_of(size=3, monthly="7000", rigid="12000", loss="70000")
    assert result.category == "sudden"
    assert result.lines[2] == ("意外支出 70,000.00 > 家庭年收入 84,000.00 × 0.80 = 67,200.00 "
                               "→ 意外致困")
    assert result.lines[-1] == "认定：意外致困"


def test_worked_example_not_in_hardship():
    result = category_of(size=3, monthly="7000", rigid="12000")
    assert result.category == ""
    assert not result.eligible
    assert result.lines[1].endswith("2,000.00 ≥ 800.00 × 2.00 → 人均收入不在困难标准内")
    assert result.lines[-1].startswith("认定：不符合建档条件")


# -- boundaries: every comparison is strict -------------------------------------------------

def test_exactly_at_the_line_is_relative_not_deep():
    # (3,400 × 12 − 12,000) ÷ 36 = 800.00 exactly
    result = category_of(size=3, monthly="3400", rigid="12000")
    assert result.per_capita_monthly == LINE
    assert result.category == "relative"
    assert "800.00 ≥ 800.00 × 1.00" in result.lines[1]


def test_one_fen_below_the_line_is_deep():
    # per capita 799.99: (12X − 12,000) ÷ 36 = 799.99 → X = 3,399.97
    result = category_of(size=3, monthly="3399.97", rigid="12000")
    assert result.per_capita_monthly == Decimal("799.99")
    assert result.category == "deep"


def test_exactly_at_twice_the_line_is_not_in_hardship():
    # (5,800 × 12 − 12,000) ÷ 36 = 1,600.00 exactly
    result = category_of(size=3, monthly="5800", rigid="12000")
    assert result.per_capita_monthly == Decimal("1600.00")
    assert result.category == ""
    assert "1,600.00 ≥ 800.00 × 2.00" in result.lines[1]


def test_loss_of_exactly_80_percent_is_not_sudden_and_one_fen_more_is():
    exactly = category_of(size=3, monthly="7000", rigid="12000", loss="67200")
    assert exactly.category == ""
    assert "67,200.00 ≤ 家庭年收入 84,000.00 × 0.80 = 67,200.00" in exactly.lines[2]
    above = category_of(size=3, monthly="7000", rigid="12000", loss="67200.01")
    assert above.category == "sudden"


# -- precedence: deep > sudden > relative ---------------------------------------------------

def test_deep_wins_over_sudden():
    result = category_of(size=3, monthly="2500", rigid="12000", loss="30000")
    assert result.category == "deep"
    assert "同时符合深度困难、意外致困" in result.lines[-1]


def test_sudden_wins_over_relative():
    # per capita 1,000 (relative) and a loss of 40,000 > 48,000 × 0.8
    result = category_of(size=3, monthly="4000", rigid="12000", loss="40000")
    assert result.category == "sudden"
    assert "同时符合意外致困、相对困难" in result.lines[-1]


def test_rigid_expenses_above_income_count_as_zero_income_per_head():
    result = category_of(size=2, monthly="1000", rigid="20000")
    assert result.per_capita_monthly == Decimal("0.00")
    assert "为负数，按 0 计" in result.lines[0]
    assert result.category == "deep"


def test_no_income_with_a_loss_is_sudden_in_the_calculation():
    result = category_of(size=1, monthly="0", rigid="0", loss="5000")
    assert "家庭年收入为 0 → 意外致困" in result.lines[2]
    assert result.category == "deep"  # 0 per head is below the line: deep comes first


# -- configurable rules and review flags ----------------------------------------------------

def test_multipliers_come_from_the_rules():
    rules = CategoryRules(deep_multiplier=Decimal("1.50"), relative_multiplier=Decimal("3.00"),
                          sudden_ratio=Decimal("0.50"))
    assert category_of(rules, size=3, monthly="4000", rigid="12000").category == "deep"
    result = category_of(rules, size=3, monthly="7000", rigid="12000")
    assert result.category == "relative"
    assert "2,000.00 < 800.00 × 3.00" in result.lines[1]
    assert category_of(rules, size=3, monthly="9000", rigid="12000",
                       loss="60000").category == "sudden"


def test_exclusions_flag_the_case_for_review_without_refusing():
    result = category_of(size=3, monthly="2500", rigid="12000", homes=2, employees=3,
                         private_fee="30000")
    assert result.category == "deep"
    assert [f["code"] for f in result.review_flags] == ["homes", "business", "private_school"]
    assert result.review_flags[0]["message"] == "家庭住房 2 套，超过 1 套，须复核。"
    assert "30,000.00 元，超过 20,000.00 元" in result.review_flags[2]["message"]


def test_no_flags_at_the_limits():
    result = category_of(size=3, monthly="2500", rigid="12000", homes=1, private_fee="20000")
    assert result.review_flags == []


# -- the line and the rules: nearest unit up the tree -------------------------------------

def test_line_of_the_nearest_unit_with_one_for_the_year(union):
    DibaoStandard.objects.create(org_unit=union.bureau, region="省", year=2026,
                                 monthly_amount=Decimal("800"))
    DibaoStandard.objects.create(org_unit=union.station_a, region="甲市", year=2026,
                                 monthly_amount=Decimal("950"))
    DibaoStandard.objects.create(org_unit=union.station_a, region="甲市", year=2025,
                                 monthly_amount=Decimal("900"))
    assert dibao_standard_for(union.team_a, 2026).monthly_amount == Decimal("950.00")
    assert dibao_standard_for(union.team_b, 2026).monthly_amount == Decimal("800.00")
    with pytest.raises(ServiceError) as exc:
        dibao_standard_for(union.team_b, 2025)
    assert exc.value.code == "no_dibao_line"
    assert "乙一班组" in exc.value.message
    assert "2025" in exc.value.message


def test_rules_of_the_nearest_unit_or_the_defaults(union):
    assert rules_for(union.team_a).pk is None
    assert rules_for(union.team_a).relative_multiplier == Decimal("2.00")
    CategoryRules.objects.create(org_unit=union.bureau, relative_multiplier=Decimal("2.50"))
    CategoryRules.objects.create(org_unit=union.workshop_a, relative_multiplier=Decimal("3.00"))
    assert rules_for(union.team_a).relative_multiplier == Decimal("3.00")
    assert rules_for(union.team_b).relative_multiplier == Decimal("2.50")
