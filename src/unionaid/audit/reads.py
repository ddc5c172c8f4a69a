"""The read log: reads of a member's personal data, one plain INSERT each.

Kept apart from the journal (``audit.services``): a read takes no lock and touches no hash
chain, so many readers never queue behind each other or behind audited writes.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from unionaid.audit.models import ReadChannel, ReadEvent
from unionaid.core import context

API_PREFIX = "/api/"


def channel_of(path: str) -> str:
    if not path:
        return ReadChannel.OTHER
    return ReadChannel.API if path.startswith(API_PREFIX) else ReadChannel.PAGE


_COLUMNS = ("at", "actor_id", "actor_label", "member_id", "target_type", "target_id", "channel",
            "path", "ip", "org_unit_path")
_INSERT = (  # names are this module's constants, values are parameters
    f"INSERT INTO {ReadEvent._meta.db_table} ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_COLUMNS))}) RETURNING id"
)


def read_record(*, user, member_id, target_type: str, target_id, org_unit_path: str = "",
                ) -> ReadEvent:
    """Log that ``user`` read ``target_type``/``target_id`` (personal data of ``member_id``).

    One INSERT written as SQL (PostgreSQL and SQLite ≥ 3.35 both take ``RETURNING``): it runs
    on every read of a member's record, and the ORM's ``create`` spent as long building the
    statement as the database took to run it (issue 11's serve benchmark)."""
    ctx = context.current()
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    event = ReadEvent(
        at=timezone.now(),
        actor_id=user.pk if authenticated else None,
        actor_label=user.get_username()[:150] if authenticated else "",
        member_id=member_id,
        target_type=target_type,
        target_id=str(target_id),
        channel=channel_of(ctx.path),
        path=ctx.path[:255],
        ip=ctx.ip,
        org_unit_path=org_unit_path[:255],
    )
    ops = connection.ops
    params = [getattr(event, name) for name in _COLUMNS]
    params[0] = ops.adapt_datetimefield_value(event.at)
    params[8] = ops.adapt_ipaddressfield_value(event.ip)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, params)
        event.id = cursor.fetchone()[0]
    event._state.adding = False
    return event
