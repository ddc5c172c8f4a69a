"""Forms of the campaign pages. They only parse input; the rules (period, covered area, one
cadre per unit or household, who may be paired) live in visits.services.campaigns, whose
Chinese messages are put back on these forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from unionaid.accounts.models import User
from unionaid.org.forms import UnitChoiceField
from unionaid.org.models import OrgUnit
from unionaid.visits.models import CampaignStatus, PairingKind

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CADRE_CHOICES_SHOWN = 200


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Units indented by depth, with their level name (like ``UnitChoiceField``)."""

    def __init__(self, *args, levels: dict[int, str] | None = None, **kwargs):
        self.levels = levels or {}
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: OrgUnit) -> str:
        level = self.levels.get(obj.depth, "")
        indent = "\u3000" * max(obj.depth - 1, 0)
        return f"{indent}{obj.name}" + (f"（{level}）" if level else "")


class CampaignFilterForm(forms.Form):
    q = forms.CharField(label=_("行动名称"), required=False, max_length=50,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}))
    status = forms.ChoiceField(label=_("状态"), required=False,
                               choices=[("", _("全部状态")), *CampaignStatus.choices])


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("行动名称"), max_length=100,
                           widget=forms.TextInput(attrs={"placeholder": _("如 2026年春节大走访")}))
    org_unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("发起单位"))
    starts_on = forms.DateField(label=_("开始日期"), widget=DATE_WIDGET)
    ends_on = forms.DateField(label=_("结束日期"), widget=DATE_WIDGET)
    covered_units = UnitMultipleChoiceField(
        queryset=OrgUnit.objects.none(), label=_("覆盖单位"), required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("含各单位的全部下级；不选则为发起单位本身。按住 Ctrl（手机上直接点选）可多选。"))
    target_units = forms.IntegerField(label=_("目标：走访单位数"), min_value=0, initial=0,
                                      widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    target_workers = forms.IntegerField(label=_("目标：走访职工数"), min_value=0, initial=0,
                                        widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    description = forms.CharField(label=_("说明"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, units, levels, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["org_unit"]  # a campaign stays with the unit that runs it
        else:
            self.fields["org_unit"].queryset = units
            self.fields["org_unit"].levels = levels
        self.fields["covered_units"].queryset = units
        self.fields["covered_units"].levels = levels


class PairingForm(forms.Form):
    cadre = forms.ModelChoiceField(queryset=User.objects.none(), label=_("结对干部"),
                                   empty_label=_("请选择干部"))
    kind = forms.ChoiceField(label=_("结对类型"), choices=PairingKind.choices,
                             initial=PairingKind.UNIT)
    target_unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("联系单位"),
                                  required=False, empty_label=_("请选择单位"))
    member = forms.IntegerField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def __init__(self, *args, cadres, units, levels, cadre_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["cadre"]
        field.queryset = cadres
        field.label_from_instance = lambda user: (
            f"{user.get_full_name()}（{user.username}）" if user.get_full_name()
            else user.username)
        if cadre_choices is not None:
            # Show only the first matches (a bureau has ~1,400 cadres); validation still uses
            # the whole queryset.
            field.widget.choices = [("", field.empty_label),
                                    *[(u.pk, field.label_from_instance(u))
                                      for u in cadre_choices]]
        self.fields["target_unit"].queryset = units
        self.fields["target_unit"].levels = levels
