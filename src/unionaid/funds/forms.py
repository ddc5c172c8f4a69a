"""Finance forms. They only parse input; money rules are checked by funds.services, whose
Chinese messages are put back on these forms."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from unionaid.audit.forms import DateRangeForm
from unionaid.core import idcard
from unionaid.funds import subjects
from unionaid.funds.models import DisbursementStatus, FundingSource
from unionaid.org.forms import UnitChoiceField
from unionaid.org.models import OrgUnit

MONEY_ATTRS = {"inputmode": "decimal", "autocomplete": "off"}


def _money_field(label) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=14, decimal_places=2, min_value=Decimal("0.01"),
        widget=forms.TextInput(attrs=MONEY_ATTRS),
        error_messages={"required": _("请填写金额。"),
                        "invalid": _("金额格式不正确，请填写数字，最多两位小数。"),
                        "max_decimal_places": _("金额最多两位小数。"),
                        "min_value": _("金额必须大于零。")},
    )


def _source_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(queryset=FundingSource.objects.all(), label=_("经费口径"),
                                  error_messages={"required": _("请选择经费口径。")})


class _UnitsForm(forms.Form):
    def __init__(self, *args, units, levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = units
        self.fields["org_unit"].levels = levels


class AllocateForm(_UnitsForm):
    org_unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("单位"))
    funding_source = _source_field()
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    amount = _money_field(_("拨入金额（元）"))
    memo = forms.CharField(label=_("摘要"), max_length=200, required=False,
                           help_text=_("例如：2026 年送温暖专项经费（上级补助）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year


class AllocateDownForm(forms.Form):
    child_unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("下级单位"))
    amount = _money_field(_("下拨金额（元）"))
    memo = forms.CharField(label=_("摘要"), max_length=200, required=False)

    def __init__(self, *args, units, levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child_unit"].queryset = units
        self.fields["child_unit"].levels = levels


class FundingSourceForm(forms.Form):
    code = forms.CharField(label=_("编码"), max_length=40,
                           help_text=_("小写字母、数字、下划线或连字符，例如 warmth"))
    name = forms.CharField(label=_("名称"), max_length=60)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("请填写原因。")})


class BatchCreateForm(_UnitsForm):
    org_unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("发放单位"),
                               help_text=_("本单位及下级单位预算中待发放的款项都会列入批次。"))
    funding_source = _source_field()


class BatchConfirmForm(forms.Form):
    checked = forms.BooleanField(
        label=_("我已核对银行回单，本批次款项均已到账"),
        error_messages={"required": _("请先勾选确认已核对银行回单。")},
    )


class BudgetFilterForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)
    funding_source = forms.ModelChoiceField(queryset=FundingSource.objects.all(),
                                            label=_("经费口径"), required=False,
                                            empty_label=_("全部口径"))


class DisbursementFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False,
                               choices=[("", _("全部状态")), *DisbursementStatus.choices])
    funding_source = forms.ModelChoiceField(queryset=FundingSource.objects.all(),
                                            label=_("经费口径"), required=False,
                                            empty_label=_("全部口径"))


def _trace_kinds() -> list[tuple[str, str]]:
    """By disbursement number, or by the number of a registered subject that offers it."""
    return [("disbursement", _("发放编号"))] + [
        (s.search_key, s.search_label) for s in subjects.subjects() if s.search_key]


class TraceSearchForm(forms.Form):
    kind = forms.ChoiceField(label=_("按"), choices=_trace_kinds, initial="disbursement")
    number = forms.IntegerField(label=_("编号"), min_value=1,
                                widget=forms.NumberInput(attrs={"inputmode": "numeric"}))


class TraceFindForm(DateRangeForm):
    """The auditor's search for payments by worker, ID number, batch or date. Posted, never in
    the address: an ID number must not reach a URL or the access log."""

    name = forms.CharField(label=_("职工姓名"), required=False, max_length=50,
                           help_text=_("姓名或姓名开头"))
    id_number = forms.CharField(label=_("身份证号"), required=False, max_length=18,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    batch = forms.IntegerField(label=_("批次号"), required=False, min_value=1,
                               widget=forms.NumberInput(attrs={"inputmode": "numeric"}))

    field_order = ["name", "id_number", "batch", "date_from", "date_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_from"].help_text = _("核定或发放日期")

    def clean_name(self) -> str:
        return (self.cleaned_data.get("name") or "").strip()

    def clean_id_number(self) -> str:
        raw = (self.cleaned_data.get("id_number") or "").replace(" ", "").upper()
        if not raw:
            return ""
        try:
            return idcard.parse_id_number(raw).number
        except idcard.IdNumberError:
            raise forms.ValidationError(_("身份证号格式不正确。")) from None

    def clean(self):
        data = super().clean()
        if not self.errors and not any(data.get(k) for k in
                                       ("name", "id_number", "batch", "date_from", "date_to")):
            raise forms.ValidationError(_("请至少填写一项查询条件。"))
        return data
