"""First-run set-up (初始化): a real union from an empty database, without the demo.

``union_setup`` writes, in one transaction and journaled: the union's name (``UnionProfile``),
its level names, the root unit, the three admin-duty roles (系统管理员 / 安全管理员 / 审计管理员)
with a post for each at the root, the starter work roles (``WORK_ROLES``: 工会干事, 帮扶工作管理员,
工会财务, 工会出纳, 审计人员, to be edited on the role editor), and the first security admin
holding the security post. The
security admin must enrol TOTP at first login (``AccessMiddleware``: every admin duty needs a
verified second factor) and, when their password was generated, set their own first.

Everything else (the org tree, the staff and their posts) is imported afterwards by people
holding the right posts: the security admin gives someone the system-admin post, who imports
the tree; the security admin imports the staff.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from unionaid.accounts import services as account_services
from unionaid.accounts.models import DataScope, Position, Role, User
from unionaid.accounts.passwords import generate_password
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, ServiceError
from unionaid.org import services as org_services
from unionaid.org.models import OrgUnit, UnionProfile

# code: (role name, permissions) of the three admin duties (三权分立), data scope "all".
ADMIN_ROLES: dict[str, tuple[str, list[str]]] = {
    "system_admin": ("系统管理员", ["system.config", "org.manage", "org.view"]),
    "security_admin": ("安全管理员", ["security.manage", "org.view"]),
    "audit_admin": ("审计管理员", ["audit.view", "org.view"]),
}
# code: (role name, permissions, data scope) of the work roles a union starts with, so the staff
# file can be imported straight after set-up; the security admin edits or adds roles on the
# role editor afterwards (none of them is an admin duty).
_CADRE = ["org.view", "members.view", "members.change", "members.consent", "assistance.view",
          "assistance.apply", "visits.view", "visits.record", "archive.view", "archive.manage"]
# Matching (政策找职工): a 工会干事 sees the leads and matches of their units' members and reviews
# the uncertain ones; the 帮扶工作管理员 also imports and matches lists, handles the leads, and
# keeps the sources and lead rules.
WORK_ROLES: dict[str, tuple[str, list[str], str]] = {
    "work_cadre": ("工会干事", [*_CADRE, "matching.view", "matching.review", "stats.view"],
                   DataScope.UNIT_AND_BELOW),
    "work_aid_admin": (
        "帮扶工作管理员",
        [*_CADRE, "members.import", "members.export", "assistance.catalog", "visits.campaign",
         "archive.config", "matching.view", "matching.manage", "matching.review",
         "matching.config", "stats.view"],
        DataScope.UNIT_AND_BELOW,
    ),
    "work_finance": ("工会财务", ["org.view", "funds.view", "funds.manage", "funds.confirm",
                                  "assistance.view", "stats.view"], DataScope.UNIT_AND_BELOW),
    "work_cashier": ("工会出纳", ["org.view", "funds.view", "funds.confirm", "assistance.view"],
                     DataScope.UNIT_AND_BELOW),
    "work_auditor": ("审计人员", ["org.view", "trace.view", "members.view", "assistance.view",
                                  "visits.view", "archive.view", "checks.view", "checks.review",
                                  "stats.view"],
                     DataScope.UNIT_AND_BELOW),
}
MAX_LEVELS = 10


@dataclass
class SetupResult:
    union: UnionProfile
    root: OrgUnit
    admin: User
    generated_password: str  # "" when the operator chose the password


def is_set_up() -> bool:
    """A union exists once any login, unit or union name does: set-up never runs again."""
    return (UnionProfile.objects.exists() or User.objects.exists()
            or OrgUnit.objects.exists())


def clean_levels(levels) -> list[str]:
    """Level names top-down from a list or a comma-separated text (，、 also separate)."""
    if isinstance(levels, str):
        for sep in ("，", "、", "\n"):
            levels = levels.replace(sep, ",")
        levels = levels.split(",")
    names = [str(name).strip() for name in levels if str(name).strip()]
    if not names:
        raise ServiceError(_("请填写层级名称，从上到下用逗号分隔，例如：路局,站段,车间,班组。"),
                           code="validation_error", fields={"levels": _("请填写层级名称。")})
    if len(names) > MAX_LEVELS:
        raise ServiceError(_("层级最多 %(n)d 级。") % {"n": MAX_LEVELS}, code="validation_error",
                           fields={"levels": _("层级最多 %(n)d 级。") % {"n": MAX_LEVELS}})
    if len(set(names)) != len(names):
        raise ServiceError(_("层级名称不能重复。"), code="validation_error",
                           fields={"levels": _("层级名称不能重复。")})
    if any(len(name) > 30 for name in names):
        raise ServiceError(_("层级名称不能超过30个字符。"), code="validation_error",
                           fields={"levels": _("层级名称不能超过30个字符。")})
    return names


@transaction.atomic
def union_setup(
    *, union_name: str, levels, root_code: str, root_name: str = "", admin_username: str,
    admin_full_name: str = "", admin_password: str = "",
) -> SetupResult:
    """Start a union on an empty database. Refuses (``Conflict`` ``already_set_up``) once
    anything exists. With no ``admin_password`` one is generated, returned once, and the admin
    must change it at first login."""
    # Two set-ups at once: the second waits here, then sees the first one's rows.
    list(UnionProfile.objects.select_for_update().all())
    if is_set_up():
        raise Conflict(_("系统已经初始化过（已有工会、单位或用户），不能再次初始化。"),
                       code="already_set_up")
    union_name = (union_name or "").strip()
    if not union_name:
        raise ServiceError(_("请填写工会名称。"), code="validation_error",
                           fields={"union_name": _("请填写工会名称。")})
    if len(union_name) > 100:
        raise ServiceError(_("工会名称不能超过100个字符。"), code="validation_error",
                           fields={"union_name": _("工会名称不能超过100个字符。")})
    names = clean_levels(levels)
    generated = "" if admin_password else generate_password()

    try:
        with transaction.atomic():
            union = UnionProfile.objects.create(pk=1, name=union_name)
    except IntegrityError:  # another set-up got there first
        raise Conflict(_("系统已经初始化过（已有工会、单位或用户），不能再次初始化。"),
                       code="already_set_up") from None
    audit_record(actor=None, action="union.setup", target=union,
                 changes={"name": union_name, "levels": names})
    org_services.orglevels_define(actor=None, names=names)
    root = org_services.orgunit_create_root(
        actor=None, name=(root_name or "").strip() or union_name, code=root_code)
    roles = {
        code: account_services.role_save(actor=None, code=code, name=name, permissions=perms,
                                         data_scope=DataScope.ALL)
        for code, (name, perms) in ADMIN_ROLES.items()
    }
    for code, (name, perms, scope) in WORK_ROLES.items():
        account_services.role_save(actor=None, code=code, name=name, permissions=perms,
                                   data_scope=scope)
    posts: dict[str, Position] = {
        code: account_services.position_create(actor=None, org_unit=root, name=role.name,
                                               roles=[role])
        for code, role in roles.items()
    }
    admin = account_services.user_create(
        actor=None, username=admin_username, password=admin_password or generated,
        full_name=(admin_full_name or "").strip(), one_time=bool(generated),
    )
    account_services.assignment_grant(actor=None, user=admin, position=posts["security_admin"],
                                      note=_("初始化"))
    return SetupResult(union=union, root=root, admin=admin, generated_password=generated)


def admin_roles() -> dict[str, Role]:
    return {role.code: role for role in Role.objects.filter(code__in=ADMIN_ROLES)}
