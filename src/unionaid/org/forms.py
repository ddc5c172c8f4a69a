from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from unionaid.core.widgets import FastSelect
from unionaid.org.models import OrgUnit


class OrgUnitCreateForm(forms.Form):
    name = forms.CharField(label=_("单位名称"), max_length=100)
    code = forms.CharField(label=_("单位编码"), max_length=40)
    region_code = forms.CharField(
        label=_("行政区划代码"), max_length=6, required=False,
        help_text=_("留空则沿用上级单位的区划代码。"),
    )


class OrgUnitRenameForm(forms.Form):
    name = forms.CharField(label=_("新名称"), max_length=100)


class UnitChoiceField(forms.ModelChoiceField):
    """Shows each unit indented by its depth, with the level name (路局/站段/车间/班组)."""

    widget = FastSelect

    def __init__(self, *args, levels: dict[int, str] | None = None, **kwargs):
        self.levels = levels or {}
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: OrgUnit) -> str:
        level = self.levels.get(obj.depth, "")
        indent = "\u3000" * max(obj.depth - 1, 0)
        return f"{indent}{obj.name}" + (f"（{level}）" if level else "")


class OrgUnitMoveForm(forms.Form):
    new_parent = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("新的上级单位"))

    def __init__(self, *args, parents, levels, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["new_parent"]
        field.queryset = parents
        field.levels = levels
