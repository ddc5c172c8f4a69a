"""Writing and verifying the audit journal.

``audit_record`` is called by every service that changes state, inside that service's
transaction, so the journal entry commits or rolls back with the change itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection, transaction
from django.utils import timezone

from unionaid.audit.models import AuditEvent
from unionaid.core import context
from unionaid.core.access import access_for

GENESIS = "0" * 64
_PG_LOCK_KEY = 7_420_001  # advisory lock serialising appends to the chain on PostgreSQL

HASHED_FIELDS = (
    "id", "occurred_at", "actor_id", "actor_label", "actor_positions", "ip", "action",
    "outcome", "target_type", "target_id", "target_label", "org_unit_path", "changes",
    "prev_hash",
)


def _canonical(event: AuditEvent) -> bytes:
    payload: dict[str, Any] = {}
    for name in HASHED_FIELDS:
        value = getattr(event, name)
        if name == "occurred_at":
            value = value.astimezone(dt.UTC).isoformat(timespec="microseconds")
        payload[name] = value
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def _actor_fields(actor) -> tuple[Any, str, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, "", ""
    positions = ", ".join(access_for(actor).position_labels)
    return actor.pk, actor.get_username(), positions[:500]


def audit_record(
    *,
    actor,
    action: str,
    target=None,
    target_type: str = "",
    target_id: str | int = "",
    target_label: str = "",
    changes: dict | None = None,
    outcome: str = "ok",
    org_unit_path: str = "",
    actor_label: str = "",
) -> AuditEvent:
    """Append one event to the hash chain. Must run inside the caller's transaction.

    Inside a service wrapped in ``atomic_audited`` the event is kept aside and written with
    the transaction's other events when that service ends (still before its commit); the
    returned event then has no id yet.
    """
    actor_id, label, positions = _actor_fields(actor)
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
        target_label = target_label or str(target)[:200]
    event = AuditEvent(
        actor_id=actor_id,
        actor_label=(actor_label or label)[:150],
        actor_positions=positions,
        ip=context.current().ip,
        action=action,
        outcome=outcome,
        target_type=target_type,
        target_id=str(target_id),
        target_label=target_label[:200],
        org_unit_path=org_unit_path,
        changes=changes or {},
    )
    buffer = getattr(connection, "_audit_buffer", None)
    if buffer is not None:
        # A marker callback ties the event to the savepoint it was recorded in: Django drops
        # the on_commit callbacks of a savepoint that rolls back, and so the flush drops the
        # event too (an error caught inside the service leaves no event behind).
        marker = _Marker()
        transaction.on_commit(marker)
        buffer.append((marker, event))
        return event
    # No savepoint of its own: the event commits or rolls back with the caller's change.
    with transaction.atomic(savepoint=False):
        _append([event])
    return event


class _Marker:
    __slots__ = ()

    def __call__(self) -> None:  # runs after commit; nothing to do
        return None


_TAIL_SQL = 'SELECT "id", "hash" FROM "audit_auditevent" ORDER BY "id" DESC LIMIT 1'


def _append(events: list[AuditEvent]) -> None:
    """Chain and insert ``events`` after the journal's tail, under the chain's lock (on
    PostgreSQL an advisory lock held to the end of the transaction; SQLite's writer lock is
    already exclusive). Every event of one call gets the same timestamp."""
    # Plain SQL for the two statements under the lock: the time between taking the lock and
    # the commit is the one part of every audited service that can't run in parallel.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        cursor.execute(_TAIL_SQL)
        last = cursor.fetchone()
    prev_id, prev_hash = last if last else (0, GENESIS)
    now = timezone.now()
    for event in events:
        prev_id += 1
        event.id, event.occurred_at, event.prev_hash = prev_id, now, prev_hash
        event.hash = prev_hash = compute_hash(event)
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        AuditEvent.objects.bulk_create(events)


F = TypeVar("F", bound=Callable[..., Any])


def atomic_audited(func: F) -> F:
    """``transaction.atomic`` for a service that writes several audit events: the events are
    collected while the service runs and appended to the chain together at its end, inside its
    transaction. The chain's lock (which serialises every writer on PostgreSQL) is then held
    for the last moments of the transaction instead of from its first event, so concurrent
    approvals overlap. Nested calls join the outermost one's batch. Events recorded inside a
    savepoint that rolled back are dropped, as the rows they describe are."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if getattr(connection, "_audit_buffer", None) is not None:
            with transaction.atomic():
                return func(*args, **kwargs)
        with transaction.atomic():
            connection._audit_buffer = buffer = []
            try:
                result = func(*args, **kwargs)
            finally:
                connection._audit_buffer = None
            alive = {id(callback) for _sids, callback, _robust in connection.run_on_commit}
            events = [event for marker, event in buffer if id(marker) in alive]
            if events:
                _append(events)
        return result

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    reason: str


def audit_verify(*, batch_size: int = 5000) -> Iterator[ChainProblem]:
    """Walk the whole chain and yield every place where it is broken.

    Detects an edited event (its hash no longer matches its content), a deleted event (a gap in
    the ids or a prev_hash that doesn't match the previous event) and a forged tail.
    """
    expected_prev, expected_id = GENESIS, 1
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.id != expected_id:
                yield ChainProblem(event.id, f"missing events {expected_id}..{event.id - 1}")
            if event.prev_hash != expected_prev:
                yield ChainProblem(event.id, "prev_hash does not match the previous event")
            if compute_hash(event) != event.hash:
                yield ChainProblem(event.id, "content does not match its hash (edited)")
            expected_prev, expected_id = event.hash, event.id + 1
        last_id = batch[-1].id


def mask_changes(before: dict, after: dict, *, sensitive: set[str], masker) -> dict:
    """Build the before/after dict of changed fields; sensitive values are masked."""
    diff = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key in sensitive:
            diff[key] = {"before": masker(key, old), "after": masker(key, new)}
        else:
            diff[key] = {"before": _jsonable(old), "after": _jsonable(new)}
    return diff


def _jsonable(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
