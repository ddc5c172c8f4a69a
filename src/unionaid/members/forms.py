"""Member forms. They only parse input; identity rules (ID number, phone, bank account) are
checked by members.services, whose Chinese messages are put back on these forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from unionaid.members.models import ConsentKind, EmploymentForm, MembershipStatus, Relation
from unionaid.org.forms import UnitChoiceField
from unionaid.org.models import OrgUnit

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _unit_field(label) -> UnitChoiceField:
    return UnitChoiceField(queryset=OrgUnit.objects.none(), label=label)


class MemberSearchForm(forms.Form):
    q = forms.CharField(
        label=_("姓名、身份证号或手机号"), required=False, max_length=50,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                      "placeholder": _("姓名（开头）/ 完整身份证号 / 手机号")}),
    )
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), label=_("单位"), required=False,
                           empty_label=_("全部单位"))

    def __init__(self, *args, units, levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].levels = levels


class MemberBaseForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50,
                           error_messages={"required": _("请填写姓名。")})
    id_number = forms.CharField(label=_("身份证号"), max_length=30,
                                error_messages={"required": _("请填写身份证号。")},
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    bank_account = forms.CharField(label=_("银行账号"), max_length=40, required=False,
                                   widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                                 "autocomplete": "off"}))
    org_unit = _unit_field(_("所在单位"))
    employment_form = forms.ChoiceField(label=_("用工形式"), choices=EmploymentForm.choices,
                                        initial=EmploymentForm.REGULAR)
    membership_status = forms.ChoiceField(label=_("会籍状态"), choices=MembershipStatus.choices,
                                          initial=MembershipStatus.ACTIVE)
    joined_on = forms.DateField(label=_("入会日期"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args, units, levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = units
        self.fields["org_unit"].levels = levels


class MemberCreateForm(MemberBaseForm):
    pass


class MemberEditForm(MemberBaseForm):
    """Sensitive values are never pre-filled in clear: blank means "unchanged"."""

    clear_phone = forms.BooleanField(label=_("清除手机号"), required=False)
    clear_bank_account = forms.BooleanField(label=_("清除银行账号"), required=False)

    field_order = ["name", "id_number", "phone", "clear_phone", "bank_account",
                   "clear_bank_account"]

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        keep = _("留空表示不修改。")
        self.fields["id_number"].required = False
        for name, masked in (("id_number", member.id_number_masked),
                             ("phone", member.phone_masked),
                             ("bank_account", member.bank_account_masked)):
            field = self.fields[name]
            field.help_text = keep
            if masked:
                field.widget.attrs["placeholder"] = masked

    def changes(self) -> dict:
        """The fields to hand to members.services.member_update."""
        data = self.cleaned_data
        fields = {key: data[key] for key in
                  ("name", "org_unit", "employment_form", "membership_status", "joined_on")}
        if data["id_number"]:
            fields["id_number"] = data["id_number"]
        for key in ("phone", "bank_account"):
            if data[f"clear_{key}"]:
                fields[key] = ""
            elif data[key]:
                fields[key] = data[key]
        return fields


class HouseholdMemberForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50,
                           error_messages={"required": _("请填写家庭成员姓名。")})
    relation = forms.ChoiceField(label=_("与职工关系"), choices=Relation.choices)
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=DATE_WIDGET)
    id_number = forms.CharField(label=_("身份证号"), max_length=30, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    occupation = forms.CharField(label=_("职业/就学"), max_length=60, required=False)
    health_note = forms.CharField(
        label=_("健康状况"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("属敏感个人信息，须先登记职工的健康信息单独同意。"),
    )


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(choices=ConsentKind.choices)
    action = forms.ChoiceField(choices=[("grant", "grant"), ("withdraw", "withdraw")])
