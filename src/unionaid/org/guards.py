"""Close guards: what must be settled before a unit may be closed (撤销单位).

org knows no other app, yet others keep things in a unit: members (职工), posts with people in
them (在任人员). Each such app registers a guard in its ``AppConfig.ready()``; ``orgunit_close``
runs every guard, in ``order``, inside its transaction with the unit's row locked. A guard
raises ``core.errors.Conflict`` with its own ``code`` to refuse; returning means "nothing here".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from unionaid.core.errors import Conflict
from unionaid.org.models import OrgUnit

CloseGuard = Callable[[OrgUnit], None]


@dataclass(frozen=True)
class _Registered:
    order: int
    name: str
    check: CloseGuard


_guards: dict[str, _Registered] = {}


def register_close_guard(name: str, check: CloseGuard, *, order: int) -> None:
    """Register ``check`` under ``name`` (registering a name again replaces it)."""
    _guards[name] = _Registered(order=order, name=name, check=check)


def unregister_close_guard(name: str) -> None:
    _guards.pop(name, None)


def close_guards() -> list[CloseGuard]:
    return [g.check for g in sorted(_guards.values(), key=lambda g: (g.order, g.name))]


def run_close_guards(unit: OrgUnit) -> None:
    for check in close_guards():
        check(unit)


def no_open_children(unit: OrgUnit) -> None:
    """org's own guard: open sub-units must be closed or moved first."""
    open_children = OrgUnit.objects.get_children(unit).filter(is_closed=False).count()
    if open_children:
        raise Conflict(_("请先撤销或移走“%(unit)s”的 %(n)d 个下级单位。")
                       % {"unit": unit.name, "n": open_children}, code="unit_has_children")

