"""Writing and verifying the audit journal.

``audit_record`` is called by every service that changes state, inside that service's
transaction, so the journal entry commits or rolls back with the change itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from unionaid.audit.models import AuditEvent
from unionaid.core import context

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
    from unionaid.accounts.access import access_for  # local import: accounts depends on audit

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
    """Append one event to the hash chain. Must run inside the caller's transaction."""
    actor_id, label, positions = _actor_fields(actor)
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
        target_label = target_label or str(target)[:200]
    # No savepoint of its own: the event commits or rolls back with the caller's change.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
        prev_id, prev_hash = last if last else (0, GENESIS)
        event = AuditEvent(
            id=prev_id + 1,
            occurred_at=timezone.now(),
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
            prev_hash=prev_hash,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
    return event


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
