"""Importing staff logins with their posts (人员导入), all or nothing.

A row is one person in one post: login name, name, optional phone and e-mail, the unit's code,
the post (岗位) and, for a post the unit doesn't have yet, its role (角色). A person holding two
posts (兼职) has two rows with the same login name and name. ``staff_import`` reports every bad
row (unknown unit, unknown post or role, login name taken, two admin duties for one person
(三权分立), a post whose data scope is wider than the importer's own …) and, in a real run with
no bad row, creates the missing posts, the logins and their assignments in one transaction,
through the accounts services (so every rule and every journal entry is the usual one).

Every new login gets a generated one-time password and must set their own at first login
(``User.must_change_password``); the passwords are returned once, for the importer to hand out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from unionaid.accounts import services as account_services
from unionaid.accounts.access import access_for
from unionaid.accounts.models import Position, Role, User
from unionaid.accounts.passwords import generate_password
from unionaid.accounts.permissions import admin_duties
from unionaid.audit.services import audit_record
from unionaid.core import masking
from unionaid.core.errors import PermissionDenied
from unionaid.core.spreadsheets import RowProblem
from unionaid.org.models import OrgUnit

MANAGE = "security.manage"
DUTY_NAMES = {"system": "系统管理员", "security": "安全管理员", "audit": "审计管理员"}


@dataclass(frozen=True, slots=True)
class StaffRow:
    row_number: int
    username: str
    full_name: str
    unit_code: str
    post: str
    role: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class Credential:
    """A new login and its one-time password, for the sheet handed to the staff."""

    username: str
    full_name: str
    unit: str
    posts: str
    password: str


@dataclass
class StaffImportResult:
    dry_run: bool
    total: int = 0
    users_created: int = 0
    posts_created: int = 0
    assignments: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    credentials: list[Credential] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> int:
        return len({e.row_number for e in self.errors})


@dataclass
class _Planned:
    row: StaffRow
    unit: OrgUnit
    position: Position | None  # None: a new post with ``role``
    role: Role | None
    phone: str


class _Checker:
    def __init__(self, actor, rows: list[StaffRow]):
        self.access = access_for(actor) if actor is not None else None
        self.rows = rows
        codes = {r.unit_code for r in rows if r.unit_code}
        self.units = {u.code: u for u in OrgUnit.objects.filter(code__in=codes)}
        self.positions = {
            (p.org_unit_id, p.name): p
            for p in Position.objects.filter(org_unit__code__in=codes).prefetch_related("roles")
        }
        self.roles_by_name = {}
        for role in Role.objects.all():
            self.roles_by_name.setdefault(role.name, role)
            self.roles_by_name.setdefault(role.code, role)
        names = {r.username.lower() for r in rows if r.username}
        self.taken = set(
            User.objects.alias(name_lower=Lower("username")).filter(name_lower__in=names)
            .annotate(lower=Lower("username")).values_list("lower", flat=True)
        )
        self.username_validator = UnicodeUsernameValidator()
        self.errors: list[RowProblem] = []
        self.planned: list[_Planned] = []
        self.new_posts: dict[tuple[int, str], tuple[Role, int]] = {}

    def fail(self, row: StaffRow, column: str, message: str) -> None:
        self.errors.append(RowProblem(row.row_number, column, message))

    def run(self) -> list[_Planned]:
        first_row: dict[str, StaffRow] = {}
        seen_posts: dict[tuple[str, str, str], int] = {}
        duties: dict[str, set[str]] = {}
        for row in self.rows:
            before = len(self.errors)
            self._check_person(row, first_row)
            phone = self._check_contact(row)
            unit, position, role = self._check_post(row)
            if unit is not None and row.post:
                key = (row.username.lower(), unit.code, row.post)
                if key in seen_posts:
                    self.fail(row, _("岗位"), _("与第 %(row)d 行重复：同一人同一岗位。")
                              % {"row": seen_posts[key]})
                else:
                    seen_posts[key] = row.row_number
            perms = self._perms(position, role)
            if row.username and perms is not None:
                held = duties.setdefault(row.username.lower(), set())
                combined = held | admin_duties(perms)
                if len(combined) > 1:
                    self.fail(row, _("岗位"), _("三权分立：同一人不能同时担任%(duties)s。")
                              % {"duties": "、".join(DUTY_NAMES[d] for d in sorted(combined))})
                else:
                    held |= combined
            if len(self.errors) == before and unit is not None:
                self.planned.append(_Planned(row, unit, position, role, phone))
        return self.planned

    def _check_person(self, row: StaffRow, first_row: dict[str, StaffRow]) -> None:
        if not row.username:
            self.fail(row, _("登录名"), _("请填写登录名。"))
        else:
            try:
                self.username_validator(row.username)
            except ValidationError:
                self.fail(row, _("登录名"), _("登录名只能包含字母、数字和 @ . + - _ 。"))
            if len(row.username) > 150:
                self.fail(row, _("登录名"), _("登录名不能超过150个字符。"))
            if row.username.lower() in self.taken:
                self.fail(row, _("登录名"), _("登录名“%(name)s”已存在。") % {"name": row.username})
            earlier = first_row.get(row.username.lower())
            if earlier is None:
                first_row[row.username.lower()] = row
            elif earlier.full_name != row.full_name:
                self.fail(row, _("姓名"), _("登录名“%(name)s”在第 %(row)d 行是另一个姓名。")
                          % {"name": row.username, "row": earlier.row_number})
        if not row.full_name:
            self.fail(row, _("姓名"), _("请填写姓名。"))
        elif len(row.full_name) > 150:
            self.fail(row, _("姓名"), _("姓名不能超过150个字符。"))

    def _check_contact(self, row: StaffRow) -> str:
        phone = ""
        if row.phone:
            try:
                phone = masking.validate_phone(row.phone)
            except masking.PhoneError:
                self.fail(row, _("手机号"), _("手机号格式不正确，应为11位手机号码。"))
        if row.email:
            try:
                validate_email(row.email)
            except ValidationError:
                self.fail(row, _("电子邮箱"), _("电子邮箱格式不正确。"))
        return phone

    def _check_post(self, row: StaffRow) -> tuple[OrgUnit | None, Position | None, Role | None]:
        unit = None
        if not row.unit_code:
            self.fail(row, _("单位编码"), _("请填写单位编码。"))
        else:
            unit = self.units.get(row.unit_code)
            if unit is None:
                self.fail(row, _("单位编码"), _("找不到单位编码“%(code)s”。") % {"code": row.unit_code})
            elif unit.is_closed:
                self.fail(row, _("单位编码"), _("单位“%(unit)s”已撤销。") % {"unit": unit.name})
                unit = None
            elif self.access is not None and not self.access.covers_unit(MANAGE, unit):
                self.fail(row, _("单位编码"), _("您无权管理“%(unit)s”的岗位与任职。")
                          % {"unit": unit.name})
                unit = None
        if not row.post:
            self.fail(row, _("岗位"), _("请填写岗位。"))
            return unit, None, None
        if unit is None:
            return None, None, None
        position = self.positions.get((unit.pk, row.post))
        role = None
        if position is not None:
            if not position.is_active:
                self.fail(row, _("岗位"), _("岗位“%(post)s”已停用。") % {"post": row.post})
                return unit, None, None
            roles = list(position.roles.all())
        elif (unit.pk, row.post) in self.new_posts:  # a new post an earlier row defined
            role, first = self.new_posts[(unit.pk, row.post)]
            if row.role and self.roles_by_name.get(row.role) != role:
                self.fail(row, _("角色"), _("岗位“%(post)s”在第 %(row)d 行的角色是“%(role)s”，与本行不同。")
                          % {"post": row.post, "row": first, "role": role.name})
                return unit, None, None
            roles = [role]
        elif row.role:
            role = self.roles_by_name.get(row.role)
            if role is None:
                self.fail(row, _("角色"), _("角色“%(role)s”不存在，请先在“角色”中建立。")
                          % {"role": row.role})
                return unit, None, None
            self.new_posts[(unit.pk, row.post)] = (role, row.row_number)
            roles = [role]
        else:
            self.fail(row, _("岗位"), _("“%(unit)s”没有岗位“%(post)s”；如需新建该岗位，请在“角色”列填写它的角色。")
                      % {"unit": unit.name, "post": row.post})
            return unit, None, None
        if self.access is not None:
            for each in roles:
                if not self.access.covers_scope(MANAGE, unit, each.data_scope):
                    self.fail(row, _("岗位"), _("角色“%(role)s”的数据范围超出了您自己的管理范围。")
                              % {"role": each.name})
                    return unit, None, None
        return unit, position, role

    @staticmethod
    def _perms(position: Position | None, role: Role | None) -> set[str] | None:
        if position is not None:
            return {p for r in position.roles.all() for p in r.permissions}
        if role is not None:
            return set(role.permissions)
        return None


def staff_import(*, actor, rows: list[StaffRow], dry_run: bool) -> StaffImportResult:
    """Check ``rows``; unless ``dry_run`` or any row is bad, create the posts, logins and
    assignments in one transaction. ``actor=None`` only for the server-side command
    (``unionaid import_staff`` without ``--as``)."""
    if actor is not None and not access_for(actor).has_perm(MANAGE):
        raise PermissionDenied(_("只有安全管理员可以导入人员。"))
    result = StaffImportResult(dry_run=dry_run, total=len(rows))
    checker = _Checker(actor, rows)
    planned = checker.run()
    result.errors = sorted(checker.errors, key=lambda e: e.row_number)
    if result.errors or dry_run:
        return result
    _write(actor=actor, planned=planned, result=result)
    return result


@transaction.atomic
def _write(*, actor, planned: list[_Planned], result: StaffImportResult) -> None:
    new_posts: dict[tuple[int, str], Position] = {}
    users: dict[str, tuple[User, str]] = {}
    posts_of: dict[str, list[str]] = {}
    for item in planned:
        row = item.row
        position = item.position
        if position is None:
            key = (item.unit.pk, row.post)
            position = new_posts.get(key)
            if position is None:
                position = account_services.position_create(
                    actor=actor, org_unit=item.unit, name=row.post, roles=[item.role])
                new_posts[key] = position
        name = row.username.lower()
        if name not in users:
            password = generate_password()
            user = account_services.user_create(
                actor=actor, username=row.username, password=password,
                full_name=row.full_name, email=row.email, one_time=True)
            if item.phone:
                user.phone = item.phone
                user.save(update_fields=["phone"])
            users[name] = (user, password)
        user = users[name][0]
        account_services.assignment_grant(actor=actor, user=user, position=position,
                                          note=_("人员导入"))
        posts_of.setdefault(name, []).append(f"{item.unit.name}·{row.post}")
        result.assignments += 1
    result.users_created = len(users)
    result.posts_created = len(new_posts)
    first_unit = {}
    for item in planned:
        first_unit.setdefault(item.row.username.lower(), item.unit.name)
    result.credentials = [
        Credential(username=user.username, full_name=user.first_name, unit=first_unit[name],
                   posts="；".join(posts_of[name]), password=password)
        for name, (user, password) in users.items()
    ]
    audit_record(actor=actor, action="staff.import", target_type="accounts.user",
                 target_label="import",
                 changes={"users": result.users_created, "posts": result.posts_created,
                          "assignments": result.assignments})
