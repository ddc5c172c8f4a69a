"""Forms of the archive's record and configuration pages. They parse input only: every rule is
checked by archive.services, whose Chinese messages are put back on these forms."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from unionaid.archive.models import CategoryRules, CloseReason, HardshipCategory, RecordStatus
from unionaid.archive.services.config import RULE_FIELDS
from unionaid.core.http import not_an_identifier
from unionaid.org.forms import UnitChoiceField
from unionaid.org.models import OrgUnit

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RecordFilterForm(forms.Form):
    q = forms.CharField(label=_("职工姓名"), required=False, max_length=50,
                        validators=[not_an_identifier], widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                                      "placeholder": _("姓名（开头）")}))
    status = forms.ChoiceField(label=_("状态"), required=False,
                               choices=[("", _("全部状态")), *RecordStatus.choices])
    category = forms.ChoiceField(label=_("困难类别"), required=False,
                                 choices=[("", _("全部类别")), *HardshipCategory.choices])
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("单位（含下级）"),
                           required=False, empty_label=_("全部单位"))
    recheck = forms.BooleanField(label=_("30 天内到期待复核"), required=False)

    def __init__(self, *args, units, levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].levels = levels


class ProfileChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _("%(day)s · %(size)s 人 · 人均 %(pc)s 元") % {
            "day": obj.taken_on.isoformat(), "size": obj.household_size,
            "pc": obj.per_capita_monthly}


class _ProfileMixin:
    def set_profiles(self, profiles) -> None:
        field = self.fields["profile"]
        field.queryset = profiles
        first = profiles.first()
        if first is not None and not self.is_bound:
            field.initial = first.pk


class EnrolForm(_ProfileMixin, forms.Form):
    profile = ProfileChoiceField(label=_("依据的家庭情况"), queryset=None, empty_label=None,
                                 error_messages={"required": _("请先登记家庭情况。")})
    reason = forms.CharField(label=_("申请理由"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, profiles, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_profiles(profiles)


class RecheckForm(_ProfileMixin, forms.Form):
    profile = ProfileChoiceField(label=_("依据的家庭情况"), queryset=None, empty_label=None,
                                 error_messages={"required": _("请先登记家庭情况。")})
    note = forms.CharField(label=_("复核说明"), required=False, max_length=300)

    def __init__(self, *args, profiles, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_profiles(profiles)


class ExitForm(forms.Form):
    reason = forms.CharField(label=_("脱困原因"), max_length=300,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("如：配偶就业、家庭收入稳定超过低保标准两倍。"),
                             error_messages={"required": _("请填写脱困原因。")})


class CloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("销档原因"), choices=CloseReason.choices)
    on = forms.DateField(label=_("销档日期"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("说明"), required=False, max_length=200,
                           help_text=_("销档原因为“其他”时必填。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate()


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), required=False, max_length=200)


class ObjectionForm(forms.Form):
    raised_by_label = forms.CharField(label=_("异议人"), required=False, max_length=60,
                                      help_text=_("可填“匿名”或与职工的关系，如“同班组职工”。"))
    content = forms.CharField(label=_("异议内容"), max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              error_messages={"required": _("请填写异议内容。")})


class ObjectionResolveForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("核实结论"), coerce=lambda v: v == "yes",
        choices=[("", _("请选择核实结论")), ("no", _("异议不成立")),
                 ("yes", _("异议成立（须驳回）"))],
        error_messages={"required": _("请选择核实结论。")})
    resolution = forms.CharField(label=_("核实处理结果"), max_length=2000,
                                 widget=forms.Textarea(attrs={"rows": 2}),
                                 error_messages={"required": _("请填写核实处理结果。")})


# -- configuration -------------------------------------------------------------------------

class DibaoForm(forms.Form):
    org_unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("适用单位（地区）"))
    region = forms.CharField(label=_("地区名称"), required=False, max_length=60,
                             help_text=_("不填则用单位名称。"))
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    monthly_amount = forms.DecimalField(label=_("低保标准（元/人·月）"), max_digits=8,
                                        decimal_places=2, min_value=0,
                                        widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def __init__(self, *args, units, levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = units
        self.fields["org_unit"].levels = levels
        if not self.is_bound and "year" not in self.initial:
            self.fields["year"].initial = timezone.localdate().year


def _rule_field(name: str) -> forms.Field:
    model_field = CategoryRules._meta.get_field(name)
    if name in ("max_homes", "recheck_months", "follow_up_months"):
        return forms.IntegerField(label=model_field.verbose_name, min_value=0,
                                  widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    return forms.DecimalField(label=model_field.verbose_name, max_digits=10, decimal_places=2,
                              widget=forms.TextInput(attrs={"inputmode": "decimal"}))


class RulesForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in RULE_FIELDS:
            self.fields[name] = _rule_field(name)
        self.fields["follow_up_months"].help_text = _("不少于 6 个月。")
        self.fields["edge_multiplier"].help_text = _("动态管理“边缘困难职工”清单使用。")


class RulesUnitForm(forms.Form):
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("单位"))

    def __init__(self, *args, units, levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].levels = levels


class WorkdayForm(forms.Form):
    day = forms.DateField(label=_("日期"), widget=DATE_WIDGET)
    is_workday = forms.TypedChoiceField(
        label=_("调整为"), coerce=lambda v: v == "1",
        choices=[("0", _("休息日（不计入公示）")), ("1", _("工作日（计入公示）"))])
    note = forms.CharField(label=_("说明"), required=False, max_length=100,
                           widget=forms.TextInput(attrs={"placeholder": _("如：地方性假日")}))


class FlowsForm(forms.Form):
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("在该单位创建默认流程"))

    def __init__(self, *args, units, levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].levels = levels
