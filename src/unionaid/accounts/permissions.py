"""The catalogue of action permissions a Role can carry, and the three admin duties.

Permissions are plain codes (``members.view``); a Role is a set of them plus a data scope.
Separation of duties (等保 三权分立): the system, security and audit admin permissions are
never combined in one role, nor held together by one user.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from unionaid.core import access as core_access


class DataScope(models.TextChoices):
    """RuoYi's data scopes, which Chinese admins already know."""

    ALL = core_access.SCOPE_ALL, _("全部数据")
    UNIT_AND_BELOW = core_access.SCOPE_UNIT_AND_BELOW, _("本单位及以下")
    UNIT = core_access.SCOPE_UNIT, _("本单位")
    SELF = core_access.SCOPE_SELF, _("仅本人")


SCOPE_BREADTH = {DataScope.SELF: 0, DataScope.UNIT: 1, DataScope.UNIT_AND_BELOW: 2, DataScope.ALL: 3}

# Every permission code a Role may carry, with its label. The rights layer's own codes are here;
# every app above it registers its own in its AppConfig.ready() (``register_permissions``), so a
# new domain adds its rights without editing this module. Filled in full once Django is set up.
PERMISSIONS: dict[str, str] = {}
_ORDER: dict[str, int] = {}


def register_permissions(codes: dict[str, str], *, order: int) -> None:
    """Add an app's permission codes (``"<area>.<action>": label``). ``order`` places them in
    the role editor (smaller first). A code registered twice is a programming error."""
    for code, label in codes.items():
        area, dot, action = code.partition(".")
        if not (area and dot and action):
            raise ValueError(f"permission code {code!r} is not '<area>.<action>'")
        if code in PERMISSIONS:
            raise ValueError(f"permission {code!r} is registered twice")
        PERMISSIONS[code] = label
        _ORDER[code] = order


def unregister_permissions(codes) -> None:
    """For tests that register throwaway codes."""
    for code in codes:
        PERMISSIONS.pop(code, None)
        _ORDER.pop(code, None)


def permission_choices() -> list[tuple[str, str]]:
    """(code, label) of every registered permission, in the role editor's order."""
    position = {code: i for i, code in enumerate(PERMISSIONS)}
    return [(code, PERMISSIONS[code])
            for code in sorted(PERMISSIONS, key=lambda c: (_ORDER[c], position[c]))]


register_permissions({
    "org.view": _("查看组织"),
    "org.manage": _("管理组织机构"),
}, order=10)
register_permissions({
    "system.config": _("系统配置（系统管理员）"),
    "security.manage": _("用户、岗位、角色、任职管理（安全管理员）"),
    "audit.view": _("查阅审计日志（审计管理员）"),
}, order=90)

# The three admin duties (三权分立). Each is identified by the permission that defines it.
ADMIN_DUTIES: dict[str, str] = {
    "system.config": "system",
    "security.manage": "security",
    "audit.view": "audit",
}

# What a worker may do with their own record, without any post.
WORKER_SELF_PERMISSIONS = frozenset({"members.view", "assistance.view"})


def admin_duties(perms) -> set[str]:
    return {duty for perm, duty in ADMIN_DUTIES.items() if perm in perms}
