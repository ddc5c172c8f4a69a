"""Who may see and change the schedules: the system admin (``system.config``)."""

from __future__ import annotations

from unionaid.core.access import access_for
from unionaid.core.errors import PermissionDenied

PERMISSION = "system.config"


def may_manage(user) -> bool:
    return access_for(user).has_perm(PERMISSION)


def require_manage(user) -> None:
    if not may_manage(user):
        raise PermissionDenied()
