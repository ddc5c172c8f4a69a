"""Near-static lookups kept per process under the access stamp.

Every page shows the union's name and the tree's level names; both change perhaps once a year,
yet each page read them from the database (two of a to-do page's sixteen queries). The access
stamp (``accounts.models.AccessStamp``) changes, by database triggers, with every write to the
tables rights are made of and to these lookup tables (accounts migrations 0005 and 0006), and
each request reads it once anyway. So a lookup computed under one stamp is good for as long as
the stamp stays the same, in every process:

* ``accounts`` notes the stamp it read for the request (``note_stamp``);
* ``kept(key, compute)`` returns the value computed under that stamp, or computes and keeps it;
* with no stamp noted (no request, a user without a post, a POST that may write before it
  reads) it simply computes: nothing is ever served from a stamp the request did not see.

``RequestContextMiddleware`` starts each request with no stamp and allows noting one only for
GET and HEAD requests.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_may_keep: contextvars.ContextVar[bool] = contextvars.ContextVar("unionaid_memo_may_keep",
                                                                  default=False)
_stamp: contextvars.ContextVar[int | None] = contextvars.ContextVar("unionaid_memo_stamp",
                                                                     default=None)
# key -> (stamp, value); a handful of keys, never per user
_KEPT: dict[str, tuple[int, Any]] = {}


def begin_request(*, read_only: bool) -> tuple[contextvars.Token, contextvars.Token]:
    """A request starts with no stamp; only a read-only one (GET, HEAD) may note one."""
    return _may_keep.set(read_only), _stamp.set(None)


def end_request(tokens: tuple[contextvars.Token, contextvars.Token]) -> None:
    _may_keep.reset(tokens[0])
    _stamp.reset(tokens[1])


def note_stamp(value: int | None) -> None:
    """The access stamp this request read (``accounts.access.cached_access``)."""
    if value is not None and _may_keep.get():
        _stamp.set(value)


def kept(key: str, compute: Callable[[], T]) -> T:
    """``compute()``, or its value kept under this request's stamp."""
    stamp = _stamp.get()
    if stamp is None:
        return compute()
    hit = _KEPT.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    value = compute()
    _KEPT[key] = (stamp, value)
    return value


def clear() -> None:
    """For tests."""
    _KEPT.clear()
