"""The strict request bases (core.api.schemas): a JSON value must already have its field's
JSON type; query dates are ISO dates (issue 10, item 6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from ninja import Field
from pydantic import ValidationError

from unionaid.core.api.schemas import InputSchema, QuerySchema, _json_type_fits
from unionaid.members.models import ConsentKind
from unionaid.visits.models import Satisfaction


@pytest.mark.parametrize(("value", "annotation", "fits"), [
    (5, int, True), (True, int, False), ("5", int, False), (None, int | None, True),
    (True, bool, True), (1, bool, False), ("true", bool, False),
    ("2026-01-31", dt.date, True), (0, dt.date, False), (1700000000, dt.datetime, False),
    ("1.50", Decimal, True), (1.5, Decimal, True), (False, Decimal, False),
    ("health", ConsentKind, True), (1, ConsentKind, False),
    (5, Satisfaction, True), ("5", Satisfaction, False),
    ([1, 2], list[int], True), (["1"], list[int], False), ({}, list[int], False),
    ({"a": 1}, dict[str, int], True), ("x", str, True), (5, str, False),
])
def test_a_json_value_fits_only_its_own_type(value, annotation, fits):
    assert _json_type_fits(value, annotation) is fits


class _Body(InputSchema):
    on: dt.date
    ids: list[int] = Field(default_factory=list)


class _Filters(QuerySchema):
    as_of: dt.date | None = None
    q: str = ""


def test_a_body_is_an_object_of_exact_json_types():
    assert _Body.model_validate({"on": "2026-01-31", "ids": [1]}).on == dt.date(2026, 1, 31)
    for bad in (False, [], {"on": 0}, {"on": "2026-01-31", "ids": [True]},
                {"on": "2026-01-31\u0000"}):
        with pytest.raises(ValidationError):
            _Body.model_validate(bad)


def test_a_query_date_is_an_iso_date_and_text_has_no_nul():
    assert _Filters.model_validate({"as_of": "2026-01-31"}).as_of == dt.date(2026, 1, 31)
    for bad in ({"as_of": "0"}, {"as_of": "1700000000"}, {"q": "a\u0000"}):
        with pytest.raises(ValidationError):
            _Filters.model_validate(bad)
