"""Scoped single-record access: the one path from a raw id to a record a user may see.

Every ``*_get_for_user`` getter of personal or financial data ends in ``get_in_scope``:

1. the id is parsed (anything but an integer is "not found");
2. the user's scope for the permission goes into the same SELECT as the id
   (``access_for(user).scope_q(perm, ...)``, or the getter's own ``scope`` for special rules);
3. absent and out of scope both answer ``NotFound``, and an out-of-scope try is journaled
   (``access.denied``, the permission or action attempted in ``changes``);
4. with ``log_read``, the read of a member's personal data is written to the read log
   (``audit.ReadEvent``: one plain INSERT, never the journal's hash chain).

The getters register themselves with ``@scoped_getter`` so one parametrised test
(accounts/tests/test_scoped_getters.py) can run over all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Q, QuerySet

from unionaid.audit.reads import read_record
from unionaid.audit.services import audit_record
from unionaid.core.access import access_for
from unionaid.core.errors import NotFound

T = TypeVar("T")

MAX_PK = 2**63
# name of the getter function -> the function, filled by @scoped_getter at import time
SCOPED_GETTERS: dict[str, Callable[..., Any]] = {}


def scoped_getter(func: Callable[..., T]) -> Callable[..., T]:
    """Register a single-record getter (it must end in ``get_in_scope``)."""
    SCOPED_GETTERS[func.__name__] = func
    return func


def parse_pk(value) -> int:
    """An id from a URL, a form or a payload; anything else is "not found"."""
    if isinstance(value, bool):
        raise NotFound()
    try:
        pk = int(value)
    except (TypeError, ValueError, OverflowError):
        raise NotFound() from None
    if not 0 < pk < MAX_PK:  # no row has it, and the database can't compare it
        raise NotFound()
    return pk


def record_denial(*, user, target_type: str, target_id, action: str) -> None:
    """Journal an attempt to reach a record outside the user's scope."""
    with transaction.atomic():
        audit_record(
            actor=user, action="access.denied", outcome="denied", target_type=target_type,
            target_id=target_id, changes={"attempted": action},
        )


def _cached_path(obj, field_path: str) -> Any:
    """Follow ``a__b__c`` on ``obj`` through relations already loaded; None when a step is not
    loaded (the read log never costs a query)."""
    current = obj
    for name in field_path.split("__"):
        if current is None:
            return None
        field = current._meta.get_field(name)
        if field.is_relation and not field.is_cached(current):
            return None
        current = getattr(current, name)
    return current


def get_in_scope(
    *,
    user,
    queryset: QuerySet[T],
    pk,
    target_type: str,
    perm: str = "",
    unit_field: str = "org_unit",
    self_field: str | None = None,
    scope: Q | None = None,
    allow: Callable[[T], bool] | None = None,
    log_read: str | None = None,
) -> T:
    """The record ``pk`` of ``queryset`` if ``user`` may see it; otherwise ``NotFound``.

    ``queryset`` is the unscoped base (with its ``select_related``); the scope is added here:
    ``scope`` when the getter has a special rule (an owner, several permissions, a campaign's
    area), else ``access_for(user).scope_q(perm, unit_field=..., self_field=...)``. ``allow``
    is a last check in Python for rules a filter can't say (who may decide a task); it sees
    only records inside ``scope``. ``perm`` is what the denial journals as attempted.
    ``log_read``: the attribute holding the member id whose personal data is read (a
    ``relation__attr`` path through relations the queryset already loads); the read goes to
    the read log.
    """
    pk = parse_pk(pk)
    if scope is None:
        scope = access_for(user).scope_q(perm, unit_field=unit_field, self_field=self_field)
    obj = queryset.filter(scope).filter(pk=pk).first()
    if obj is not None and allow is not None and not allow(obj):
        obj = None
    if obj is None:
        if queryset.model._default_manager.filter(pk=pk).exists():
            record_denial(user=user, target_type=target_type, target_id=pk, action=perm)
        raise NotFound()
    if log_read:
        *path, attr = log_read.split("__")
        holder = _cached_path(obj, "__".join(path)) if path else obj
        member_id = getattr(holder, attr, None) if holder is not None else None
        if member_id is not None:  # a visit to a workplace, not a member's home, reads no one
            unit = _cached_path(obj, unit_field)
            read_record(
                user=user, member_id=member_id, target_type=target_type, target_id=pk,
                org_unit_path=getattr(unit, "path", "") or "",
            )
    return obj
