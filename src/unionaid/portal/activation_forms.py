"""Forms of the pages where workers get in (activation, SMS-code login) and of the two staff
pages around them (printing activation codes, linking a staff login to its member)."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from unionaid.core import idcard, masking

_DIGITS_RUN = re.compile(r"\d{7,}")


def _id_number_field():
    return forms.CharField(
        label=_("身份证号"), max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))


def _phone_field(label=None):
    return forms.CharField(
        label=label or _("手机号"), max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))


def _clean_id_number(value: str) -> str:
    try:
        return idcard.parse_id_number(value).number
    except idcard.IdNumberError as exc:
        raise ValidationError(str(exc)) from None


def _clean_phone(value: str) -> str:
    try:
        return masking.validate_phone(value)
    except masking.PhoneError as exc:
        raise ValidationError(str(exc)) from None


class ActivationForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_number = _id_number_field()
    phone = _phone_field(_("手机号（名册上登记的）"))

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_id_number(self) -> str:
        return _clean_id_number(self.cleaned_data["id_number"])

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data["phone"])


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("短信验证码"), min_length=6, max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                      "pattern": "[0-9]*"}))

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not code.isdigit():
            raise ValidationError(_("验证码为6位数字。"))
        return code


class PrintedCodeForm(forms.Form):
    code = forms.CharField(
        label=_("激活码"), max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                      "spellcheck": "false"}))
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = _id_number_field()

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_id_number(self) -> str:
        return _clean_id_number(self.cleaned_data["id_number"])


class LoginPasswordForm(forms.Form):
    """Step 3: a user name and a password (Django's validators), or — for a worker with a
    phone of their own — no password and an SMS code at each login."""

    username = forms.CharField(
        label=_("用户名"), max_length=30,
        help_text=_("以后登录时使用，可用字母、数字、汉字，不要用手机号或身份证号。"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}))
    sms_only = forms.BooleanField(
        label=_("不设密码，每次登录用短信验证码"), required=False,
        help_text=_("验证码发到名册上您本人的手机号。"))
    password1 = forms.CharField(
        label=_("密码"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("再次输入密码"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, allow_sms_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_sms_only:
            del self.fields["sms_only"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if masking.looks_like_identifier(username) or _DIGITS_RUN.search(username):
            raise ValidationError(_("用户名不能含手机号、身份证号等长串数字。"))
        if not re.fullmatch(r"[\w.@+-]{2,30}", username):
            raise ValidationError(_("用户名只能用字母、数字、汉字和 . @ + - _。"))
        return username

    def clean(self):
        data = super().clean()
        if data.get("sms_only"):
            data["password1"] = None
            return data
        password1, password2 = data.get("password1"), data.get("password2")
        if not password1:
            self.add_error("password1", _("请设置密码。"))
        elif password1 != password2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        else:
            try:
                validate_password(password1)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class PhoneForm(forms.Form):
    phone = _phone_field()

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data["phone"])


class LinkForm(forms.Form):
    username = forms.CharField(label=_("登录用户名"), max_length=150)
    id_number = forms.CharField(label=_("职工身份证号"), max_length=24,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
