"""Watch lists (动态管理清单): key groups followed over time, kept by rule and by hand.

Rule lists, recomputed by ``watchlists_refresh`` (the ``watch_refresh`` command, nightly):

* ``edge`` (边缘困难职工): active members with no open hardship record whose LATEST household
  profile has a per-capita monthly income below ``edge_multiplier`` × their 低保 line (the line
  of their unit for the current year). Exactly at the edge is not on the list. Members whose
  unit has no line for the year are skipped and counted.
* ``gig`` (新就业形态劳动者): active members whose employment form is ``new_employment_form``.
* ``firm_difficulty`` (困难企业职工): active members of a unit marked in ``DifficultUnit``, or of
  any unit below it.

``model_worker`` and ``other`` are kept by hand only (``watch_add`` / ``watch_remove``).
A member holds at most one active entry per list: a hand entry stops the rule from adding its
own, and the refresh never touches hand entries. A rule entry that no longer matches gets
``removed_at``; history is kept.

The refresh is set-based: the matching members of each list are found by a few SQL queries
(the latest profile per member through a correlated subquery), never by walking every member
in Python. The edge rule resolves the line once per distinct unit that has a profiled
candidate, groups units by their threshold, and queries each group in chunks of unit ids.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.archive.category import dibao_standard_for, rules_for
from unionaid.archive.models import (
    OPEN_STATUSES,
    DifficultUnit,
    HardshipRecord,
    WatchEntry,
    WatchKind,
    WatchSource,
)
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.members.models import EmploymentForm, Member, MembershipStatus
from unionaid.members.services import require_unit_perm
from unionaid.org.models import OrgUnit
from unionaid.visits.models import HouseholdProfile

MANAGE = "archive.manage"
RULE_KINDS = (WatchKind.EDGE, WatchKind.GIG, WatchKind.FIRM_DIFFICULTY)
MANUAL_ONLY_KINDS = (WatchKind.MODEL_WORKER, WatchKind.OTHER)
UNIT_CHUNK = 500  # unit ids per IN (...) list: well inside SQLite's parameter limit
WRITE_BATCH = 2000


# -- the rules, as querysets ---------------------------------------------------------------------

def latest_profile_income() -> Subquery:
    """The per-capita monthly income of the member's latest profile (newest ``taken_on``, then
    newest id), as a correlated subquery over ``Member``."""
    return Subquery(
        HouseholdProfile.objects.filter(member=OuterRef("pk"))
        .order_by("-taken_on", "-id").values("per_capita_monthly")[:1])


def _active_members() -> QuerySet[Member]:
    return Member.objects.filter(membership_status=MembershipStatus.ACTIVE)


def edge_candidates() -> QuerySet[Member]:
    """Active members with at least one profile and no open hardship record."""
    open_record = HardshipRecord.objects.filter(member=OuterRef("pk"), status__in=OPEN_STATUSES)
    profiled = HouseholdProfile.objects.filter(member=OuterRef("pk"))
    return _active_members().filter(Exists(profiled)).exclude(Exists(open_record))


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _line_amount(unit: OrgUnit, year: int) -> Decimal | None:
    """The unit's 低保 line (yuan per person per month) for ``year``, or None."""
    try:
        return dibao_standard_for(unit, year).monthly_amount
    except ServiceError as exc:
        if exc.code == "no_dibao_line":
            return None
        raise


def _edge_multiplier(unit: OrgUnit) -> Decimal:
    return Decimal(rules_for(unit).edge_multiplier)


def edge_thresholds(year: int) -> tuple[dict[tuple[Decimal, Decimal], list[int]], list[int]]:
    """Group the units of edge candidates by (line, multiplier). Returns the groups and the
    units that have no line for ``year``. One line lookup per distinct unit."""
    unit_ids = list(edge_candidates().order_by().values_list("org_unit_id", flat=True).distinct())
    groups: dict[tuple[Decimal, Decimal], list[int]] = defaultdict(list)
    no_line: list[int] = []
    for chunk in _chunks(sorted(unit_ids), UNIT_CHUNK):
        for unit in OrgUnit.objects.filter(pk__in=chunk):
            line = _line_amount(unit, year)
            if line is None:
                no_line.append(unit.pk)
            else:
                groups[(line, _edge_multiplier(unit))].append(unit.pk)
    return dict(groups), no_line


def _edge_matches(year: int) -> tuple[dict[int, tuple[int, str]], int]:
    """member id → (unit id, reason) for the edge rule, and the number of candidates skipped
    because their unit has no line."""
    groups, no_line = edge_thresholds(year)
    matches: dict[int, tuple[int, str]] = {}
    for (line, multiplier), unit_ids in groups.items():
        threshold = (line * multiplier).quantize(Decimal("0.01"))
        reason = _("人均月收入低于 %(threshold)s 元（低保标准 %(line)s 元的 %(mult)s 倍）") % {
            "threshold": threshold, "line": line, "mult": multiplier.normalize()}
        for chunk in _chunks(unit_ids, UNIT_CHUNK):
            rows = (edge_candidates().filter(org_unit_id__in=chunk)
                    .annotate(latest_income=latest_profile_income())
                    .filter(latest_income__lt=threshold)
                    .values_list("pk", "org_unit_id"))
            for member_id, unit_id in rows:
                matches[member_id] = (unit_id, reason)
    skipped = sum(edge_candidates().filter(org_unit_id__in=chunk).count()
                  for chunk in _chunks(no_line, UNIT_CHUNK))
    return matches, skipped


def _gig_matches() -> dict[int, tuple[int, str]]:
    reason = _("用工形式为新就业形态劳动者")
    rows = (_active_members().filter(employment_form=EmploymentForm.NEW_EMPLOYMENT_FORM)
            .values_list("pk", "org_unit_id"))
    return {member_id: (unit_id, reason) for member_id, unit_id in rows}


def _firm_matches(within: OrgUnit | None = None) -> dict[int, tuple[int, str]]:
    """member id → (unit id, reason) for the firm-difficulty rule; with ``within``, only the
    members of that unit's subtree (every mark that can reach them is still considered)."""
    marked = list(DifficultUnit.objects.select_related("org_unit")
                  .values_list("org_unit__path", "org_unit__name"))
    matches: dict[int, tuple[int, str]] = {}
    # The deepest marked unit names the reason when marked units nest.
    for path, name in sorted(marked, key=lambda row: len(row[0])):
        if within is not None and not (within.path.startswith(path)
                                       or path.startswith(within.path)):
            continue  # a mark elsewhere in the tree: none of its members are in ``within``
        reason = _("所在单位“%(unit)s”为困难企业") % {"unit": name}
        members = _active_members().filter(org_unit__path__startswith=path)
        if within is not None:
            members = members.filter(org_unit__path__startswith=within.path)
        for member_id, unit_id in members.values_list("pk", "org_unit_id"):
            matches[member_id] = (unit_id, reason)
    return matches


# -- keeping a list in step with its rule --------------------------------------------------------

def _sync(kind: str, matches: dict[int, tuple[int, str]], now: dt.datetime,
          within: OrgUnit | None = None) -> dict[str, int]:
    """Make the active rule entries of ``kind`` equal ``matches``; hand entries are untouched
    (and stop the rule from adding a second entry for their member). With ``within`` only the
    entries of members now in that unit's subtree are considered (``matches`` must be computed
    for the same subtree)."""
    active = WatchEntry.objects.filter(kind=kind, removed_at__isnull=True)
    if within is not None:
        active = active.filter(member__org_unit__path__startswith=within.path)
    rule_entries = dict(active.filter(source=WatchSource.RULE).values_list("member_id", "pk"))
    manual = set(active.filter(source=WatchSource.MANUAL).values_list("member_id", flat=True))
    gone = [pk for member_id, pk in rule_entries.items() if member_id not in matches]
    for chunk in _chunks(gone, WRITE_BATCH):
        WatchEntry.objects.filter(pk__in=chunk).update(removed_at=now)
    new = [WatchEntry(member_id=member_id, org_unit_id=unit_id, kind=kind,
                      source=WatchSource.RULE, reason=reason[:300])
           for member_id, (unit_id, reason) in matches.items()
           if member_id not in rule_entries and member_id not in manual]
    WatchEntry.objects.bulk_create(new, batch_size=WRITE_BATCH)
    # A member who moved keeps their entry; it follows them to their new unit (for scope).
    member_unit = Subquery(
        Member.objects.filter(pk=OuterRef("member_id")).values("org_unit_id")[:1])
    moved = (active.filter(source=WatchSource.RULE).exclude(org_unit_id=member_unit)
             .update(org_unit_id=member_unit))
    return {"matched": len(matches), "added": len(new), "removed": len(gone), "moved": moved}


def may_refresh_watchlists(actor) -> bool:
    """A refresh recomputes the lists of the whole tree in one write transaction, so from a
    page or the API only someone whose ``archive.manage`` covers every root unit may start
    it (the nightly command runs it without an actor)."""
    access = access_for(actor)
    roots = list(OrgUnit.objects.get_root_nodes())
    return bool(roots) and all(access.covers_unit(MANAGE, root) for root in roots)


def _require_refresh(actor) -> None:
    if actor is not None and not may_refresh_watchlists(actor):
        raise PermissionDenied(
            _("按规则刷新会重算全系统的清单，须由管理全部单位困难职工档案的管理员执行；"
              "清单每晚自动刷新。"), code="refresh_not_allowed")


@transaction.atomic
def watchlists_refresh(*, actor=None, today: dt.date | None = None,
                       kinds: Iterable[str] = RULE_KINDS) -> dict:
    """Recompute the rule lists (all of them, or ``kinds``). Idempotent: a second run changes
    nothing. Returns per-list counts (matched, added, removed, moved) and ``edge_skipped_no_line``;
    the audit event holds the counts only. ``actor`` None is the nightly command; a person
    needs ``archive.manage`` over every root unit (``may_refresh_watchlists``)."""
    _require_refresh(actor)
    today = today or timezone.localdate()
    now = timezone.now()
    kinds = [WatchKind(k) for k in kinds]
    if any(k not in RULE_KINDS for k in kinds):
        raise ServiceError(_("该清单只能手工维护。"), code="manual_only")
    result: dict = {}
    try:
        with transaction.atomic():
            if WatchKind.EDGE in kinds:
                matches, skipped = _edge_matches(today.year)
                result[WatchKind.EDGE.value] = _sync(WatchKind.EDGE, matches, now)
                result["edge_skipped_no_line"] = skipped
            if WatchKind.GIG in kinds:
                result[WatchKind.GIG.value] = _sync(WatchKind.GIG, _gig_matches(), now)
            if WatchKind.FIRM_DIFFICULTY in kinds:
                result[WatchKind.FIRM_DIFFICULTY.value] = _sync(
                    WatchKind.FIRM_DIFFICULTY, _firm_matches(), now)
    except IntegrityError:
        raise Conflict(_("清单正在被同时刷新或修改，请稍后重试。"), code="watch_busy") from None
    audit_record(actor=actor, action="watch.refresh", target_type="archive.watchentry",
                 target_label="watchlists", changes={"year": today.year, **result})
    return result


# -- by hand -------------------------------------------------------------------------------------

@transaction.atomic
def watch_add(*, actor, member: Member, kind: str, reason: str) -> WatchEntry:
    """Put a member on a list by hand (any list; ``model_worker`` and ``other`` only this way).
    A member already on that list (by rule or by hand) is a Conflict."""
    member = (Member.objects.select_for_update(of=("self",)).select_related("org_unit")
              .get(pk=member.pk))
    require_unit_perm(actor, MANAGE, member.org_unit)
    try:
        kind = WatchKind(kind)
    except ValueError:
        raise ServiceError(_("请选择清单。"), code="invalid_kind",
                           fields={"kind": _("请选择清单。")}) from None
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("请填写列入清单的原因。"), code="reason_required",
                           fields={"reason": _("请填写原因。")})
    if WatchEntry.objects.filter(member=member, kind=kind, removed_at__isnull=True).exists():
        raise Conflict(_("该职工已在“%(list)s”清单中。") % {"list": kind.label},
                       code="already_watched")
    entry = WatchEntry.objects.create(member=member, org_unit_id=member.org_unit_id, kind=kind,
                                      source=WatchSource.MANUAL, reason=reason[:300],
                                      added_by=actor)
    audit_record(actor=actor, action="watch.add", target=entry,
                 org_unit_path=member.org_unit.path,
                 changes={"member": member.pk, "kind": kind.value, "reason_chars": len(reason)})
    return entry


@transaction.atomic
def watch_remove(*, actor, entry: WatchEntry, reason: str) -> WatchEntry:
    """Take a member off a list (a hand entry, or a rule entry the cadre disagrees with — the
    next refresh puts a rule entry back while the rule still matches). Idempotent."""
    entry = (WatchEntry.objects.select_for_update(of=("self",)).select_related("org_unit")
             .get(pk=entry.pk))
    require_unit_perm(actor, MANAGE, entry.org_unit)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("请填写移出清单的原因。"), code="reason_required",
                           fields={"reason": _("请填写原因。")})
    if entry.removed_at is not None:
        return entry
    entry.removed_at = timezone.now()
    entry.save(update_fields=["removed_at"])
    audit_record(actor=actor, action="watch.remove", target=entry,
                 org_unit_path=entry.org_unit.path,
                 changes={"member": entry.member_id, "kind": entry.kind,
                          "source": entry.source, "reason_chars": len(reason)})
    return entry


@transaction.atomic
def difficult_unit_add(*, actor, unit: OrgUnit, since: dt.date, note: str = "") -> DifficultUnit:
    """Mark a unit (enterprise) as in difficulty; its members join the firm-difficulty list
    at once (that list is brought in step for the unit's subtree in the same transaction)."""
    require_unit_perm(actor, MANAGE, unit)
    if since > timezone.localdate():
        raise ServiceError(_("认定日期不能晚于今天。"), code="invalid_date",
                           fields={"since": _("认定日期不能晚于今天。")})
    if DifficultUnit.objects.filter(org_unit=unit).exists():
        raise Conflict(_("该单位已认定为困难企业。"), code="already_marked")
    marked = DifficultUnit.objects.create(org_unit=unit, since=since, note=(note or "")[:200],
                                          added_by=actor)
    audit_record(actor=actor, action="difficult_unit.add", target=marked,
                 org_unit_path=unit.path, changes={"unit": unit.name, "since": since.isoformat()})
    _refresh_firm_list(unit)
    return marked


@transaction.atomic
def difficult_unit_remove(*, actor, marked: DifficultUnit, reason: str = "") -> None:
    """Lift the mark; the unit's rule entries leave the firm-difficulty list at once (unless
    a mark on an ancestor still covers them). The journal keeps the reason's length only."""
    marked = (DifficultUnit.objects.select_for_update(of=("self",)).select_related("org_unit")
              .get(pk=marked.pk))
    require_unit_perm(actor, MANAGE, marked.org_unit)
    unit = marked.org_unit
    marked.delete()
    audit_record(actor=actor, action="difficult_unit.remove", target_type="archive.difficultunit",
                 target_id=unit.pk, target_label=unit.name, org_unit_path=unit.path,
                 changes={"unit": unit.name, "reason_chars": len((reason or "").strip())})
    _refresh_firm_list(unit)


def _refresh_firm_list(unit: OrgUnit) -> None:
    """Bring the firm-difficulty list in step for the members of ``unit``'s subtree, the only
    ones a mark on ``unit`` (or its removal) can change."""
    _sync(WatchKind.FIRM_DIFFICULTY, _firm_matches(within=unit), timezone.now(), within=unit)


__all__ = [
    "MANUAL_ONLY_KINDS", "RULE_KINDS", "difficult_unit_add", "difficult_unit_remove",
    "edge_candidates", "latest_profile_income", "may_refresh_watchlists", "watch_add",
    "watch_remove", "watchlists_refresh",
]
