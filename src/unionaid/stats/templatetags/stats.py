"""Template filters of the statistics page."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping is not None else None


@register.filter
def figure(value) -> str:
    """A figure as shown: money with two decimals and thousands separators, counts as they
    are, nothing (no payment yet) as a dash."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value.as_tuple().exponent == -2 else f"{value:,}"
    return f"{value:,}"


@register.filter
def cut_unit(query: str) -> str:
    """The query string without its ``unit`` (back to the whole scope)."""
    return "&".join(p for p in query.split("&") if not p.startswith("unit="))
