from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from unionaid.schedules import expressions


class ScheduleForm(forms.Form):
    expression = forms.CharField(
        label=_("时间表达式"), max_length=expressions.MAX_LENGTH,
        help_text=_("5 段，用空格分开：分 时 日 月 周（北京时间）。例如“0 2 * * *”每天 2:00，"
                    "“*/15 * * * *”每 15 分钟，“30 8 * * 1-5”周一至周五 8:30。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    enabled = forms.BooleanField(label=_("启用"), required=False)
