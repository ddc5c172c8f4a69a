"""Scoped reads of visit records: visits, household profiles, needs, follow-ups and photos.

Every query goes through ``access_for(user).scope_q("visits.view", unit_field="org_unit")``
on the record's own unit (the visited member's unit when it was recorded, or the visited unit).
Out of scope looks exactly like "not found", and the attempt is journaled.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import BooleanField, Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from unionaid.accounts.access import access_for
from unionaid.accounts.models import Assignment, DataScope
from unionaid.assistance import storage
from unionaid.audit.scoped import get_in_scope, scoped_getter
from unionaid.audit.services import audit_record
from unionaid.core.errors import NotFound
from unionaid.visits.models import (
    FollowUp,
    FollowUpStatus,
    HouseholdProfile,
    NeedStatus,
    Visit,
    VisitNeed,
    VisitPhoto,
)

VIEW = "visits.view"
RECORD = "visits.record"


def _scope(user, perm: str = VIEW, unit_field: str = "org_unit") -> Q:
    return access_for(user).scope_q(perm, unit_field=unit_field)


# -- visits -----------------------------------------------------------------------------------

def visits_visible_to(*, user, perm: str = VIEW, campaign=None, unit=None, member=None,
                      date_from: dt.date | None = None, date_to: dt.date | None = None,
                      hardship_found: bool | None = None) -> QuerySet[Visit]:
    """The visits ``user`` may see, newest first, with the list filters (``unit``: its
    subtree)."""
    qs = (Visit.objects.filter(_scope(user, perm))
          .select_related("member", "visited_unit", "org_unit", "campaign", "recorded_by"))
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if unit is not None:
        qs = qs.filter(org_unit__path__startswith=unit.path)
    if member is not None:
        qs = qs.filter(member=member)
    if date_from is not None:
        qs = qs.filter(visited_on__gte=date_from)
    if date_to is not None:
        qs = qs.filter(visited_on__lte=date_to)
    if hardship_found is not None:
        qs = qs.filter(hardship_found=hardship_found)
    return qs.order_by("-visited_on", "-id")


@scoped_getter
def visit_get_for_user(*, user, pk, perm: str = VIEW) -> Visit:
    return get_in_scope(
        user=user, pk=pk, perm=perm,
        queryset=(Visit.objects
                  .select_related("member__org_unit", "visited_unit", "org_unit", "campaign",
                                  "pairing", "recorded_by")
                  .prefetch_related("needs__application", "follow_ups__owner", "photos")),
        target_type="visits.visit", log_read="member_id",  # the page shows the household profile
    )


def visit_profile(*, visit: Visit) -> HouseholdProfile | None:
    """The snapshot taken on a visit the caller already holds (from ``visit_get_for_user``)."""
    return HouseholdProfile.objects.filter(visit=visit).first()


# -- profiles ---------------------------------------------------------------------------------

def profiles_for_member(*, user, member) -> QuerySet[HouseholdProfile]:
    """A member's profile snapshots the user may see, newest first (the household's history)."""
    return (HouseholdProfile.objects.filter(_scope(user), member=member)
            .select_related("visit", "recorded_by", "org_unit")
            .order_by("-taken_on", "-id"))


@scoped_getter
def profile_get_for_user(*, user, pk) -> HouseholdProfile:
    return get_in_scope(
        user=user, pk=pk, perm=VIEW,
        queryset=HouseholdProfile.objects.select_related("member__org_unit", "org_unit", "visit"),
        target_type="visits.householdprofile", log_read="member_id",
    )


# -- needs ------------------------------------------------------------------------------------

def needs_visible_to(*, user, perm: str = VIEW) -> QuerySet[VisitNeed]:
    return (VisitNeed.objects.filter(_scope(user, perm, unit_field="visit__org_unit"))
            .select_related("visit__member", "visit__visited_unit", "visit__org_unit",
                            "application"))


def needs_open_for_user(*, user) -> QuerySet[VisitNeed]:
    """Needs not yet turned into work, oldest visit first (the longest waiting on top)."""
    return needs_visible_to(user=user).filter(status=NeedStatus.OPEN).order_by(
        "visit__visited_on", "id")


@scoped_getter
def need_get_for_user(*, user, pk, perm: str = VIEW) -> VisitNeed:
    return get_in_scope(
        user=user, pk=pk, perm=perm, unit_field="visit__org_unit",
        queryset=VisitNeed.objects.select_related(
            "visit__member", "visit__visited_unit", "visit__org_unit", "application"),
        target_type="visits.visitneed",
    )


# -- follow-ups -------------------------------------------------------------------------------

def follow_ups_for_user(*, user, mine: bool = True, status: str | None = None
                        ) -> QuerySet[FollowUp]:
    """Follow-ups in the user's scope (``mine``: only those they own): open ones first, by due
    date; ``is_overdue`` marks open ones past their due date."""
    qs = FollowUp.objects.filter(_scope(user))
    if mine:
        qs = qs.filter(owner_id=getattr(user, "pk", None))
    if status:
        qs = qs.filter(status=status)
    return _with_due_state(qs)


def _with_due_state(qs: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    today = timezone.localdate()
    return (qs.select_related("member", "owner", "org_unit", "visit", "need")
            .annotate(
                open_first=Case(When(status=FollowUpStatus.OPEN, then=Value(0)), default=Value(1),
                                output_field=IntegerField()),
                is_overdue=Case(When(status=FollowUpStatus.OPEN, due_on__lt=today,
                                     then=Value(True)),
                                default=Value(False), output_field=BooleanField()))
            .order_by("open_first", "due_on", "id"))


@scoped_getter
def follow_up_get_for_user(*, user, pk) -> FollowUp:
    return get_in_scope(
        user=user, pk=pk, perm=VIEW, queryset=_with_due_state(FollowUp.objects.all()),
        target_type="visits.followup",
    )


# -- photos -----------------------------------------------------------------------------------

def photo_open_for_user(*, user, pk, thumbnail: bool = False):
    """(binary file handle, content type, download name) of a visit photo ``user`` may see.
    Every read is journaled (photos of a home are personal data). The caller closes the
    handle (FileResponse does)."""
    photo = get_in_scope(
        user=user, pk=pk, perm=VIEW, queryset=VisitPhoto.objects.select_related("visit__org_unit"),
        scope=Q(visit__in=Visit.objects.filter(_scope(user))), target_type="visits.visitphoto",
    )
    path = photo.thumbnail_path if thumbnail else photo.storage_path
    if not path:
        raise NotFound()
    try:
        handle = storage.open_private(path)
    except (FileNotFoundError, OSError):
        raise NotFound() from None
    with transaction.atomic():
        audit_record(actor=user, action="visit.photo_view", target=photo.visit,
                     org_unit_path=photo.visit.org_unit.path,
                     changes={"photo": photo.pk, "thumbnail": thumbnail})
    content_type = "image/jpeg" if thumbnail else photo.content_type
    extension = storage.ALLOWED.get(content_type, "bin")
    stem = photo.original_name.rsplit(".", 1)[0] or "photo"
    return handle, content_type, f"{stem}{'_thumb' if thumbnail else ''}.{extension}"


# -- people who may own a follow-up -----------------------------------------------------------

MAX_OWNER_CHOICES = 50


def _covers(role, unit, post_unit) -> bool:
    """The grant of ``role`` held on a post in ``post_unit`` covers ``unit`` with
    ``visits.record`` (the rule of ``Access.covers_unit``)."""
    if RECORD not in (role.permissions or []):
        return False
    if role.data_scope == DataScope.ALL:
        return True
    if role.data_scope == DataScope.UNIT_AND_BELOW:
        return unit.path.startswith(post_unit.path)
    return role.data_scope == DataScope.UNIT and post_unit.pk == unit.pk


def follow_up_owner_choices(*, unit) -> list:
    """Staff who may own a follow-up for a member of ``unit``: active holders of a current post
    in the unit or above it (or with an all-units role) whose roles give ``visits.record``
    over ``unit`` — the rights ``compute_access`` would give them, read for all candidates at
    once (two queries, however many people hold posts there). Sorted by user name."""
    steplen = type(unit).steplen
    ancestors = [unit.path[:n] for n in range(steplen, len(unit.path) + 1, steplen)]
    assignments = (Assignment.objects.current(timezone.now())
                   .filter(Q(position__org_unit__path__in=ancestors)
                           | Q(position__roles__data_scope=DataScope.ALL),
                           user__is_active=True, position__is_active=True,
                           position__org_unit__is_closed=False)
                   .select_related("user", "position__org_unit")
                   .prefetch_related("position__roles").distinct())
    owners = {}
    for assignment in assignments:
        post_unit = assignment.position.org_unit
        if any(_covers(role, unit, post_unit) for role in assignment.position.roles.all()):
            owners[assignment.user_id] = assignment.user
    return sorted(owners.values(), key=lambda u: u.username)[:MAX_OWNER_CHOICES]


# -- the member page's summary ----------------------------------------------------------------

def member_summary_for_user(*, user, member) -> dict | None:
    """The visits part of the member page's 帮扶概况: the member's latest visit the user may
    see (date, kind, visitors), or ``None`` for the visit when there is none. ``None`` when
    ``user`` lacks ``visits.view`` over the member's unit. One query (the (member, -visited_on)
    index), whatever the member's history; the visit's summary and profile are not read."""
    if not access_for(user).covers_unit(VIEW, member.org_unit):
        return None
    return {"last_visit": visits_visible_to(user=user, member=member).first()}
