"""Money display for the finance pages: exact Decimal, thousands separated, two places; and a
masked name."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from unionaid.core import masking

register = template.Library()


@register.filter
def yuan(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


@register.filter
def masked_name(value) -> str:
    """A person's name with the given name starred (张** ), for lists that need no more."""
    return masking.mask_name(str(value or ""))
