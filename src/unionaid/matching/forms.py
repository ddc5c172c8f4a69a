"""Forms of the matching pages (parse input only; the services check rights and rules)."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from unionaid.matching.models import Decision, Source, SourceKind
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
