"""Scoped reads for watch lists, re-check reminders and the two ledgers.

Reading any of these needs ``archive.view`` (the visit ledger: ``visits.view``) over the
record's unit; out of scope is "not found". The ledger selectors return querysets already
joined (``select_related``) and annotated so a 100,000-row export runs without a query per row.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from unionaid.accounts.access import access_for
from unionaid.archive.models import (
    DifficultUnit,
    HardshipRecord,
    RecordStatus,
    WatchEntry,
    WatchKind,
)
from unionaid.audit.scoped import get_in_scope, scoped_getter
from unionaid.funds.models import Disbursement, DisbursementStatus
from unionaid.members.models import Consent, ConsentKind
from unionaid.org.models import OrgUnit
from unionaid.visits.models import FollowUp, FollowUpStatus, Visit, VisitNeed

VIEW = "archive.view"
VISITS_VIEW = "visits.view"


# -- watch lists ---------------------------------------------------------------------------------

def watch_entries_visible_to(
    *, user, kind: str | None = None, unit: OrgUnit | None = None, removed: bool = False,
) -> QuerySet[WatchEntry]:
    """Active entries (or, with ``removed``, past ones) the user may see, newest first."""
    qs = WatchEntry.objects.filter(access_for(user).scope_q(VIEW, unit_field="org_unit"))
    qs = qs.filter(removed_at__isnull=not removed)
    if kind:
        qs = qs.filter(kind=kind)
    if unit is not None:
        qs = qs.filter(org_unit__path__startswith=unit.path)
    return qs.select_related("member", "org_unit", "added_by").order_by("-added_at", "-id")


def watch_counts(*, user, unit: OrgUnit | None = None) -> dict[str, int]:
    """Active entries per list in the user's scope (one GROUP BY query)."""
    qs = watch_entries_visible_to(user=user, unit=unit).order_by()
    counts = dict(qs.values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    return {kind.value: counts.get(kind.value, 0) for kind in WatchKind}


@scoped_getter
def watch_entry_get_for_user(*, user, pk) -> WatchEntry:
    return get_in_scope(
        user=user, pk=pk, perm=VIEW, queryset=WatchEntry.objects.select_related("member",
                                                                               "org_unit"),
        target_type="archive.watchentry",
    )


def difficult_units_visible_to(*, user) -> QuerySet[DifficultUnit]:
    return (DifficultUnit.objects.filter(access_for(user).scope_q(VIEW, unit_field="org_unit"))
            .select_related("org_unit", "added_by").order_by("org_unit__path"))


@scoped_getter
def difficult_unit_get_for_user(*, user, pk) -> DifficultUnit:
    return get_in_scope(
        user=user, pk=pk, perm=VIEW,
        queryset=DifficultUnit.objects.select_related("org_unit", "added_by"),
        target_type="archive.difficultunit",
    )


# -- re-checks and follow-ups due ----------------------------------------------------------------

def records_due_for_recheck(
    *, user, within_days: int = 30, today: dt.date | None = None,
) -> QuerySet[HardshipRecord]:
    """Active records whose next re-check falls on or before ``today + within_days``; the
    overdue come first (earliest date first)."""
    today = today or timezone.localdate()
    return (HardshipRecord.objects
            .filter(access_for(user).scope_q(VIEW, unit_field="org_unit"))
            .filter(status=RecordStatus.ACTIVE,
                    next_recheck_on__lte=today + dt.timedelta(days=within_days))
            .select_related("member", "org_unit").order_by("next_recheck_on", "pk"))


def follow_ups_due_for(*, user, today: dt.date | None = None,
                       within_days: int = 0) -> QuerySet[FollowUp]:
    """The user's own open follow-ups due by ``today + within_days``, oldest first."""
    today = today or timezone.localdate()
    return (FollowUp.objects.filter(owner=user, status=FollowUpStatus.OPEN,
                                    due_on__lte=today + dt.timedelta(days=within_days))
            .select_related("member", "org_unit").order_by("due_on", "pk"))


# -- ledgers -------------------------------------------------------------------------------------

def _money_field() -> DecimalField:
    return DecimalField(max_digits=14, decimal_places=2)


def _health_consent():
    """Whether the row's member's latest health consent is in force (a subquery)."""
    return (Consent.objects.filter(member=OuterRef("member_id"), kind=ConsentKind.HEALTH)
            .order_by("-granted_at", "-pk")
            .annotate(ok=ExpressionWrapper(Q(withdrawn_at__isnull=True),
                                           output_field=BooleanField()))
            .values("ok")[:1])


def archive_ledger_rows(
    *, user, unit: OrgUnit | None, start: dt.date, end: dt.date,
) -> QuerySet[HardshipRecord]:
    """Records in the archive at some time in [start, end] (enrolled by ``end`` and not left
    before ``start``), in the user's ``archive.view`` scope, in unit order. Each row carries
    ``aid_count``/``aid_total`` (payments to the member in the period) and ``health_ok`` (the
    member's health consent is current)."""
    paid = Disbursement.objects.filter(
        member=OuterRef("member_id"), status=DisbursementStatus.PAID,
        paid_at__date__gte=start, paid_at__date__lte=end).order_by().values("member")
    consent = _health_consent()
    qs = (HardshipRecord.objects
          .filter(access_for(user).scope_q(VIEW, unit_field="org_unit"))
          .filter(enrolled_on__isnull=False, enrolled_on__lte=end)
          .exclude(status__in=[RecordStatus.PENDING, RecordStatus.RETURNED,
                               RecordStatus.REJECTED, RecordStatus.WITHDRAWN])
          .exclude(exited_on__lt=start).exclude(closed_on__lt=start))
    if unit is not None:
        qs = qs.filter(org_unit__path__startswith=unit.path)
    return (qs.select_related("member", "org_unit", "profile")
            .annotate(
                aid_count=Coalesce(Subquery(paid.annotate(n=Count("pk")).values("n")), Value(0)),
                aid_total=Coalesce(Subquery(paid.annotate(s=Sum("amount")).values("s")),
                                   Value(0), output_field=_money_field()),
                health_ok=Coalesce(Subquery(consent), Value(False)))
            .order_by("org_unit__path", "enrolled_on", "pk"))


def visit_ledger_rows(
    *, user, unit: OrgUnit | None, start: dt.date, end: dt.date,
) -> QuerySet[Visit]:
    """Visits made in [start, end] in the user's ``visits.view`` scope, by date, with their
    profile, campaign and needs (prefetched per chunk when iterated with ``chunk_size``)."""
    qs = (Visit.objects.filter(access_for(user).scope_q(VISITS_VIEW, unit_field="org_unit"))
          .filter(visited_on__gte=start, visited_on__lte=end))
    if unit is not None:
        qs = qs.filter(org_unit__path__startswith=unit.path)
    return (qs.select_related("member", "visited_unit", "org_unit", "campaign", "profile")
            .prefetch_related(Prefetch("needs", queryset=VisitNeed.objects.order_by("pk")))
            .annotate(health_ok=Coalesce(Subquery(_health_consent()), Value(False)))
            .order_by("visited_on", "pk"))


def member_watch_kinds(*, user, member) -> list[str]:
    """The labels of the watch lists ``member`` is on now, as far as ``user`` may see them
    (one query)."""
    labels = dict(WatchKind.choices)
    order = list(labels)
    kinds = set(watch_entries_visible_to(user=user).filter(member_id=member.pk)
                .order_by().values_list("kind", flat=True))
    return [str(labels[kind]) for kind in sorted(kinds & set(order), key=order.index)]
