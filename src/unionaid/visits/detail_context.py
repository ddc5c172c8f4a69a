"""What domains above visits add to a visit's page about its member (the hardship archive:
the household's open record, or whether the user may enrol the member). visits may not import
them; each registers a context entry at start-up (``AppConfig.ready()``), and the page asks every
registered one. An entry answers None when the user has no rights over it; the page then shows
nothing for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# name → fn(*, user, member) -> value or None; ``name`` is the template variable.
_ENTRIES: dict[str, Callable[..., Any]] = {}


def register(name: str, fn: Callable[..., Any]) -> None:
    current = _ENTRIES.get(name)
    if current is not None and current is not fn:
        raise ValueError(f"visit page entry {name!r} is already registered")
    _ENTRIES[name] = fn


def unregister(name: str) -> None:
    """For tests that register a throwaway entry."""
    _ENTRIES.pop(name, None)


def member_context(*, user, member) -> dict[str, Any]:
    """Every registered entry for ``member`` (None for a visit without a member)."""
    return {name: (fn(user=user, member=member) if member is not None else None)
            for name, fn in _ENTRIES.items()}
