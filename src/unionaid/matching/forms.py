"""Forms of the matching pages (parse input only; the services check rights and rules)."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from unionaid.matching.models import Decision, LeadAction, ReviewKind, Source, SourceKind
from unionaid.matching.selectors import CONFIG, MANAGE, sources_visible_to
from unionaid.org.forms import UnitChoiceField
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import level_names, units_visible_to


def _unit_field(user, perm: str) -> UnitChoiceField:
    field = UnitChoiceField(queryset=units_visible_to(user=user, perm=perm).order_by("path"),
                            label=_("所属单位"))
    field.levels = level_names()
    return field


class UploadForm(forms.Form):
    MODES = (("check", _("只检查，不导入")), ("import", _("检查并导入")))

    source = forms.ModelChoiceField(queryset=Source.objects.none(), label=_("数据来源"))
    org_unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("所属单位"))
    title = forms.CharField(label=_("标题"), max_length=200, required=False,
                            help_text=_("留空则用文件名，例如“2026年11月低保名单”。"))
    file = forms.FileField(
        label=_("名单文件"),
        help_text=_("Excel（.xlsx / .xls）或 CSV（UTF-8 或 GBK/GB18030 编码）；表头可在标题行下方。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )
    mode = forms.ChoiceField(label=_("方式"), choices=MODES, initial="check",
                             widget=forms.RadioSelect)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources_visible_to(user=user, active_only=True)
        self.fields["org_unit"] = _unit_field(user, MANAGE)


class SourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=SourceKind.choices)
    name = forms.CharField(label=_("名称"), max_length=100)
    org_unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("所属单位"))
    retention_days = forms.IntegerField(label=_("保留天数"), min_value=1, max_value=3650,
                                        initial=180,
                                        help_text=_("导入后满该天数自动清除记录（个人信息最小化）。"))
    column_mapping = forms.CharField(
        label=_("列名对应"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('不能自动识别的表头，每行一个：表头=字段，例如“救助对象=name”。'
                    '字段：name、id_number、birth_date、sex、phone、unit、address、amount、date。'))
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org_unit"] = _unit_field(user, CONFIG)

    def clean_column_mapping(self) -> dict[str, str]:
        text = self.cleaned_data["column_mapping"].strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError:
                raise forms.ValidationError(_("格式不正确。")) from None
            if not isinstance(value, dict):
                raise forms.ValidationError(_("格式不正确。"))
            return value
        mapping = {}
        for line in filter(None, (line.strip() for line in text.splitlines())):
            header, sep, field = line.partition("=")
            if not sep:
                raise forms.ValidationError(_("每行应为“表头=字段”。"))
            mapping[header.strip()] = field.strip()
        return mapping


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices)


# -- leads -----------------------------------------------------------------------------------------

class LeadAcceptForm(forms.Form):
    due_on = forms.DateField(label=_("办理期限"), required=False,
                             widget=forms.DateInput(attrs={"type": "date"}),
                             help_text=_("走访或复核的期限；留空按规则的天数。"))


class LeadDismissForm(forms.Form):
    reason = forms.CharField(label=_("排除原因"), max_length=300,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("请填写排除原因。")})


class LeadRuleForm(forms.Form):
    code = forms.CharField(label=_("编码"), max_length=40)
    name = forms.CharField(label=_("名称"), max_length=100)
    description = forms.CharField(label=_("说明"), max_length=300, required=False)
    source_kinds = forms.MultipleChoiceField(
        label=_("适用的数据类别"), choices=SourceKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("不选则适用于全部类别。"))
    condition = forms.CharField(
        label=_("条件"), max_length=300, initial="True",
        help_text=_("例如 amount > 2000、not in_archive、in_archive and homes >= 2。"))
    action = forms.ChoiceField(label=_("线索类型"), choices=LeadAction.choices)
    item_code = forms.CharField(label=_("帮扶项目编码"), max_length=40, required=False,
                                help_text=_("线索类型为帮扶申请时填写，例如 xx-jqzx。"))
    item_facts = forms.CharField(
        label=_("申请事项取值"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("每行一个：事项编码=表达式，例如 self_paid=amount。"))
    amount_expression = forms.CharField(label=_("金额表达式"), max_length=300, required=False,
                                        help_text=_("留空则按帮扶项目的标准计算。"))
    material = forms.CharField(label=_("代替的证明材料"), max_length=60, required=False)
    review_kind = forms.ChoiceField(label=_("复核方式"), required=False,
                                    choices=[("", "—"), *ReviewKind.choices])
    due_days = forms.IntegerField(label=_("办理期限（天）"), min_value=1, max_value=365,
                                  initial=14)
    order = forms.IntegerField(label=_("顺序"), min_value=0, max_value=1000, initial=0)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, rule=None, **kwargs):
        if rule is not None and not args:
            kwargs.setdefault("initial", {
                "code": rule.code, "name": rule.name, "description": rule.description,
                "source_kinds": rule.source_kinds, "condition": rule.condition,
                "action": rule.action, "item_code": rule.item_code,
                "item_facts": "\n".join(f"{k}={v}" for k, v in rule.item_facts.items()),
                "amount_expression": rule.amount_expression, "material": rule.material,
                "review_kind": rule.review_kind, "due_days": rule.due_days,
                "order": rule.order, "is_active": rule.is_active})
        super().__init__(*args, **kwargs)

    def clean_item_facts(self) -> dict[str, str]:
        facts: dict[str, str] = {}
        for line in (self.cleaned_data.get("item_facts") or "").splitlines():
            if not line.strip():
                continue
            name, sep, expression = line.partition("=")
            if not sep or not name.strip() or not expression.strip():
                raise forms.ValidationError(_("每行应为“事项编码=表达式”。"))
            facts[name.strip()] = expression.strip()
        return facts
