"""Scoped reads of visit campaigns, their pairings and their dashboard (KPIs).

Who sees a campaign: anyone whose ``visits.view`` area meets it — the campaign's own unit, or
the area it covers (a 站段 cadre sees the 路局's campaign that covers their 站段) — and every
cadre paired in it. Seeing a campaign is not seeing all of it: its pairings and figures are cut
to the viewer's ``visits.view`` scope (pairing / visit ``org_unit``), plus the cadre's own
pairings and the visits they recorded themself. Out of scope looks like "not found".

The dashboard is a handful of grouped SQL queries (``COUNT(DISTINCT …)`` per cadre and per
covered unit), never a query per cadre or per visit: it stays fast with 1,400 cadres and 100 k
visits.

Figures (decided here, shown on the page):
- units visited (走访单位数): distinct ``visited_unit`` of workplace visits;
- workers visited (走访职工数): distinct members of home visits;
- hardship found (发现困难户): distinct members of visits marked ``hardship_found``;
- problems solved (解决问题数): needs found on the campaign's visits that were closed or turned
  into an assistance application, plus follow-ups of those visits done (a follow-up of a need
  already counted is not counted again);
- satisfaction: the mean of the ratings given (1–5) and how many there are;
- per cadre: their pairings (visited = at least one visit of the campaign linked to the pairing)
  and the visits they recorded; "behind" (进度滞后) = share of pairings visited below the share
  of the campaign period elapsed (days completed before ``today`` ÷ days in the period);
- per unit: one row per covered unit (its whole subtree), the same figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Lower
from django.utils import timezone

from unionaid.accounts.access import access_for
from unionaid.accounts.models import Assignment, DataScope, User
from unionaid.audit.scoped import get_in_scope, scoped_getter
from unionaid.members.selectors import member_search
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import units_visible_to
from unionaid.visits.models import (
    FollowUp,
    FollowUpStatus,
    NeedStatus,
    Pairing,
    Visit,
    VisitCampaign,
    VisitKind,
    VisitNeed,
)

VIEW = "visits.view"
CAMPAIGN_PERM = "visits.campaign"
SOLVED_NEED = (NeedStatus.CLOSED, NeedStatus.APPLICATION)


def _or(scope: Q, extra: Q) -> Q:
    """``scope | extra`` — except that an empty ``Q()`` means "everything" for scope_q, and
    Django drops an empty Q from an OR (it would *narrow* to ``extra``)."""
    return scope if not scope else scope | extra


def _ancestors_or_self(path: str) -> list[str]:
    step = OrgUnit.steplen
    return [path[:end] for end in range(step, len(path) + 1, step)]


# -- campaigns --------------------------------------------------------------------------------

def _campaign_area_q(user) -> Q:
    """Campaigns whose unit or covered area meets the user's ``visits.view`` grants."""
    q = Q(pk__in=[])
    for grant in access_for(user).grants_for(VIEW):
        if grant.scope == DataScope.ALL:
            return Q()
        if grant.scope == DataScope.UNIT_AND_BELOW:
            q |= (Q(org_unit__path__startswith=grant.unit_path)
                  | Q(covered_units__path__startswith=grant.unit_path)
                  | Q(covered_units__path__in=_ancestors_or_self(grant.unit_path)))
        elif grant.scope == DataScope.UNIT:
            q |= (Q(org_unit_id=grant.unit_id)
                  | Q(covered_units__path__in=_ancestors_or_self(grant.unit_path)))
    return q


def _campaigns_q(user) -> Q:
    """The campaigns of the user's area (see ``_campaign_area_q``) and those they are paired in."""
    area = _campaign_area_q(user)
    if not area:  # "all"
        return area
    own = Q(pairings__cadre_id=user.pk) if getattr(user, "pk", None) else Q(pk__in=[])
    return Q(pk__in=VisitCampaign.objects.filter(area | own).values("pk"))


def campaigns_visible_to(*, user) -> QuerySet[VisitCampaign]:
    return VisitCampaign.objects.filter(_campaigns_q(user)).select_related("org_unit")


def campaign_list(*, user, status: str = "", query: str = "") -> QuerySet[VisitCampaign]:
    qs = campaigns_visible_to(user=user)
    if status:
        qs = qs.filter(status=status)
    query = (query or "").strip()
    if query:
        qs = qs.filter(name__contains=query)
    return qs.order_by("-starts_on", "-pk")


@scoped_getter
def campaign_get_for_user(*, user, pk) -> VisitCampaign:
    return get_in_scope(
        user=user, pk=pk, perm=VIEW, queryset=VisitCampaign.objects.select_related("org_unit"),
        scope=_campaigns_q(user), target_type="visits.visitcampaign",
    )


def covered_units_of(campaign: VisitCampaign) -> list[OrgUnit]:
    return list(campaign.covered_units.order_by("path"))


def can_manage(user, campaign: VisitCampaign) -> bool:
    return access_for(user).covers_unit(CAMPAIGN_PERM, campaign.org_unit)


# -- pairings ---------------------------------------------------------------------------------

def pairings_visible_to(*, user, campaign: VisitCampaign) -> QuerySet[Pairing]:
    """The campaign's pairings in the user's ``visits.view`` scope, and the user's own."""
    scope = _or(access_for(user).scope_q(VIEW, unit_field="org_unit"), Q(cadre_id=user.pk))
    return (Pairing.objects.filter(campaign=campaign).filter(scope)
            .select_related("cadre", "target_unit", "member", "org_unit"))


def with_visit_state(qs: QuerySet[Pairing]) -> QuerySet[Pairing]:
    """Annotate ``visited`` and ``last_visited_on`` (two correlated subqueries, no GROUP BY)."""
    visits = Visit.objects.filter(pairing=OuterRef("pk"))
    return qs.annotate(
        visited=Exists(visits),
        last_visited_on=Subquery(visits.order_by("-visited_on").values("visited_on")[:1]),
    )


def pairing_list(*, user, campaign: VisitCampaign, query: str = "",
                 kind: str = "") -> QuerySet[Pairing]:
    qs = pairings_visible_to(user=user, campaign=campaign)
    if kind:
        qs = qs.filter(kind=kind)
    query = (query or "").strip()
    if query:
        qs = qs.alias(username_lower=Lower("cadre__username")).filter(
            Q(username_lower__startswith=query.lower()) | Q(cadre__first_name__startswith=query)
            | Q(target_unit__name__contains=query) | Q(member__name__startswith=query))
    return with_visit_state(qs).order_by("org_unit__path", "cadre__username", "pk")


@scoped_getter
def pairing_get_for_user(*, user, pk, campaign: VisitCampaign | None = None) -> Pairing:
    """A pairing in the user's ``visits.view`` scope or their own (of ``campaign`` if given)."""
    qs = Pairing.objects.select_related("campaign", "cadre", "target_unit", "member__org_unit",
                                        "org_unit")
    return get_in_scope(
        user=user, pk=pk, perm=VIEW,
        queryset=qs.filter(campaign=campaign) if campaign is not None else qs,
        scope=_or(access_for(user).scope_q(VIEW, unit_field="org_unit"), Q(cadre_id=user.pk)),
        target_type="visits.pairing",
    )


def my_pairings(*, user, campaign: VisitCampaign) -> list[Pairing]:
    """The user's own pairings in the campaign with whether (and when last) each was visited."""
    qs = (Pairing.objects.filter(campaign=campaign, cadre_id=user.pk)
          .select_related("target_unit", "member", "org_unit"))
    # units (一人一企) first, then households
    return list(with_visit_state(qs).order_by("-kind", "org_unit__path", "pk"))


def eligible_cadres(*, actor, campaign: VisitCampaign, query: str = "") -> QuerySet[User]:
    """Staff who may be paired: active logins holding a current post (an active position in an
    open unit) inside the campaign's unit subtree and, for an actor, inside the actor's
    ``visits.campaign`` scope. ``actor=None`` (the system) skips the scope part."""
    posts = Assignment.objects.current(timezone.now()).filter(
        position__is_active=True, position__org_unit__is_closed=False,
        position__org_unit__path__startswith=campaign.org_unit.path)
    if actor is not None:
        posts = posts.filter(
            access_for(actor).scope_q(CAMPAIGN_PERM, unit_field="position__org_unit"))
    users = User.objects.filter(is_active=True, pk__in=posts.values("user_id"))
    query = (query or "").strip()
    if query:
        users = users.alias(username_lower=Lower("username")).filter(
            Q(username_lower__startswith=query.lower()) | Q(first_name__startswith=query))
    return users.order_by("username", "pk")


def pairing_target_units(*, user, campaign: VisitCampaign,
                         covered: list[OrgUnit] | None = None) -> QuerySet[OrgUnit]:
    """Open units a pairing may target: inside the covered area and the user's scope."""
    covered = covered if covered is not None else covered_units_of(campaign)
    area = Q(pk__in=[])
    for unit in covered:
        area |= Q(path__startswith=unit.path)
    return (units_visible_to(user=user, perm=CAMPAIGN_PERM).filter(area, is_closed=False)
            .order_by("path"))


def pairing_member_search(*, user, campaign: VisitCampaign, query: str,
                          covered: list[OrgUnit] | None = None):
    """Members for a household pairing: a name / ID / phone search in the covered area."""
    query = (query or "").strip()
    if not query:
        return []
    covered = covered if covered is not None else covered_units_of(campaign)
    area = Q(pk__in=[])
    for unit in covered:
        area |= Q(org_unit__path__startswith=unit.path)
    return list(member_search(user=user, query=query, perm=CAMPAIGN_PERM).filter(area)[:20])


# -- dashboard --------------------------------------------------------------------------------

@dataclass
class Figures:
    pairings: int = 0
    pairings_visited: int = 0
    visits: int = 0
    units_visited: int = 0
    workers_visited: int = 0
    hardship_found: int = 0
    solved: int = 0

    @property
    def visited_percent(self) -> int | None:
        return _percent(self.pairings_visited, self.pairings)


@dataclass
class CadreRow(Figures):
    cadre_id: int = 0
    name: str = ""
    username: str = ""
    behind: bool = False


@dataclass
class UnitRow(Figures):
    unit: OrgUnit | None = None


@dataclass
class Target:
    code: str
    target: int
    actual: int

    @property
    def percent(self) -> int | None:
        return _percent(self.actual, self.target)


@dataclass
class CampaignDashboard:
    campaign: VisitCampaign
    today: dt.date
    period_days: int
    elapsed_days: int
    totals: Figures
    satisfaction_avg: Decimal | None
    satisfaction_count: int
    targets: list[Target]
    cadres: list[CadreRow] = field(default_factory=list)
    units: list[UnitRow] = field(default_factory=list)
    partial: bool = False

    @property
    def elapsed_percent(self) -> int:
        return _percent(self.elapsed_days, self.period_days) or 0

    @property
    def behind_count(self) -> int:
        return sum(1 for row in self.cadres if row.behind)


def _percent(part: int, whole: int) -> int | None:
    if not whole:
        return None
    return int((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(1), ROUND_HALF_UP))


def _elapsed(campaign: VisitCampaign, today: dt.date) -> tuple[int, int]:
    """(days in the period, days of it completed before ``today``)."""
    period = (campaign.ends_on - campaign.starts_on).days + 1
    done = min(max((today - campaign.starts_on).days, 0), period)
    return period, done


def _visit_scope(user, prefix: str = "") -> Q:
    """Visits the user counts: their ``visits.view`` scope and the visits they recorded."""
    scope = access_for(user).scope_q(VIEW, unit_field=f"{prefix}org_unit")
    return _or(scope, Q(**{f"{prefix}recorded_by_id": user.pk}))


def _bucket(path_field: str, covered: list[OrgUnit]) -> Case:
    """The covered unit (its pk) a row falls under; covered units never nest (see services)."""
    whens = [When(**{f"{path_field}__startswith": unit.path}, then=Value(unit.pk))
             for unit in covered]
    return Case(*whens, default=Value(None), output_field=IntegerField())


def _visit_figures(qs: QuerySet[Visit], group=None) -> dict:
    """Visit figures in total (key None) or per ``group`` expression value."""
    measures = {
        "visits": Count("pk"),
        "units_visited": Count("visited_unit", filter=Q(kind=VisitKind.WORKPLACE),
                               distinct=True),
        "workers_visited": Count("member", filter=Q(kind=VisitKind.HOME), distinct=True),
        "hardship_found": Count("member", filter=Q(hardship_found=True), distinct=True),
    }
    qs = qs.order_by()  # the model's ordering would join the GROUP BY
    if group is None:
        return {None: qs.aggregate(**measures)}
    rows = qs.annotate(key=group).values("key").annotate(**measures)
    return {row.pop("key"): row for row in rows}


def _solved(campaign: VisitCampaign, user, group=None) -> dict:
    """Problems solved in total (key None) or per ``group``, an expression over the visit
    (``visit__…``): needs closed or turned into an application, and follow-ups done whose need
    (if any) is not already counted."""
    needs = VisitNeed.objects.filter(visit__campaign=campaign, status__in=SOLVED_NEED)
    follow_ups = (FollowUp.objects.filter(visit__campaign=campaign, status=FollowUpStatus.DONE)
                  .filter(Q(need__isnull=True) | ~Q(need__status__in=SOLVED_NEED)))
    totals: dict = {}
    for qs in (needs, follow_ups):
        qs = qs.filter(_visit_scope(user, "visit__")).order_by()
        if group is None:
            rows = [(None, qs.count())]
        else:
            rows = qs.annotate(key=group).values("key").annotate(n=Count("pk")).values_list(
                "key", "n")
        for key, n in rows:
            totals[key] = totals.get(key, 0) + n
    return totals


def _pairing_figures(pairings: QuerySet[Pairing], campaign: VisitCampaign, group=None) -> dict:
    """Pairings and pairings visited at least once, in total (key None) or per ``group``."""
    visited = Visit.objects.filter(campaign=campaign, pairing__isnull=False).values("pairing_id")
    measures = {"pairings": Count("pk"),
                "pairings_visited": Count("pk", filter=Q(pk__in=visited))}
    qs = pairings.order_by().select_related(None)
    if group is None:
        return {None: qs.aggregate(**measures)}
    rows = qs.annotate(key=group).values("key").annotate(**measures)
    return {row.pop("key"): row for row in rows}


def _meets(access, unit: OrgUnit) -> bool:
    """Does the user's ``visits.view`` area overlap ``unit``'s subtree?"""
    for grant in access.grants_for(VIEW):
        if grant.scope == DataScope.ALL:
            return True
        if grant.scope == DataScope.UNIT_AND_BELOW and (
                unit.path.startswith(grant.unit_path) or grant.unit_path.startswith(unit.path)):
            return True
        if grant.scope == DataScope.UNIT and grant.unit_path.startswith(unit.path):
            return True
    return False


def campaign_dashboard(*, user, campaign: VisitCampaign,
                       today: dt.date | None = None) -> CampaignDashboard:
    """The campaign's KPIs as ``user`` may see them (see the module docstring)."""
    today = today or timezone.localdate()
    access = access_for(user)
    covered = covered_units_of(campaign)
    visits = Visit.objects.filter(campaign=campaign).filter(_visit_scope(user))
    pairings = pairings_visible_to(user=user, campaign=campaign)

    # totals
    totals = Figures(**_pairing_figures(pairings, campaign)[None],
                     **_visit_figures(visits)[None], solved=_solved(campaign, user).get(None, 0))
    rating = visits.order_by().aggregate(avg=Avg("satisfaction"), n=Count("satisfaction"))
    average = (Decimal(str(rating["avg"])).quantize(Decimal("0.1"), ROUND_HALF_UP)
               if rating["avg"] is not None else None)

    # per cadre: every cadre with a visible pairing; their visits are the ones they recorded
    period, done = _elapsed(campaign, today)
    by_cadre = _pairing_figures(pairings, campaign, F("cadre_id"))
    cadre_visits = _visit_figures(visits, F("recorded_by_id"))
    cadre_solved = _solved(campaign, user, F("visit__recorded_by_id"))
    names = {pk: (f"{first} {last}".strip() or username, username) for pk, first, last, username
             in User.objects.filter(pk__in=pairings.values("cadre_id"))
             .values_list("pk", "first_name", "last_name", "username")}
    cadres = []
    for cadre_id, figures in by_cadre.items():
        name, username = names.get(cadre_id, ("", ""))
        row = CadreRow(**figures, **cadre_visits.get(cadre_id, {}),
                       solved=cadre_solved.get(cadre_id, 0), cadre_id=cadre_id, name=name,
                       username=username)
        # behind: visited / pairings < done / period, compared exactly in integers
        row.behind = row.pairings > 0 and row.pairings_visited * period < row.pairings * done
        cadres.append(row)
    cadres.sort(key=lambda r: (not r.behind, Decimal(r.pairings_visited) / (r.pairings or 1),
                               r.username))

    # per covered unit (covered units never nest, so each row falls under one of them)
    units = []
    if covered:
        by_unit_pairings = _pairing_figures(pairings, campaign,
                                            _bucket("org_unit__path", covered))
        by_unit_visits = _visit_figures(visits, _bucket("org_unit__path", covered))
        by_unit_solved = _solved(campaign, user, _bucket("visit__org_unit__path", covered))
        for unit in covered:
            has_data = unit.pk in by_unit_pairings or unit.pk in by_unit_visits
            if not (has_data or _meets(access, unit)):
                continue
            units.append(UnitRow(**by_unit_pairings.get(unit.pk, {}),
                                 **by_unit_visits.get(unit.pk, {}),
                                 solved=by_unit_solved.get(unit.pk, 0), unit=unit))

    targets = [Target("units", campaign.target_units, totals.units_visited),
               Target("workers", campaign.target_workers, totals.workers_visited)]
    partial = not all(access.covers_unit(VIEW, unit) for unit in covered) if covered else True
    return CampaignDashboard(
        campaign=campaign, today=today, period_days=period, elapsed_days=done, totals=totals,
        satisfaction_avg=average, satisfaction_count=rating["n"], targets=targets,
        cadres=cadres, units=units, partial=partial,
    )
