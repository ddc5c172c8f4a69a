from decimal import Decimal

import pytest

from unionaid.core.spreadsheets import safe_cell, safe_row


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","点击")', "+1", "-1+2", "@SUM(A1)",
                                   "\t=1", "\r=1"])
def test_text_that_could_start_a_formula_stays_text(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["张三", "110105********1234", "", "a=b", "'=already"])
def test_other_text_is_kept_as_it_is(value):
    assert safe_cell(value) == value


def test_numbers_and_empty_cells_are_not_touched():
    assert safe_row([-5, Decimal("-1.50"), None, "=1"]) == [-5, Decimal("-1.50"), None, "'=1"]
