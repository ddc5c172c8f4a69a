"""The read log: reads of a member's personal data, one plain INSERT each.

Kept apart from the journal (``audit.services``): a read takes no lock and touches no hash
chain, so many readers never queue behind each other or behind audited writes.
"""

from __future__ import annotations

from django.utils import timezone

from unionaid.audit.models import ReadChannel, ReadEvent
from unionaid.core import context

API_PREFIX = "/api/"


def channel_of(path: str) -> str:
    if not path:
        return ReadChannel.OTHER
    return ReadChannel.API if path.startswith(API_PREFIX) else ReadChannel.PAGE


def read_record(*, user, member_id, target_type: str, target_id, org_unit_path: str = "",
                ) -> ReadEvent:
    """Log that ``user`` read ``target_type``/``target_id`` (personal data of ``member_id``)."""
    ctx = context.current()
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return ReadEvent.objects.create(
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
