"""Small template helpers for the worker's pages."""

from __future__ import annotations

from django import template

from unionaid.assistance.amounts import yuan as fmt
from unionaid.assistance.models import ApplicationStatus

register = template.Library()

BADGES = {
    ApplicationStatus.DRAFT: "text-bg-secondary",
    ApplicationStatus.IN_REVIEW: "text-bg-primary",
    ApplicationStatus.RETURNED: "text-bg-warning",
    ApplicationStatus.APPROVED: "text-bg-info",
    ApplicationStatus.REJECTED: "text-bg-danger",
    ApplicationStatus.WITHDRAWN: "text-bg-light border",
    ApplicationStatus.PAID: "text-bg-success",
    ApplicationStatus.PAYMENT_REVERSED: "text-bg-warning",
}


@register.inclusion_tag("portal/_status_badge.html")
def status_badge(application):
    return {"css": BADGES.get(application.status, "text-bg-secondary"),
            "label": application.get_status_display()}


@register.filter
def yuan(value) -> str:
    """5000 → "5,000.00"."""
    try:
        return fmt(value)
    except (TypeError, ValueError, ArithmeticError):
        return ""
