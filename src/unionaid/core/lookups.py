"""Query helpers that behave the same, and use an index, on SQLite and PostgreSQL."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q

_TOP = "\U0010ffff"


def prefix_q(field: str, prefix: str) -> Q:
    """Rows whose ``field`` starts with ``prefix`` (case-sensitive), using the field's index.

    PostgreSQL: ``LIKE 'p%'`` served by a ``varchar_pattern_ops`` index. SQLite's LIKE is
    case-insensitive and can't use an ordinary index, so there the same set is a range on the
    binary (code point) order: ``p <= field < p + U+10FFFF``.
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + _TOP})
    return Q(**{f"{field}__startswith": prefix})
