from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PreferenceForm(forms.Form):
    """A user's outbound channels; the in-app inbox always gets every message."""

    sms = forms.BooleanField(label=_("短信"), required=False)
    phone = forms.CharField(
        label=_("接收短信的手机号"), required=False, max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("留空则保持不变。"))
    email = forms.BooleanField(label=_("电子邮件"), required=False)
    email_address = forms.EmailField(label=_("接收邮件的地址"), required=False, max_length=200,
                                     help_text=_("留空则保持不变。"))
    wechat = forms.BooleanField(label=_("微信订阅消息"), required=False,
                                help_text=_("需先在工会微信小程序中登录，绑定微信。"))
