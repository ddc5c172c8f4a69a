"""Keyset ("seek") paging for big lists: no OFFSET scan and no COUNT(*) over the whole set.

The cursor is the id of the last row of the previous page. The next page is "rows after that
row in the list's order", found by comparing the order columns, so a 10-million-row list pages
as fast at the end as at the start. The cursor row is looked up in the same (scoped) queryset,
so a cursor can't be used to probe records outside the caller's scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from unionaid.core.errors import ServiceError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class KeysetPage:
    items: list[Any]
    next_cursor: str | None


def _order_of(qs: QuerySet) -> list[str]:
    order = [f for f in qs.query.order_by if isinstance(f, str)]
    if len(order) != len(qs.query.order_by):
        raise TypeError("keyset paging needs a queryset ordered by plain field names")
    if not order or order[-1].lstrip("-") not in ("pk", "id"):
        order.append("pk")  # a unique last column makes the order total
    return order


def _after(order: list[str], values: tuple) -> Q:
    """Rows strictly after ``values`` in ``order`` (order columns must be non-null)."""
    q = Q(pk__in=[])
    for i, field in enumerate(order):
        name = field.lstrip("-")
        op = "lt" if field.startswith("-") else "gt"
        equal = {f.lstrip("-"): v for f, v in zip(order[:i], values[:i], strict=True)}
        q |= Q(**equal, **{f"{name}__{op}": values[i]})
    return q


def keyset_page(qs: QuerySet, *, cursor: str | None, limit: int = DEFAULT_LIMIT,
                fetch: Callable[[QuerySet, int, int], list] | None = None) -> KeysetPage:
    """One page of ``qs`` in its own order, starting after the row whose id is ``cursor``.
    ``fetch(qs, start, stop)``: how a list whose rows are dear to join loads its slice (e.g.
    ids first, then those rows); by default ``qs[start:stop]``."""
    order = _order_of(qs)
    qs = qs.order_by(*order)
    if cursor:
        invalid = ServiceError(_("翻页参数无效，请从第一页重新开始。"), code="invalid_cursor",
                               fields={"cursor": _("翻页参数无效。")})
        try:
            after_pk = int(cursor)
        except ValueError:
            raise invalid from None
        values = qs.filter(pk=after_pk).values_list(*[f.lstrip("-") for f in order]).first()
        if values is None:
            raise invalid
        qs = qs.filter(_after(order, values))
    limit = max(1, min(limit, MAX_LIMIT))
    rows = fetch(qs, 0, limit + 1) if fetch is not None else list(qs[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return KeysetPage(items=rows, next_cursor=str(rows[-1].pk) if has_more and rows else None)


def next_link(request, cursor: str | None) -> str | None:
    """The URL of the next page: the current query string with ``cursor`` replaced."""
    if cursor is None:
        return None
    params = request.GET.copy()
    params["cursor"] = cursor
    return f"{request.path}?{params.urlencode()}"
