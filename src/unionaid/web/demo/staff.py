"""Demo roles, posts and the persona logins. Created only by ``manage.py demo``.

Every object goes through the accounts services, so the demo's audit journal looks like a real
installation's: the security admin (安全管理员) creates the posts and grants the assignments.
The one shortcut: the approvers of the other units (``create_unit_staff``) share one password
hash, because hashing the demo password with Argon2 costs about half a second per login; each
of them is still journaled as ``user.create`` and gets their post through ``assignment_grant``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django_otp.plugins.otp_totp.models import TOTPDevice

from unionaid.accounts import services as account_services
from unionaid.accounts.models import DataScope, Position, Role, User
from unionaid.audit.services import audit_record
from unionaid.org.models import OrgUnit

# One password for every demo login; it satisfies the password rules (length, 3 classes).
DEMO_PASSWORD = "Demo-2026-pass"
DEMO_DEVICE_NAME = "demo"

MEMBER_CADRE = ["members.view", "members.change", "members.consent", "org.view"]
# Cadres see and file assistance applications (代办) in their data scope.
# … and visit homes, record household profiles and file hardship-archive enrolments.
# … and see the leads (线索) and matches of their members that other departments' lists raise.
ASSISTANCE_CADRE = [*MEMBER_CADRE, "assistance.view", "assistance.apply", "visits.view",
                    "visits.record", "archive.view", "archive.manage", "matching.view"]
# Import and match lists, handle leads, and review the uncertain matches of their scope.
MATCHING_CADRE = ["matching.manage", "matching.review"]

# code: (name, permissions, data scope)
ROLES: dict[str, tuple[str, list[str], str]] = {
    "system_admin": ("系统管理员", ["system.config", "org.manage", "org.view"], DataScope.ALL),
    "security_admin": ("安全管理员", ["security.manage", "org.view"], DataScope.ALL),
    "audit_admin": ("审计管理员", ["audit.view", "org.view"], DataScope.ALL),
    "bureau_cadre": (
        "路局帮扶干事",
        [*ASSISTANCE_CADRE, "members.reveal", "members.export", "members.import",
         "assistance.catalog", "visits.campaign", "archive.config", *MATCHING_CADRE,
         "matching.config", "stats.view"],
        DataScope.ALL,
    ),
    "station_cadre": (
        "站段帮扶干事",
        [*ASSISTANCE_CADRE, "members.export", "members.import", "org.manage", "visits.campaign",
         *MATCHING_CADRE, "stats.view"],
        DataScope.UNIT_AND_BELOW,
    ),
    "workshop_cadre": ("车间干事", ASSISTANCE_CADRE, DataScope.UNIT_AND_BELOW),
    "team_cadre": ("班组干事", ASSISTANCE_CADRE, DataScope.UNIT_AND_BELOW),
    "intake_cadre": ("站段帮扶代办员", ASSISTANCE_CADRE, DataScope.UNIT_AND_BELOW),
    "finance": (
        "路局财务",
        ["org.view", "funds.view", "funds.manage", "funds.confirm", "assistance.view",
         "stats.view"],
        DataScope.ALL,
    ),
    # The checker of the four-eyes rule (四眼原则): confirms batches someone else made and exported.
    "cashier": (
        "路局出纳", ["org.view", "funds.view", "funds.confirm", "assistance.view"], DataScope.ALL,
    ),
    # The auditor (审计人员) reads any payment's chain; not one of the three admin duties.
    "auditor": (
        "审计人员", ["org.view", "trace.view", "members.view", "assistance.view", "visits.view",
                     "archive.view", "checks.view", "checks.review", "stats.view"],
        DataScope.ALL,
    ),
}

# Post name per role, created in every unit of the matching level.
POST_NAMES = {
    "system_admin": "系统管理员",
    "security_admin": "安全管理员",
    "audit_admin": "审计管理员",
    "bureau_cadre": "路局工会帮扶干事",
    "station_cadre": "站段工会帮扶干事",
    "workshop_cadre": "车间工会干事",
    "team_cadre": "班组工会干事",
    "intake_cadre": "站段工会帮扶代办员",
    "finance": "路局工会财务",
    "cashier": "路局工会出纳",
    "auditor": "路局工会审计",
}
# Generated logins of the other units' posts: prefix + lower-cased unit code.
UNIT_STAFF_PREFIX = {"workshop_cadre": "cadre_", "station_cadre": "cadre_",
                     "intake_cadre": "intake_"}


@dataclass(frozen=True)
class Persona:
    username: str
    role: str  # key of ROLES; "" for the worker's own login
    post_zh: str
    post_en: str
    sees_zh: str
    sees_en: str

    @property
    def needs_otp(self) -> bool:
        return self.role in ("system_admin", "security_admin", "audit_admin")


PERSONAS: tuple[Persona, ...] = (
    Persona("sysadmin", "system_admin", "路局工会·系统管理员", "bureau system admin",
            "组织机构与系统配置，不看职工个人信息", "org tree and settings; no member data"),
    Persona("secadmin", "security_admin", "路局工会·安全管理员", "bureau security admin",
            "用户、岗位、角色、任职", "users, posts, roles, assignments"),
    Persona("auditadmin", "audit_admin", "路局工会·审计管理员", "bureau audit admin",
            "审计日志（只读）", "the audit journal (read-only)"),
    Persona("bureau_cadre", "bureau_cadre", "路局工会·帮扶干事", "bureau assistance cadre",
            "全局职工与帮扶申请，可查看完整证件号、导入导出；维护帮扶项目与审批流程，办理路局审批；"
            "导入外部数据比对名单，维护数据来源与线索规则",
            "all members and applications; may reveal IDs, import, export; edits the catalog "
            "and flows; decides the 路局 step; imports other departments' lists, edits their "
            "sources and the lead rules"),
    Persona("station_cadre", "station_cadre", "太原车务段·站段工会帮扶干事", "station cadre",
            "本站段及以下的职工、组织与帮扶申请；办理站段审核；处理本站段职工的比对线索与待复核结果",
            "members, units and applications of their 站段 subtree; decides the 站段 step; "
            "handles the leads and reviews the uncertain matches of their members"),
    Persona("workshop_cadre", "workshop_cadre", "车间工会干事", "workshop cadre",
            "本车间及以下的职工与帮扶申请；办理车间初审（可批量）",
            "members and applications of their 车间 subtree; decides the 车间 step (in batches)"),
    Persona("team_cadre", "team_cadre", "班组工会干事", "team cadre",
            "本班组的职工，可代职工提交帮扶申请", "members of their 班组 only; files applications "
            "on their behalf"),
    Persona("finance", "finance", "路局工会·财务", "bureau finance officer",
            "预算、发放批次（制单、导出）、冲正与重新发放；大病救助的财务复核",
            "budgets, payment batches (making, exporting), reversal and re-payment; the "
            "finance step of 大病医疗救助"),
    Persona("cashier", "cashier", "路局工会·出纳", "bureau cashier (the checker)",
            "核对银行回单，确认他人制单、导出的发放批次（四眼原则）", "checks the bank's receipt and "
            "confirms payment batches made and exported by someone else (four-eyes rule)"),
    Persona("auditor", "auditor", "路局工会·审计人员", "auditor (read-only)",
            "任一笔发放的完整链条（只读，每次查阅留痕）",
            "any payment's whole chain (read-only, every read journaled)"),
    Persona("worker", "", "职工本人", "a worker (member's own login)",
            "仅本人信息与本人帮扶申请的进度", "only their own record and applications"),
)


def demo_totp_key(username: str) -> str:
    """The fixed, public TOTP key of a demo admin (40 hex characters). Demo only."""
    return hashlib.sha1(f"unionaid-demo-totp:{username}".encode(), usedforsecurity=False).hexdigest()


def create_roles() -> dict[str, Role]:
    return {
        code: account_services.role_save(
            actor=None, code=code, name=name, permissions=perms, data_scope=scope
        )
        for code, (name, perms, scope) in ROLES.items()
    }


def _post(actor, unit: OrgUnit, role: Role, code: str) -> Position:
    return account_services.position_create(
        actor=actor, org_unit=unit, name=POST_NAMES[code], roles=[role]
    )


def _login(actor, username: str, full_name: str, member=None) -> User:
    return account_services.user_create(
        actor=actor, username=username, password=DEMO_PASSWORD, full_name=full_name, member=member
    )


def create_sysadmin(*, root: OrgUnit, roles: dict[str, Role], full_name: str) -> User:
    """The system admin, who then builds the org tree. Bootstrapped with ``actor=None``."""
    user = _login(None, "sysadmin", full_name)
    position = _post(None, root, roles["system_admin"], "system_admin")
    account_services.assignment_grant(actor=None, user=user, position=position)
    return user


def create_security_admin(*, root: OrgUnit, roles: dict[str, Role], full_name: str) -> User:
    """The security admin; bootstrapped with ``actor=None``, then the actor of all other posts."""
    user = _login(None, "secadmin", full_name)
    position = _post(None, root, roles["security_admin"], "security_admin")
    account_services.assignment_grant(actor=None, user=user, position=position)
    return user


def create_posts_and_logins(
    *, secadmin: User, tree, roles: dict[str, Role], persona_units: dict[str, OrgUnit],
    names: dict[str, str],
) -> dict[str, User]:
    """Posts in every unit of every level, and one login per staff persona.

    ``persona_units`` gives the unit whose post each cadre persona holds.
    """
    posts: dict[tuple[str, int], Position] = {}
    for code in ("audit_admin", "bureau_cadre", "finance", "cashier", "auditor"):
        posts[(code, tree.root.pk)] = _post(secadmin, tree.root, roles[code], code)
    for code, units in (
        ("station_cadre", tree.stations),
        ("workshop_cadre", tree.workshops),
        ("team_cadre", tree.teams),
    ):
        for unit in units:
            posts[(code, unit.pk)] = _post(secadmin, unit, roles[code], code)
    users: dict[str, User] = {}
    for persona in PERSONAS:
        if persona.role in ("", "system_admin", "security_admin"):
            continue
        unit = persona_units.get(persona.role, tree.root)
        user = _login(secadmin, persona.username, names[persona.username])
        account_services.assignment_grant(
            actor=secadmin, user=user, position=posts[(persona.role, unit.pk)]
        )
        users[persona.username] = user
    return users


def unit_staff_username(code: str, unit: OrgUnit) -> str:
    return f"{UNIT_STAFF_PREFIX[code]}{unit.code.lower()}"


def create_unit_staff(
    *, secadmin: User, tree, roles: dict[str, Role], persona_units: dict[str, OrgUnit],
    names,
) -> dict[str, dict[int, User]]:
    """Holders for the approval posts of the units the personas don't cover, and one 代办员 per
    站段 (who files applications on workers' behalf, so that no approver decides a case they
    filed). Returns {role code: {unit pk: user}} of these generated logins (the personas' own
    units are not in it)."""
    wanted: list[tuple[str, OrgUnit]] = [
        *(("workshop_cadre", w) for w in tree.workshops
          if w.pk != persona_units["workshop_cadre"].pk),
        *(("station_cadre", s) for s in tree.stations
          if s.pk != persona_units["station_cadre"].pk),
    ]
    intake_posts = {s.pk: _post(secadmin, s, roles["intake_cadre"], "intake_cadre")
                    for s in tree.stations}
    wanted += [("intake_cadre", s) for s in tree.stations]
    hashed = make_password(DEMO_PASSWORD)
    created = User.objects.bulk_create([
        User(username=unit_staff_username(code, unit), first_name=names.name(), password=hashed)
        for code, unit in wanted
    ])
    if created and created[0].pk is None:  # backends that don't return ids from bulk inserts
        created = list(User.objects.filter(
            username__in=[u.username for u in created]).order_by("pk"))
    by_name = {u.username: u for u in created}
    posts = {
        (p.org_unit_id, p.name): p
        for p in Position.objects.filter(org_unit__in=[unit for _c, unit in wanted])
    }
    holders: dict[str, dict[int, User]] = {code: {} for code in UNIT_STAFF_PREFIX}
    for code, unit in wanted:
        user = by_name[unit_staff_username(code, unit)]
        audit_record(actor=secadmin, action="user.create", target=user,
                     changes={"username": user.username, "member": None, "by": "demo"})
        position = intake_posts[unit.pk] if code == "intake_cadre" else posts[
            (unit.pk, POST_NAMES[code])]
        account_services.assignment_grant(actor=secadmin, user=user, position=position)
        holders[code][unit.pk] = user
    return holders


def create_worker_login(*, secadmin: User, member) -> User:
    return _login(secadmin, "worker", member.name, member=member)


def create_demo_devices(users) -> None:
    """A confirmed TOTP device with a fixed demo key for each admin duty holder."""
    for user in users:
        TOTPDevice.objects.create(
            user=user, name=DEMO_DEVICE_NAME, key=demo_totp_key(user.username), confirmed=True
        )
