"""Scoped reads of leads and their conversion figures.

A lead belongs to its member's unit (where the member is now, like a match): a cadre sees the
leads of members in their ``matching.view`` scope; one lead only through ``lead_get_for_user``
(``audit.scoped.get_in_scope``: out of scope = not found, the denial journaled, the read of the
member's data logged).
"""

from __future__ import annotations

import statistics
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from unionaid.accounts.access import access_for
from unionaid.assistance.selectors import paid_applications
from unionaid.audit.scoped import get_in_scope, scoped_getter
from unionaid.funds.selectors import first_payment_dates
from unionaid.matching.leads.services import TARGET_APPLICATION
from unionaid.matching.models import Lead, LeadRule, LeadStatus
from unionaid.matching.selectors import VIEW

SUBJECT_APPLICATION = "assistance.application"


def _leads_q(user, perm: str) -> Q:
    return access_for(user).scope_q(perm, unit_field="member__org_unit", self_field=None)


def leads_visible_to(*, user, perm: str = VIEW, status: str | None = None,
                     rule: LeadRule | None = None) -> QuerySet[Lead]:
    qs = Lead.objects.filter(_leads_q(user, perm))
    if status:
        qs = qs.filter(status=status)
    if rule is not None:
        qs = qs.filter(rule=rule)
    return qs.select_related("rule", "member__org_unit", "dataset", "accepted_by",
                             "dismissed_by").order_by("-created_at", "-pk")


@scoped_getter
def lead_get_for_user(*, user, pk, perm: str = VIEW) -> Lead:
    return get_in_scope(
        user=user, pk=pk, perm=perm, unit_field="member__org_unit", scope=_leads_q(user, perm),
        target_type="matching.lead", log_read="member_id",
        queryset=Lead.objects.select_related("rule", "member__org_unit", "dataset", "match",
                                             "accepted_by", "dismissed_by"),
    )


def lead_rules() -> QuerySet[LeadRule]:
    return LeadRule.objects.order_by("order", "pk")


def lead_rule_get(*, pk) -> LeadRule | None:
    return LeadRule.objects.filter(pk=pk).first()


def conversion(*, user) -> dict:
    """Leads raised, accepted and paid in the user's scope, the money paid, and the days from
    data (the list loaded) to money (the payment of the application the lead started). Counted
    in the database; only the paid applications' dates are read (for the median)."""
    leads = Lead.objects.filter(_leads_q(user, VIEW))
    counts = leads.aggregate(
        raised=Count("pk"), accepted=Count("pk", filter=Q(status=LeadStatus.ACCEPTED)),
        dismissed=Count("pk", filter=Q(status=LeadStatus.DISMISSED)))
    raised, accepted = counts["raised"], counts["accepted"]
    started = leads.filter(status=LeadStatus.ACCEPTED, target_kind=TARGET_APPLICATION)
    paid = paid_applications(ids=started.values("target_id"))
    money = paid.aggregate(n=Count("pk"), total=Sum("amount"))
    paid_ids = paid.values("pk")
    paid_on = first_payment_dates(subject_kind=SUBJECT_APPLICATION, subject_ids=paid_ids)
    data_at = dict(started.filter(target_id__in=paid_ids, data_at__isnull=False)
                   .values_list("target_id", "data_at"))
    days = sorted(max(0, (paid_on[pk] - data_at[pk]).days) for pk in paid_on if pk in data_at)
    return {
        "raised": raised, "accepted": accepted, "dismissed": counts["dismissed"],
        "open": raised - accepted - counts["dismissed"], "paid": money["n"],
        "paid_amount": money["total"] or Decimal("0.00"),
        "accept_rate": round(accepted / raised, 3) if raised else None,
        "days_to_money_median": statistics.median(days) if days else None,
        "days_to_money_max": days[-1] if days else None,
    }
