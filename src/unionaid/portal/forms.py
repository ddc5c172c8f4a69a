"""Forms of the worker's pages. The facts form is generated from the item's fact definitions
(``AssistanceItem.facts``); the services check everything again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from unionaid.assistance.models import AssistanceItem
from unionaid.core.errors import ServiceError

PREFIX = "fact_"


def _field(fact: dict) -> forms.Field:
    kind = fact["type"]
    common = {"label": fact["label"], "help_text": fact.get("help", ""),
              "required": bool(fact.get("required", True)) and kind != "bool"}
    if kind == "money":
        return forms.DecimalField(
            min_value=Decimal("0"), max_digits=12, decimal_places=2,
            widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"}),
            **common)
    if kind == "int":
        return forms.IntegerField(min_value=0, max_value=100_000,
                                  widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                                  **common)
    if kind == "choice":
        choices = [("", _("请选择"))] + [(c, c) for c in fact.get("choices", [])]
        return forms.ChoiceField(choices=choices, **common)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                               **common)
    if kind == "bool":
        return forms.BooleanField(**common)
    return forms.CharField(max_length=200, **common)


def _to_raw(kind: str, value):
    """A cleaned value in the shape the services take (JSON-safe strings for money/dates)."""
    if value is None:
        return ""
    if kind == "money":
        return str(value)
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    return value


class FactsForm(forms.Form):
    """What the item asks the applicant to state, plus the reason (申请理由)."""

    reason = forms.CharField(label=_("申请理由"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("简要说明家庭困难情况，便于审核。"))

    def __init__(self, *args, item: AssistanceItem, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        reason = self.fields.pop("reason")
        for fact in item.facts or []:
            self.fields[PREFIX + fact["name"]] = _field(fact)
        self.fields["reason"] = reason

    @classmethod
    def initial_from(cls, application) -> dict:
        initial = {PREFIX + k: v for k, v in (application.facts or {}).items()}
        initial["reason"] = application.reason
        return initial

    def facts(self) -> dict:
        return {fact["name"]: _to_raw(fact["type"], self.cleaned_data.get(PREFIX + fact["name"]))
                for fact in self.item.facts or []}

    def apply_service_error(self, exc: ServiceError) -> None:
        """The service's Chinese messages, on the fact's field where there is one."""
        placed = False
        for name, message in (exc.fields or {}).items():
            field = PREFIX + name if PREFIX + name in self.fields else name
            if field in self.fields:
                self.add_error(field, str(message))
                placed = True
        if not placed:
            self.add_error(None, exc.message)


class MaterialForm(forms.Form):
    """Which material the uploaded files are; the files come from ``request.FILES``."""

    material = forms.ChoiceField(label=_("材料类别"))

    def __init__(self, *args, names: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["material"].choices = [(n, n) for n in names]


class ResubmitForm(forms.Form):
    reason = forms.CharField(label=_("申请理由（可补充说明）"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))
