"""Assistance back-office forms. They only parse input: every rule (facts, eligibility, amount
rules, materials, caps) is checked by assistance.services, whose Chinese messages are put back
on these forms, next to what the user typed."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from unionaid.assistance.models import ApplicationStatus, AssistanceCategory, AssistanceItem
from unionaid.core.errors import ServiceError
from unionaid.core.http import not_an_identifier
from unionaid.funds.models import FundingSource
from unionaid.org.forms import UnitChoiceField
from unionaid.org.models import OrgUnit

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
FACT_PREFIX = "fact_"
OPTIONAL_MARK = "（选填）"


class ApplicationFilterForm(forms.Form):
    q = forms.CharField(label=_("申请人姓名或项目"), required=False, max_length=50,
                        validators=[not_an_identifier], widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                                      "placeholder": _("姓名（开头）或项目名称")}))
    status = forms.ChoiceField(label=_("状态"), required=False,
                               choices=[("", _("全部状态")), *ApplicationStatus.choices])
    category = forms.ModelChoiceField(label=_("类别"), required=False,
                                      queryset=AssistanceCategory.objects.all(),
                                      empty_label=_("全部类别"))
    item = forms.ModelChoiceField(label=_("帮扶项目"), required=False,
                                  queryset=AssistanceItem.objects.none(),
                                  empty_label=_("全部项目"))
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("单位（含下级）"),
                           required=False, empty_label=_("全部单位"))
    period = forms.CharField(label=_("申请周期"), required=False, max_length=20,
                             widget=forms.TextInput(attrs={"placeholder": _("如 2026")}))

    def __init__(self, *args, units, levels, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].levels = levels
        self.fields["item"].queryset = items


def _fact_field(fact: dict) -> forms.Field:
    label, kind = fact.get("label") or fact["name"], fact.get("type", "text")
    common = {"label": label, "required": False, "help_text": fact.get("help", "")}
    if kind == "choice":
        return forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in fact["choices"]]],
                                 **common)
    if kind == "bool":
        return forms.BooleanField(**common)
    if kind == "date":
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == "int":
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "numeric"}), **common)
    if kind == "money":
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                               max_length=20, **common)
    return forms.CharField(max_length=200, **common)


class FactsMixin:
    """Fields generated from an item's ``facts`` (named ``fact_<name>``). All optional here:
    a draft may be incomplete; submitting checks that required facts are there."""

    def add_fact_fields(self, definitions) -> None:
        self.fact_names = []
        for fact in definitions or []:
            name = FACT_PREFIX + fact["name"]
            self.fields[name] = _fact_field(fact)
            if fact.get("required", True) and fact.get("type") != "bool":
                self.fields[name].label = f"{self.fields[name].label} *"
            self.fact_names.append(fact["name"])

    def facts(self) -> dict:
        data = self.cleaned_data
        return {name: data.get(FACT_PREFIX + name) for name in self.fact_names}

    @staticmethod
    def fact_initial(values: dict) -> dict:
        return {FACT_PREFIX + k: v for k, v in (values or {}).items()}

    def apply_error(self, exc: ServiceError) -> None:
        """The service's messages, on the fact field they are about when there is one."""
        placed = False
        for key, message in (exc.fields or {}).items():
            for name in (FACT_PREFIX + key, key):
                if name in self.fields:
                    self.add_error(name, str(message))
                    placed = True
                    break
        if not placed:
            self.add_error(None, exc.message)


class ApplicationForm(FactsMixin, forms.Form):
    period = forms.CharField(label=_("申请年度"), required=False, max_length=20,
                             help_text=_("填年份，留空为今年。"),
                             widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    reason = forms.CharField(label=_("申请理由"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, item: AssistanceItem, with_period: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_fact_fields(item.facts)
        # only a yearly item has a period to choose; a one-off item's is the service's own key
        if not with_period or item.period_kind != "year":
            del self.fields["period"]
        # the item's facts first, then period and reason
        self.order_fields([FACT_PREFIX + n for n in self.fact_names])


ACCEPT_UPLOAD = "image/*,application/pdf"  # as the worker's portal: the type is checked on content


class AttachmentForm(forms.Form):
    """One file for one material: taken with the phone's camera (``camera``) or chosen from the
    gallery or the computer's files (``file``), as the worker's own upload offers both."""

    material = forms.ChoiceField(label=_("材料类别"))
    camera = forms.FileField(label=_("拍照上传"), required=False, widget=forms.FileInput(attrs={
        "accept": ACCEPT_UPLOAD, "capture": "environment"}))
    file = forms.FileField(label=_("或选择文件（jpg、png、pdf）"), required=False,
                           widget=forms.FileInput(attrs={"accept": ACCEPT_UPLOAD}))

    def __init__(self, *args, materials: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["material"].choices = [(m, m) for m in materials]

    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("camera") or data.get("file")):
            raise forms.ValidationError(_("请先拍照或选择要上传的文件。"))
        return data

    def upload(self):
        return self.cleaned_data.get("camera") or self.cleaned_data.get("file")


class SubmitForm(forms.Form):
    fast_track = forms.BooleanField(label=_("特事特办（紧急情况，缩短审批流程）"), required=False)
    fast_track_reason = forms.CharField(label=_("特事特办理由"), required=False, max_length=200,
                                        widget=forms.TextInput(attrs={
                                            "data-requires": "id_fast_track"}))

    def __init__(self, *args, allow_fast_track: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_fast_track:
            del self.fields["fast_track"]
            del self.fields["fast_track_reason"]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("撤回原因"), required=False, max_length=200)


# -- catalog ------------------------------------------------------------------------------------

class JSONTextField(forms.CharField):
    """A textarea holding JSON; the *shape* is checked by the service."""

    widget = forms.Textarea(attrs={"rows": 6, "spellcheck": "false"})

    def __init__(self, *args, empty, **kwargs):
        self.empty = empty
        kwargs.setdefault("required", False)
        super().__init__(*args, strip=True, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | dict):
            return json.dumps(value, ensure_ascii=False, indent=2)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return self.empty
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("JSON 格式不正确（第 %(line)s 行第 %(col)s 列）：请检查引号、逗号和括号。"),
                params={"line": exc.lineno, "col": exc.colno}) from None


class MaterialsField(forms.CharField):
    """One material a line; a line ending with （选填） is optional."""

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            lines = []
            for entry in value:
                entry = entry if isinstance(entry, dict) else {"name": entry}
                suffix = "" if entry.get("required", True) else OPTIONAL_MARK
                lines.append(f"{entry.get('name', '')}{suffix}")
            return "\n".join(lines)
        return value

    def to_python(self, value):
        out = []
        for line in (super().to_python(value) or "").splitlines():
            name = line.strip()
            if not name:
                continue
            optional = name.endswith(OPTIONAL_MARK) or name.endswith("(选填)")
            if optional:
                name = name.removesuffix(OPTIONAL_MARK).removesuffix("(选填)").strip()
            out.append({"name": name, "required": not optional})
        return out


class ItemForm(forms.Form):
    code = forms.CharField(label=_("项目编码"), max_length=40,
                           help_text=_("小写字母、数字、短横线，如 yl-dbjz。"))
    name = forms.CharField(label=_("项目名称"), max_length=100)
    category = forms.ModelChoiceField(label=_("帮扶类别"),
                                      queryset=AssistanceCategory.objects.all())
    funding_source = forms.ModelChoiceField(label=_("经费口径"),
                                            queryset=FundingSource.objects.order_by("code"))
    description = forms.CharField(label=_("说明"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    facts = JSONTextField(label=_("申请需填写的事项（JSON）"), empty=[], help_text=_(
        '例：[{"name": "self_paid", "label": "自付医疗费用", "type": "money"}]；'
        "类型：money 金额、int 整数、choice 选项（choices 列出选项）、bool 是/否、text 文字、date 日期。"))
    eligibility = JSONTextField(label=_("申请条件（JSON）"), empty=[], help_text=_(
        '例：[{"rule": "membership_active", "message": "仅限在籍工会会员申请。"}]；'
        "规则可用申请事项的编码和职工情况（见下方名称表）。"))
    amount_rule = JSONTextField(label=_("金额规则（JSON）"), empty={}, help_text=_(
        '定额 {"kind": "fixed", "amount": 500}；按比例 {"kind": "share", "fact": "self_paid", '
        '"deductible": 2000, "rate": 0.5, "ceiling": 8000}；查表 {"kind": "table", "fact": '
        '"case", "rows": {"本科新生": 5000}}；按天数 {"kind": "per_unit", "fact": "days", '
        '"rate": 100, "ceiling": 3000}。'))
    per_person_cap = forms.CharField(label=_("每人每年上限（元）"), required=False, max_length=20,
                                     widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    per_household_cap = forms.CharField(label=_("每户每年上限（元）"), required=False,
                                        max_length=20,
                                        widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    required_materials = MaterialsField(label=_("所需材料"), help_text=_(
        "每行一种材料；不是必须的材料在末尾加“（选填）”。"))
    valid_from = forms.DateField(label=_("有效期自"), required=False, widget=DATE_WIDGET)
    valid_to = forms.DateField(label=_("有效期至"), required=False, widget=DATE_WIDGET)
    period_kind = forms.ChoiceField(label=_("申请周期"),
                                    choices=AssistanceItem._meta.get_field("period_kind").choices)
    is_active = forms.BooleanField(label=_("启用（接受申请）"), required=False, initial=True)

    @staticmethod
    def initial_for(item: AssistanceItem) -> dict:
        return {
            "code": item.code, "name": item.name, "category": item.category_id,
            "funding_source": item.funding_source_id, "description": item.description,
            "facts": item.facts, "eligibility": item.eligibility,
            "amount_rule": item.amount_rule, "per_person_cap": item.per_person_cap or "",
            "per_household_cap": item.per_household_cap or "",
            "required_materials": item.required_materials, "valid_from": item.valid_from,
            "valid_to": item.valid_to, "period_kind": item.period_kind,
            "is_active": item.is_active,
        }


class CatalogFilterForm(forms.Form):
    q = forms.CharField(label=_("名称或编码"), required=False, max_length=50,
                        widget=forms.TextInput(attrs={"type": "search"}))
    category = forms.ModelChoiceField(label=_("类别"), required=False,
                                      queryset=AssistanceCategory.objects.all(),
                                      empty_label=_("全部类别"))
    inactive = forms.BooleanField(label=_("含已停用"), required=False)


class TrialForm(FactsMixin, forms.Form):
    """试算: sample facts (and optionally a real member) → amount and eligibility."""

    member = forms.IntegerField(label=_("示例职工编号（可选）"), required=False, min_value=1,
                                help_text=_("留空则按一名在籍会员、未建档、本年度未获帮扶的职工判断申请条件。"))

    def __init__(self, *args, item: AssistanceItem, allow_member: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_fact_fields(item.facts)
        if not allow_member:
            del self.fields["member"]


class AnnualCapForm(forms.Form):
    """A new version of a yearly cap across items (年度帮扶上限): its scope, amounts, and the day
    it takes effect. Amounts are checked by ``services.annual_cap_save``."""

    scope = forms.ModelChoiceField(label=_("适用范围"), required=False,
                                   queryset=AssistanceCategory.objects.all(),
                                   empty_label=_("全部项目合计"))
    per_person = forms.DecimalField(label=_("每人每年上限（元）"), required=False,
                                    max_digits=14, decimal_places=2,
                                    help_text=_("留空表示不设每人上限。"))
    per_household = forms.DecimalField(label=_("每户每年上限（元）"), required=False,
                                       max_digits=14, decimal_places=2,
                                       help_text=_("同户家庭成员中的会员合计。留空表示不设每户上限。"))
    effective_from = forms.DateField(label=_("生效日期"), widget=DATE_WIDGET,
                                     help_text=_("从这一天起的申请按新上限核定；之前已作出的决定不受影响。"))
