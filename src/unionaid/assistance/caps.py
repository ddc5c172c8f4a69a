"""Yearly caps: per item (``AssistanceItem.per_person_cap`` / ``per_household_cap``) and across
items (``AnnualCap``, for one category or all), per person and per household.

What counts against a cap is every application of the year that is under review, returned for
material, approved, paid or whose payment was reversed (so two open applications cannot together
pass a cap). A household is
the member plus every member whose ID number appears in the member's household, or whose
household lists the member.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.assistance.amounts import yuan
from unionaid.assistance.facts import year_bounds
from unionaid.assistance.models import AnnualCap, Application, ApplicationStatus
from unionaid.core.errors import Conflict
from unionaid.members.models import HouseholdMember, Member

# A reversed payment (PAYMENT_REVERSED) still counts: its money was not received, but the
# decision stands and the finance office may pay it again (重新发放) at any time, which needs no
# new application. Not counting it would let a second application take the room the re-payment
# will use, and the two together would pass the cap.
COUNTING = (ApplicationStatus.IN_REVIEW, ApplicationStatus.RETURNED, ApplicationStatus.APPROVED,
            ApplicationStatus.PAID, ApplicationStatus.PAYMENT_REVERSED)


def annual_caps_in_force(day: dt.date) -> dict[int | None, AnnualCap]:
    """The yearly caps across items in force on ``day``, by category id (None = all items);
    a scope whose latest version lifted its cap is left out."""
    in_force: dict[int | None, AnnualCap] = {}
    for cap in (AnnualCap.objects.filter(effective_from__lte=day).select_related("category")
                .order_by("category_id", "-effective_from")):
        in_force.setdefault(cap.category_id, cap)
    return {k: v for k, v in in_force.items()
            if v.per_person is not None or v.per_household is not None}


def household_member_ids(member) -> set[int]:
    """The member and the union members who share their household (two small queries)."""
    hashes = [h for h in member.household.values_list("id_number_hash", flat=True) if h]
    linked = Member.objects.filter(
        Q(id_number_hash__in=hashes)
        | Q(pk__in=HouseholdMember.objects.filter(id_number_hash=member.id_number_hash)
            .values("member_id"))
    ).values_list("pk", flat=True)
    return {member.pk, *linked}


def committed(*, member_ids, year: int, item=None, category=None,
              exclude_pk: int | None = None) -> Decimal:
    start, end = year_bounds(year)
    qs = Application.objects.filter(member_id__in=list(member_ids), status__in=COUNTING,
                                    submitted_at__gte=start, submitted_at__lt=end)
    if item is not None:
        qs = qs.filter(item_id=item.pk)
    if category is not None:
        qs = qs.filter(item__category_id=category.pk)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def _caps_for(item, day: dt.date) -> list[tuple[str, Decimal, bool, dict]]:
    """(label, cap, per_household, filter) for every cap that applies to ``item`` on ``day``
    (the versions of the yearly caps across items in force that day)."""
    caps: list[tuple[str, Decimal, bool, dict]] = []
    if item.per_person_cap is not None:
        caps.append((_("本项目每人每年"), item.per_person_cap, False, {"item": item}))
    if item.per_household_cap is not None:
        caps.append((_("本项目每户每年"), item.per_household_cap, True, {"item": item}))
    in_force = annual_caps_in_force(day)
    for cap in [in_force[k] for k in (None, item.category_id) if k in in_force]:
        scope = (_("%(c)s类") % {"c": cap.category.name}) if cap.category else _("全部项目")
        where = {"category": cap.category} if cap.category else {}
        if cap.per_person is not None:
            caps.append((_("%(s)s每人每年") % {"s": scope}, cap.per_person, False, where))
        if cap.per_household is not None:
            caps.append((_("%(s)s每户每年") % {"s": scope}, cap.per_household, True, where))
    return caps


def apply_caps(*, application, amount: Decimal, year: int,
               day: dt.date | None = None) -> tuple[Decimal, list[str]]:
    """The amount after every cap, with a calculation line for each cap that bites. The caps
    across items are the versions in force on ``day`` (today by default): a cap changed later
    does not rewrite this check.

    A cap already used up refuses the application (Conflict "cap_reached"); a cap partly used
    lowers the amount to what is left.
    """
    steps: list[str] = []
    member = application.member
    household: set[int] | None = None
    for label, cap, per_household, where in _caps_for(application.item,
                                                      day or timezone.localdate()):
        if per_household and household is None:
            household = household_member_ids(member)
        ids = household if per_household else {member.pk}
        used = committed(member_ids=ids, year=year, exclude_pk=application.pk, **where)
        left = cap - used
        if left <= 0:
            raise Conflict(
                _("%(label)s帮扶上限为 %(cap)s 元，本年度已申请或已获 %(used)s 元，已达上限，"
                  "不能再申请。") % {"label": label, "cap": yuan(cap), "used": yuan(used)},
                code="cap_reached",
            )
        if amount > left:
            steps.append(
                _("%(label)s上限 %(cap)s 元，本年度已申请或已获 %(used)s 元，本次最多 %(left)s 元。")
                % {"label": label, "cap": yuan(cap), "used": yuan(used), "left": yuan(left)}
            )
            amount = left
    return amount, steps
