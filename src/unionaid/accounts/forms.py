"""Forms of the login, second-factor, account-security and security-admin pages.

Forms only parse input; the rules (password strength, separation of duties, scope) are checked
by the services, whose Chinese messages are put back on the form by the views.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from unionaid.accounts.models import DataScope, Role
from unionaid.accounts.permissions import permission_choices


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["username"].widget.attrs.update({"autocapitalize": "none"})
        self.fields["password"].label = _("密码")


class OtpTokenForm(forms.Form):
    token = forms.RegexField(
        label=_("动态验证码"), regex=r"^\s*\d{6}\s*$", max_length=8,
        error_messages={"invalid": _("请输入手机验证器上显示的6位数字。"),
                        "required": _("请输入6位动态验证码。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                      "pattern": r"\d{6}", "autofocus": True}),
    )


class ApiTokenForm(forms.Form):
    EXPIRY_DAYS = [(7, _("7 天")), (30, _("30 天")), (90, _("90 天")), (180, _("180 天")),
                   (365, _("1 年"))]

    name = forms.CharField(label=_("令牌名称"), max_length=60,
                           help_text=_("写明用途，如“工会小程序”“数据对接”。"),
                           error_messages={"required": _("请填写令牌名称（不超过 60 字）。"),
                                           "max_length": _("请填写令牌名称（不超过 60 字）。")})
    expiry_days = forms.TypedChoiceField(label=_("有效期"), choices=EXPIRY_DAYS, coerce=int,
                                         initial=90)

    def expiry(self) -> dt.timedelta:
        return dt.timedelta(days=self.cleaned_data["expiry_days"])


class TokenSearchForm(forms.Form):
    q = forms.CharField(label=_("用户名"), required=False, max_length=150,
                        widget=forms.TextInput(attrs={"type": "search", "autocapitalize": "none"}))


class OtpDisableForm(forms.Form):
    password = forms.CharField(
        label=_("当前密码"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("当前密码"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=_("新密码"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少8位，并包含大写字母、小写字母、数字、符号中的至少三类。"),
    )
    new_password2 = forms.CharField(
        label=_("再次输入新密码"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(_("当前密码不正确。"))
        return value

    def clean(self):
        data = super().clean()
        if data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        return data


class FirstPasswordForm(forms.Form):
    """Setting one's own password in place of a one-time password (first login)."""

    new_password1 = forms.CharField(
        label=_("新密码"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
        help_text=_("至少8位，并包含大写字母、小写字母、数字、符号中的至少三类。"),
    )
    new_password2 = forms.CharField(
        label=_("再次输入新密码"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        return data


class UserSearchForm(forms.Form):
    q = forms.CharField(label=_("用户名或姓名"), required=False, max_length=150)


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150,
                               widget=forms.TextInput(attrs={"autocapitalize": "none"}))
    full_name = forms.CharField(label=_("姓名"), max_length=150, required=False)
    password = forms.CharField(
        label=_("初始密码"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少8位，并包含大写字母、小写字母、数字、符号中的至少三类。"),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


class RoleForm(forms.Form):
    code = forms.SlugField(label=_("编码"), max_length=50,
                           help_text=_("英文字母、数字、连字符，创建后不能修改。"))
    name = forms.CharField(label=_("名称"), max_length=50)
    description = forms.CharField(label=_("说明"), max_length=200, required=False)
    data_scope = forms.ChoiceField(label=_("数据范围"), choices=DataScope.choices)
    permissions = forms.MultipleChoiceField(
        label=_("权限"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=(),  # set per form: apps register their permissions at start-up
    )

    def __init__(self, *args, role: Role | None = None, **kwargs):
        self.base_fields["permissions"].choices = permission_choices()
        if role is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "code": role.code, "name": role.name, "description": role.description,
                "data_scope": role.data_scope, "permissions": role.permissions,
            }
        super().__init__(*args, **kwargs)
        if role is not None:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = ""


class PositionForm(forms.Form):
    org_unit = forms.ModelChoiceField(label=_("单位"), queryset=None,
                                      empty_label=_("请选择单位"))
    name = forms.CharField(label=_("岗位名称"), max_length=60)
    roles = forms.ModelMultipleChoiceField(
        label=_("角色"), queryset=Role.objects.order_by("code"), required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = units
        self.fields["org_unit"].label_from_instance = _unit_label


class UnitFilterForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("单位"), queryset=None, required=False,
                                  empty_label=_("全部单位"))
    username = forms.CharField(label=_("用户名"), required=False, max_length=150)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].label_from_instance = _unit_label


class AssignmentGrantForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150,
                               widget=forms.TextInput(attrs={"autocapitalize": "none"}))
    position = forms.ModelChoiceField(label=_("岗位"), queryset=None,
                                      empty_label=_("请选择岗位"))
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, positions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].queryset = positions


class AssignmentMoveForm(forms.Form):
    position = forms.ModelChoiceField(label=_("调往岗位"), queryset=None,
                                      empty_label=_("请选择新岗位"))

    def __init__(self, *args, positions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].queryset = positions


def _unit_label(unit) -> str:
    indent = "\u3000" * max(unit.depth - 1, 0)
    return f"{indent}{unit.name}"
