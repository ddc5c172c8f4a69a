"""FastSelect writes exactly what Django's template-rendered Select writes."""

from __future__ import annotations

import pytest
from django import forms

from unionaid.core.widgets import FastSelect

CHOICES = [
    ("", "全部"),
    ("a", "甲 & <乙>"),
    (3, "\u3000车间（车间）"),
    ("组", [("x", "子一"), ("y", '子"二')]),
]


@pytest.mark.parametrize("value", [None, "", "a", 3, "3", "y", "absent"])
@pytest.mark.parametrize("attrs", [None, {"class": "form-select", "aria-describedby": "h",
                                         "disabled": True, "data-x": False}])
def test_fast_select_matches_django_select(value, attrs):
    django_html = forms.Select(choices=CHOICES).render("unit", value, attrs=attrs)
    fast_html = FastSelect(choices=CHOICES).render("unit", value, attrs=attrs)
    assert fast_html == django_html


def test_fast_select_in_a_model_choice_field_matches(union):
    from unionaid.org.forms import UnitChoiceField
    from unionaid.org.models import OrgUnit

    field = UnitChoiceField(queryset=OrgUnit.objects.order_by("path"), levels={1: "路局"},
                            empty_label="全部单位")
    assert isinstance(field.widget, FastSelect)
    plain = forms.Select(choices=field.choices)
    for value in (None, union.team_a.pk):
        assert field.widget.render("unit", value, {"id": "id_unit"}) == plain.render(
            "unit", value, {"id": "id_unit"})
