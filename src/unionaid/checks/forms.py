"""Forms of the auditor's checks pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from unionaid.checks import registry
from unionaid.checks.models import ReviewOutcome, SampleRule
from unionaid.checks.services import TEXT_MAX
from unionaid.org.models import OrgUnit


class ExplainForm(forms.Form):
    text = forms.CharField(label=_("说明"), max_length=TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("核实情况与依据，例如：经核实为夫妻共用账户，已补充说明材料。"))


class ReopenForm(forms.Form):
    text = forms.CharField(label=_("重新打开的原因"), max_length=TEXT_MAX, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(label=_("审查结果"), widget=forms.RadioSelect,
                                choices=[(ReviewOutcome.OK, ReviewOutcome.OK.label),
                                         (ReviewOutcome.ISSUE, ReviewOutcome.ISSUE.label)])
    note = forms.CharField(label=_("审查意见"), max_length=TEXT_MAX, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("发现问题时必填。"))


class SampleForm(forms.Form):
    """A sample's rule. The unit is one the auditor covers (the view passes the choices)."""

    population = forms.ChoiceField(label=_("案例来源"))
    unit = forms.ModelChoiceField(label=_("单位"), queryset=OrgUnit.objects.none())
    rule = forms.ChoiceField(label=_("抽取规则"), choices=SampleRule.choices)
    percent = forms.DecimalField(label=_("抽取比例（%）"), required=False, min_value=0,
                                 max_value=100, decimal_places=2,
                                 help_text=_("随机抽取时填写，例如 10。"))
    min_amount = forms.DecimalField(label=_("金额不低于（元）"), required=False, min_value=0,
                                    decimal_places=2)
    item = forms.ChoiceField(label=_("帮扶项目"), required=False)
    date_from = forms.DateField(label=_("发放日期自"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("发放日期至"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    seed = forms.IntegerField(label=_("随机种子"), required=False, min_value=0,
                              max_value=2**62,
                              help_text=_("留空则自动生成；填写以前样本的种子可重现同样的抽取。"))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        pops = registry.populations()
        self.fields["population"].choices = [(p.key, p.label) for p in pops]
        items = [item for p in pops for item in p.items()]
        self.fields["item"].choices = [("", "—"), *items]
