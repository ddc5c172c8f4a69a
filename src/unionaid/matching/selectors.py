"""Scoped reads of matching data.

* Sources are configuration, not personal data: a user with ``matching.view`` sees the sources
  of the units in their scope and of those units' ancestors (a station uses the bureau's 低保
  source).
* Datasets, their records and runs belong to the dataset's unit: ``scope_q(perm,
  unit_field="org_unit")`` (``dataset__org_unit`` for runs).
* Matches and review items belong to the matched member's unit: a cadre sees only matches of
  members in their scope, whatever unit imported the list.

Single records come only through the ``*_get_for_user`` getters (``audit.scoped.get_in_scope``:
out of scope = not found, the denial journaled).
"""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from unionaid.accounts.access import access_for
from unionaid.audit.scoped import get_in_scope, scoped_getter
from unionaid.matching.models import (
    Dataset,
    ExternalRecord,
    Match,
    MatchRun,
    MatchStatus,
    Source,
)
from unionaid.members.models import Member
from unionaid.members.selectors import members_visible_to
from unionaid.org.models import OrgUnit

VIEW = "matching.view"
MANAGE = "matching.manage"
REVIEW = "matching.review"
CONFIG = "matching.config"


# -- sources ---------------------------------------------------------------------------------------

def _sources_q(user, perm: str) -> Q:
    access = access_for(user)
    q = access.scope_q(perm, unit_field="org_unit")
    ancestors: set[str] = set()
    for grant in access.grants_for(perm):
        path = grant.unit_path
        ancestors.update(path[:i] for i in range(OrgUnit.steplen, len(path), OrgUnit.steplen))
    if ancestors:
        q |= Q(org_unit__path__in=sorted(ancestors))
    return q


def sources_visible_to(*, user, perm: str = VIEW, active_only: bool = False) -> QuerySet[Source]:
    qs = Source.objects.filter(_sources_q(user, perm)).select_related("org_unit")
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("kind", "name", "pk")


@scoped_getter
def source_get_for_user(*, user, pk, perm: str = VIEW) -> Source:
    """A source of the user's units or their ancestors (to upload to it, or to see it)."""
    return get_in_scope(user=user, pk=pk, perm=perm, target_type="matching.source",
                        queryset=Source.objects.select_related("org_unit"),
                        scope=_sources_q(user, perm))


# -- datasets and their records --------------------------------------------------------------------

def datasets_visible_to(*, user, perm: str = VIEW, source: Source | None = None,
                        status: str | None = None) -> QuerySet[Dataset]:
    qs = Dataset.objects.filter(access_for(user).scope_q(perm, unit_field="org_unit"))
    if source is not None:
        qs = qs.filter(source=source)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("source", "org_unit", "uploaded_by", "current_run").order_by(
        "-created_at", "-pk")


@scoped_getter
def dataset_get_for_user(*, user, pk, perm: str = VIEW) -> Dataset:
    return get_in_scope(
        user=user, pk=pk, perm=perm, target_type="matching.dataset",
        queryset=Dataset.objects.select_related("source", "org_unit", "uploaded_by",
                                                "current_run"),
    )


def dataset_records(*, dataset: Dataset, with_problems: bool = False) -> QuerySet[ExternalRecord]:
    """The records of a dataset the caller already reached through ``dataset_get_for_user``."""
    qs = dataset.records.all()
    if with_problems:
        qs = qs.exclude(problems=[])
    return qs.order_by("row_no", "pk")


# -- runs ------------------------------------------------------------------------------------------

def runs_of(*, dataset: Dataset) -> QuerySet[MatchRun]:
    return dataset.runs.select_related("started_by").order_by("-created_at", "-pk")


@scoped_getter
def run_get_for_user(*, user, pk, perm: str = VIEW) -> MatchRun:
    return get_in_scope(
        user=user, pk=pk, perm=perm, unit_field="dataset__org_unit",
        target_type="matching.matchrun",
        queryset=MatchRun.objects.select_related("dataset__org_unit", "dataset__source",
                                                 "started_by"),
    )


def run_members(*, run: MatchRun) -> QuerySet[Member]:
    """The members a run links against: those its starter may match, in the dataset's unit."""
    return members_visible_to(user=run.started_by, perm=MANAGE).filter(
        org_unit__path__startswith=run.dataset.org_unit.path)


# -- matches and the review queue ------------------------------------------------------------------

def _matches_q(user, perm: str) -> Q:
    return access_for(user).scope_q(perm, unit_field="member__org_unit", self_field=None)


def matches_visible_to(*, user, perm: str = VIEW, run: MatchRun | None = None,
                       dataset: Dataset | None = None,
                       status: str | None = None) -> QuerySet[Match]:
    """Matches of members in the user's scope (a run's, a dataset's current run's, or all)."""
    qs = Match.objects.filter(_matches_q(user, perm))
    if run is not None:
        qs = qs.filter(run=run)
    if dataset is not None:
        qs = qs.filter(dataset=dataset, run=F("dataset__current_run"))
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("member__org_unit", "record", "dataset__source", "run",
                             "decided_by").order_by("-score", "pk")


def review_queue(*, user, dataset: Dataset | None = None) -> QuerySet[Match]:
    """Uncertain matches waiting for a decision, of members the user may review, from each
    dataset's current run only (an older run's are superseded)."""
    qs = Match.objects.filter(_matches_q(user, REVIEW), status=MatchStatus.REVIEW,
                              run=F("dataset__current_run"))
    if dataset is not None:
        qs = qs.filter(dataset=dataset)
    return qs.select_related("member__org_unit", "record", "dataset__source").order_by(
        "-score", "pk")


@scoped_getter
def match_get_for_user(*, user, pk, perm: str = VIEW) -> Match:
    """A match of a member in the user's scope; reading it reads the member's data (logged)."""
    return get_in_scope(
        user=user, pk=pk, perm=perm, unit_field="member__org_unit",
        scope=_matches_q(user, perm), target_type="matching.match", log_read="member_id",
        queryset=Match.objects.select_related("member__org_unit", "record", "dataset__source",
                                              "run", "decided_by"),
    )


def linked_matches(*, dataset: Dataset | None = None, kinds: list[str] | None = None
                   ) -> QuerySet[Match]:
    """Every "this member is on that list" link, unscoped, for system work (the lead rules):
    matched or confirmed matches of each dataset's current run whose record is still kept.
    ``kinds``: only datasets of these source kinds (SourceKind values). Pages and the API go
    through ``matches_visible_to`` instead."""
    qs = Match.objects.filter(status__in=Match.LINKED, run=F("dataset__current_run"),
                              record__isnull=False)
    if dataset is not None:
        qs = qs.filter(dataset=dataset)
    if kinds:
        qs = qs.filter(dataset__source__kind__in=kinds)
    return qs.select_related("member__org_unit", "record", "dataset__source").order_by("pk")
