"""Reads of the audit journal, for holders of ``audit.view`` (审计管理员).

Every read (a list page, one event, an export) is itself journaled as ``audit.read`` with the
filters used, so the auditors are audited too. Scope: a grant over "all" sees every event; a
unit grant sees the events recorded against its unit (or subtree). Paging is by id (keyset),
50 per page, never with a COUNT over the journal.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import asdict, dataclass

import xlsxwriter
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from unionaid.audit.models import AuditEvent, ReadEvent
from unionaid.audit.services import audit_record, compute_hash
from unionaid.core.access import SCOPE_ALL, SCOPE_UNIT, SCOPE_UNIT_AND_BELOW, access_for
from unionaid.core.errors import NotFound
from unionaid.core.spreadsheets import safe_row

AUDIT = "audit.view"
PAGE_SIZE = 50
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class AuditFilters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    outcome: str = ""

    def as_dict(self) -> dict:
        """The filters that are set, JSON-ready (for the journal entry of the read)."""
        return {k: (v.isoformat() if isinstance(v, dt.date) else v)
                for k, v in asdict(self).items() if v}


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditEvent]
    has_next: bool
    next_before: int | None


def _scope_q(access) -> Q:
    q = Q(pk__in=[])
    for grant in access.grants_for(AUDIT):
        if grant.scope == SCOPE_ALL:
            return Q()
        if grant.scope == SCOPE_UNIT_AND_BELOW and grant.unit_path:
            q |= Q(org_unit_path__startswith=grant.unit_path)
        elif grant.scope == SCOPE_UNIT and grant.unit_path:
            q |= Q(org_unit_path=grant.unit_path)
    return q


def audit_events_visible_to(*, user) -> QuerySet[AuditEvent]:
    access = access_for(user)
    if not access.has_perm(AUDIT):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(_scope_q(access))


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _filtered(qs: QuerySet, f: AuditFilters) -> QuerySet:
    if f.date_from:
        qs = qs.filter(occurred_at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(occurred_at__lt=_day_start(f.date_to + dt.timedelta(days=1)))
    if f.actor:
        qs = qs.filter(actor_label=f.actor)
    if f.action:
        # "auth." or "member.*" selects a family of actions; anything else is exact.
        if f.action.endswith((".", "*")):
            qs = qs.filter(action__startswith=f.action.rstrip("*"))
        else:
            qs = qs.filter(action=f.action)
    if f.target_type:
        qs = qs.filter(target_type=f.target_type)
    if f.target_id:
        qs = qs.filter(target_id=f.target_id)
    if f.outcome:
        qs = qs.filter(outcome=f.outcome)
    return qs


def _require(user) -> None:
    if not access_for(user).has_perm(AUDIT):
        raise NotFound()


def _journal_read(*, user, event_id: int | str = "", **changes) -> None:
    with transaction.atomic():
        audit_record(actor=user, action="audit.read", target_type="audit.auditevent",
                     target_id=event_id, changes=changes)


def audit_event_page(*, user, filters: AuditFilters, before: int | None = None) -> AuditPage:
    """One page of events, newest first, older than ``before`` (an event id)."""
    _require(user)
    qs = _filtered(audit_events_visible_to(user=user), filters).order_by("-id")
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs[: PAGE_SIZE + 1])
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    _journal_read(user=user, view="list", filters=filters.as_dict(), before=before,
                  rows=len(rows))
    return AuditPage(rows=rows, has_next=has_next,
                     next_before=rows[-1].id if has_next and rows else None)


def audit_event_get(*, user, pk) -> AuditEvent:
    _require(user)
    try:
        event = audit_events_visible_to(user=user).get(pk=int(pk))
    except (AuditEvent.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    _journal_read(user=user, view="detail", event_id=event.pk)
    return event


def event_hash_ok(event: AuditEvent) -> bool:
    return compute_hash(event) == event.hash


def change_rows(changes) -> list[dict]:
    """Flatten an event's ``changes`` into rows of {field, before, after, value} for display.

    Services write either ``{"before": {...}, "after": {...}}``, or ``{field: {"before": x,
    "after": y}}`` (``mask_changes``), or plain ``{key: value}``.
    """
    if not isinstance(changes, dict) or not changes:
        return []
    before, after = changes.get("before"), changes.get("after")
    if isinstance(before, dict) and isinstance(after, dict):
        rows = [{"field": k, "before": before.get(k), "after": after.get(k), "diff": True}
                for k in sorted(set(before) | set(after))]
        rest = {k: v for k, v in changes.items() if k not in ("before", "after")}
        return rows + change_rows(rest)
    rows = []
    for key in sorted(changes):
        value = changes[key]
        if isinstance(value, dict) and set(value) <= {"before", "after"} and value:
            rows.append({"field": key, "before": value.get("before"),
                         "after": value.get("after"), "diff": True})
        else:
            rows.append({"field": key, "value": value, "diff": False})
    return rows


EXPORT_HEADERS = ["编号", "时间", "操作人", "所任岗位", "IP", "操作", "结果", "对象类型",
                  "对象ID", "对象", "变更"]


def audit_export_xlsx(*, user, filters: AuditFilters) -> tuple[bytes, int]:
    """The filtered journal as .xlsx (at most EXPORT_LIMIT rows); returns (content, rows)."""
    _require(user)
    qs = _filtered(audit_events_visible_to(user=user), filters).order_by("-id")
    buffer = io.BytesIO()
    # strings_to_formulas off: write_row never turns text into a formula, whatever it begins with
    workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True, "remove_timezone": True,
                                            "strings_to_formulas": False})
    sheet = workbook.add_worksheet("审计日志")
    sheet.write_row(0, 0, EXPORT_HEADERS)
    local = timezone.get_current_timezone()
    count = 0
    for count, event in enumerate(qs[:EXPORT_LIMIT].iterator(chunk_size=2000), start=1):
        sheet.write_row(count, 0, safe_row([
            event.id, event.occurred_at.astimezone(local).strftime("%Y-%m-%d %H:%M:%S"),
            event.actor_label, event.actor_positions, event.ip or "", event.action,
            event.outcome, event.target_type, event.target_id, event.target_label,
            json.dumps(event.changes, ensure_ascii=False, default=str),
        ]))
    workbook.close()
    _journal_read(user=user, view="export", filters=filters.as_dict(), rows=count)
    return buffer.getvalue(), count


# -- the read log (who looked at whose personal data) ----------------------------------------

@dataclass(frozen=True)
class ReadFilters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    actor: str = ""
    member_id: int | None = None
    channel: str = ""

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v)
                for k, v in asdict(self).items() if v}


@dataclass(frozen=True)
class ReadPage:
    rows: list[ReadEvent]
    has_next: bool
    next_before: int | None


def read_events_visible_to(*, user) -> QuerySet[ReadEvent]:
    """Read events in the auditor's scope (by the unit of the record read, as for the journal)."""
    access = access_for(user)
    if not access.has_perm(AUDIT):
        return ReadEvent.objects.none()
    return ReadEvent.objects.filter(_scope_q(access))


def read_event_page(*, user, filters: ReadFilters, before: int | None = None) -> ReadPage:
    """One page of read events, newest first, older than ``before`` (a read event id). The
    auditor's look is journaled (``audit.read``, view "reads")."""
    _require(user)
    qs = read_events_visible_to(user=user)
    if filters.date_from:
        qs = qs.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    if filters.actor:
        qs = qs.filter(actor_label=filters.actor)
    if filters.member_id:
        qs = qs.filter(member_id=filters.member_id)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    qs = qs.order_by("-id")
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs[: PAGE_SIZE + 1])
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    _journal_read(user=user, view="reads", filters=filters.as_dict(), before=before,
                  rows=len(rows))
    return ReadPage(rows=rows, has_next=has_next,
                    next_before=rows[-1].id if has_next and rows else None)
