"""The journal's filter form (parses the query string into AuditFilters)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from unionaid.audit.models import OUTCOME_LABELS, ReadChannel
from unionaid.audit.selectors import AuditFilters, ReadFilters

OUTCOMES = [("", _("全部结果")), *OUTCOME_LABELS.items()]


class DateRangeForm(forms.Form):
    """From–to dates, the first filters of the journal and of the read log."""

    date_from = forms.DateField(label=_("开始日期"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"},
                                                       format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("结束日期"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"},
                                                     format="%Y-%m-%d"))

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data


class AuditFilterForm(DateRangeForm):
    actor = forms.CharField(label=_("操作人用户名"), required=False, max_length=150)
    action = forms.CharField(label=_("操作"), required=False, max_length=64,
                             help_text=_("如 member.reveal；以“.”结尾表示一类，如 auth."))
    target_type = forms.CharField(label=_("对象类型"), required=False, max_length=64)
    target_id = forms.CharField(label=_("对象ID"), required=False, max_length=64)
    outcome = forms.ChoiceField(label=_("结果"), required=False, choices=OUTCOMES)

    def filters(self) -> AuditFilters:
        """The parsed filters (call after is_valid(); an invalid form filters nothing)."""
        data = self.cleaned_data if self.is_valid() else {}
        return AuditFilters(
            date_from=data.get("date_from"), date_to=data.get("date_to"),
            **{k: (data.get(k) or "").strip()
               for k in ("actor", "action", "target_type", "target_id", "outcome")},
        )


class ReadFilterForm(DateRangeForm):
    """The read log's filters: when, who looked, whose data, through what."""

    actor = forms.CharField(label=_("查看人用户名"), required=False, max_length=150)
    member_id = forms.IntegerField(label=_("职工ID"), required=False, min_value=1)
    channel = forms.ChoiceField(label=_("途径"), required=False,
                                choices=[("", _("全部途径")), *ReadChannel.choices])

    def filters(self) -> ReadFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return ReadFilters(
            date_from=data.get("date_from"), date_to=data.get("date_to"),
            actor=(data.get("actor") or "").strip(), member_id=data.get("member_id"),
            channel=data.get("channel") or "",
        )
