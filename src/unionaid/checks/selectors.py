"""Reads of the auditor's checks, always within the reader's ``checks.view`` scope: a finding,
sample or sampled case belongs to one org unit, and a reader sees it only when a grant covers
that unit (a station auditor never sees a finding that reaches outside their subtree). Single
records come through the scoped getters below; the read of a finding or case about a member is
written to the read log.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from unionaid.audit.reads import read_record
from unionaid.audit.scoped import get_in_scope, scoped_getter
from unionaid.checks import registry
from unionaid.checks.models import (
    CheckRun,
    Finding,
    FindingStatus,
    ReviewOutcome,
    Sample,
    SampledCase,
)
from unionaid.core.access import SCOPE_ALL, access_for
from unionaid.core.errors import NotFound

VIEW = "checks.view"
FINDINGS_SHOWN = 200  # a check's page lists this many findings per status; narrow it for more


def scope_paths(*, user, perm: str = VIEW) -> list[str] | None:
    """The subtrees ``user`` covers with ``perm``: None for the whole tree, else the unit paths
    of their grants (no grant: an empty list, nothing)."""
    paths = []
    for grant in access_for(user).grants_for(perm):
        if grant.scope == SCOPE_ALL:
            return None
        if grant.unit_path:
            paths.append(grant.unit_path)
    return paths


def findings_visible_to(*, user) -> QuerySet[Finding]:
    return Finding.objects.filter(access_for(user).scope_q(VIEW, unit_field="org_unit"))


@dataclass(frozen=True)
class CheckSummary:
    check: registry.Check
    open: int
    explained: int
    resolved: int
    last_run: CheckRun | None


def checks_overview(*, user) -> list[CheckSummary]:
    """Every registered check with its open / explained / resolved counts in ``user``'s scope
    and its last run (one grouped query, one for the runs)."""
    counts: dict[tuple[str, str], int] = {
        (row["check_key"], row["status"]): row["n"]
        for row in findings_visible_to(user=user).values("check_key", "status")
        .annotate(n=Count("pk")).order_by()}
    keys = [c.key for c in registry.checks()]
    last: dict[str, CheckRun] = {}
    for run in CheckRun.objects.filter(check_key__in=keys).order_by("-started_at", "-pk")[:500]:
        last.setdefault(run.check_key, run)
    return [CheckSummary(check=c, open=counts.get((c.key, FindingStatus.OPEN), 0),
                         explained=counts.get((c.key, FindingStatus.EXPLAINED), 0),
                         resolved=counts.get((c.key, FindingStatus.RESOLVED), 0),
                         last_run=last.get(c.key))
            for c in registry.checks()]


def check_for(key: str) -> registry.Check:
    """The registered check ``key``; an unknown one is "not found"."""
    check = registry.check_or_none(key)
    if check is None:
        raise NotFound()
    return check


def check_findings(*, user, key: str, status: str = FindingStatus.OPEN) -> QuerySet[Finding]:
    """The findings of check ``key`` in ``user``'s scope with ``status`` ("" = all), the largest
    amounts first."""
    check_for(key)
    qs = findings_visible_to(user=user).filter(check_key=key)
    if status:
        qs = qs.filter(status=status)
    return (qs.select_related("org_unit", "explained_by")
            .order_by("-amount", "-last_seen_at", "-pk"))


def _log_other_members(*, user, finding: Finding) -> None:
    """A finding about several members (one bank account for three) reads each of them."""
    for ref in finding.records:
        if ref.get("kind") == "members.member" and ref.get("id") != finding.member_id:
            read_record(user=user, member_id=ref["id"], target_type="checks.finding",
                        target_id=finding.pk, org_unit_path=finding.org_unit.path)


@scoped_getter
def finding_get_for_user(*, user, pk) -> Finding:
    """One finding in ``user``'s checks.view scope, its explanation notes loaded; the read of
    each member it concerns goes to the read log."""
    finding = get_in_scope(
        user=user, queryset=Finding.objects.select_related("org_unit", "explained_by")
        .prefetch_related("notes__created_by"),
        pk=pk, target_type="checks.finding", perm=VIEW, log_read="member_id")
    _log_other_members(user=user, finding=finding)
    return finding


def findings_concerning(*, user, kind: str, ids: list) -> list[Finding]:
    """The findings in ``user``'s scope that name one of the records ``kind``/``ids`` (for the
    auditor's search: a payment's or a member's findings). Few rows: read in Python."""
    wanted = {str(i) for i in ids}
    if not wanted:
        return []
    found = []
    qs = findings_visible_to(user=user).exclude(status=FindingStatus.RESOLVED)
    if kind == "members.member":
        qs = qs.filter(Q(member_id__in=[int(i) for i in wanted]) | Q(records__icontains=kind))
    for finding in qs.order_by("-pk")[:2000]:
        refs = {(r.get("kind"), str(r.get("id"))) for r in finding.records}
        if (kind == "members.member" and str(finding.member_id) in wanted) or any(
                (kind, i) in refs for i in wanted):
            found.append(finding)
    return found


def findings_by_payment(*, user, payments) -> dict[int, list[Finding]]:
    """payment id -> the open or explained findings in ``user``'s scope that name the payment
    or are about its member (for the auditor's search results)."""
    by_payment = findings_concerning(user=user, kind="funds.disbursement",
                                     ids=[d.pk for d in payments])
    by_member = findings_concerning(user=user, kind="members.member",
                                    ids=[d.member_id for d in payments])
    flagged = {}
    for d in payments:
        hits = {f.pk: f for f in by_payment if any(
            r.get("kind") == "funds.disbursement" and str(r.get("id")) == str(d.pk)
            for r in f.records)}
        hits.update({f.pk: f for f in by_member if f.member_id == d.member_id})
        flagged[d.pk] = list(hits.values())
    return flagged


# -- samples ----------------------------------------------------------------------------------

def _sample_scope(user) -> Q:
    """A sample drawn over ``user``'s units, or holding a case of one of them (a station
    auditor reviews their cases of a sample drawn over the bureau)."""
    rights = access_for(user)
    return rights.scope_q(VIEW, unit_field="org_unit") | Q(
        pk__in=SampledCase.objects.filter(rights.scope_q(VIEW, unit_field="org_unit"))
        .values("sample_id"))


def samples_visible_to(*, user) -> QuerySet[Sample]:
    return (Sample.objects.filter(_sample_scope(user))
            .select_related("org_unit", "drawn_by")
            .annotate(case_count=Count("cases"),
                      reviewed=Count("cases", filter=~Q(cases__outcome=ReviewOutcome.PENDING)),
                      issues=Count("cases", filter=Q(cases__outcome=ReviewOutcome.ISSUE)))
            .order_by("-drawn_at", "-pk"))


@scoped_getter
def sample_get_for_user(*, user, pk) -> Sample:
    return get_in_scope(user=user, queryset=Sample.objects.select_related("org_unit", "drawn_by"),
                        pk=pk, target_type="checks.sample", perm=VIEW,
                        scope=_sample_scope(user))


PARAM_LABELS = {"percent": _("抽取比例（%）"), "min_amount": _("金额不低于（元）"),
                "item": _("帮扶项目"), "date_from": _("发放日期自"), "date_to": _("发放日期至")}


def sample_rule_in_words(sample: Sample) -> list[tuple[str, str]]:
    """The sample's rule parameters for people: (label, value), an item by its name."""
    population = registry.population_or_none(sample.population)
    items = dict(population.items()) if population and "item" in sample.params else {}
    return [(str(PARAM_LABELS.get(key, key)),
             items.get(value, value) if key == "item" else str(value))
            for key, value in sample.params.items()]


def sample_cases(*, user, sample: Sample) -> QuerySet[SampledCase]:
    """The cases of ``sample`` in ``user``'s scope (a sample drawn over the bureau shows a
    station auditor their own cases only)."""
    return (SampledCase.objects.filter(access_for(user).scope_q(VIEW, unit_field="org_unit"))
            .filter(sample=sample).select_related("org_unit", "reviewer").order_by("pk"))


@scoped_getter
def sampled_case_get_for_user(*, user, pk) -> SampledCase:
    return get_in_scope(
        user=user, queryset=SampledCase.objects.select_related("org_unit", "reviewer", "sample"),
        pk=pk, target_type="checks.sampledcase", perm=VIEW, log_read="member_id")
