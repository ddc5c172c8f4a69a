"""Users, roles, posts and assignments: the security admin's work (安全管理员).

Rules enforced here, whatever the edge:
* only holders of ``security.manage`` manage users, posts, roles and assignments, and only for
  units their own grant of it covers;
* nobody grants themself anything; nobody grants a data scope wider than their own;
* the three admin duties (system / security / audit) are never held by one user;
* editing a role is granting it anew to everyone who holds it, so the same rules apply to
  every holder: nobody widens a role they hold themself, and no holder ends up with two duties
  (roles are global, so only a security admin whose own scope is "all" edits them);
* a refusal under these rules is journaled (outcome ``denied``) and survives the rollback;
* ending a user's last assignment or disabling the user ends their sessions and API tokens;
  a new password does too, whatever sets it (``User.save``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for, forget_access
from unionaid.accounts.models import (
    AccessStamp,
    ApiToken,
    Assignment,
    DataScope,
    Position,
    Role,
    User,
)
from unionaid.accounts.passwords import one_time_hash
from unionaid.accounts.permissions import ADMIN_DUTIES, PERMISSIONS, SCOPE_BREADTH, admin_duties
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.org.models import OrgUnit

MANAGE = "security.manage"

# Called as hook(actor=..., assignment=...) inside assignment_end's transaction, after the
# assignment has ended. Domains that hold work for a post (the approval engine's open tasks)
# register here from their AppConfig.ready, so accounts never imports them.
_ASSIGNMENT_END_HOOKS: list = []


def register_assignment_end_hook(hook) -> None:
    if hook not in _ASSIGNMENT_END_HOOKS:
        _ASSIGNMENT_END_HOOKS.append(hook)


def _require_security(actor, unit: OrgUnit | None = None) -> None:
    access = access_for(actor)
    if not access.has_perm(MANAGE):
        raise PermissionDenied(_("只有安全管理员可以管理用户、岗位、角色和任职。"))
    if unit is not None and not access.covers_unit(MANAGE, unit):
        raise PermissionDenied(_("您无权管理“%(unit)s”的岗位与任职。") % {"unit": unit.name})


# Codes of the granting rules. A refusal under one of them is journaled (``_journals_refusals``).
GRANT_REFUSALS = frozenset({"self_grant", "scope_too_wide", "separation_of_duties",
                            "roles_global_only"})


def _journals_refusals(action: str, describe):
    """Journal a refusal under the granting rules as ``action`` with outcome ``denied``.

    The refused service's transaction has rolled back by then, so the entry is written in a
    transaction of its own and stays. ``describe(kwargs)`` gives the target and what was tried.
    """
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*, actor, **kwargs):
            try:
                return func(actor=actor, **kwargs)
            except ServiceError as exc:
                if actor is not None and exc.code in GRANT_REFUSALS:
                    target, target_type, label, changes = describe(kwargs)
                    with transaction.atomic():
                        audit_record(actor=actor, action=action, outcome="denied",
                                     target=target, target_type=target_type,
                                     target_label=label,
                                     changes={"reason": exc.code, **changes})
                raise
        return wrapper
    return decorate


def _role_tried(kwargs) -> tuple:
    """(target, target type, target label, changes) of a refused role edit or creation."""
    role = kwargs.get("role")
    code = role.code if role is not None else kwargs.get("code", "")
    tried = {"code": code, "permissions": sorted(set(kwargs.get("permissions") or [])),
             "data_scope": kwargs.get("data_scope", "")}
    return role, "accounts.role", "" if role is not None else code, tried


def _grant_tried(kwargs) -> tuple:
    """(target, target type, target label, changes) of a refused grant or move: the user."""
    position = kwargs["position"]
    user = kwargs["user"] if "user" in kwargs else kwargs["assignment"].user
    return user, "", "", {"position": str(position), "position_id": position.pk}


def _validate_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        messages = " ".join(exc.messages)
        raise ServiceError(messages, code="weak_password", fields={"password": messages}) from None


@transaction.atomic
def user_create(
    *, actor, username: str, password: str, full_name: str = "", member=None, email: str = "",
    one_time: bool = False,
) -> User:
    """Create a login. ``actor=None`` is allowed only for set-up commands (demo, first admin)
    and for a worker's own activation (``portal.activation``, once a code proved who they are).
    ``one_time``: ``password`` was generated (``passwords.generate_password``) to be handed
    out; the user must set their own at first login."""
    if actor is not None:
        _require_security(actor)
    username = (username or "").strip()
    if not username:
        raise ServiceError(_("请填写用户名。"), code="validation_error",
                           fields={"username": _("请填写用户名。")})
    # User names are unique regardless of letter case.
    if User.objects.alias(name_lower=Lower("username")).filter(name_lower=username.lower()).exists():
        raise Conflict(_("用户名已存在。"), code="duplicate_username",
                       fields={"username": _("用户名已存在。")})
    user = User(username=username, first_name=full_name[:150], email=email, member=member)
    _validate_password(password, user)
    if one_time:
        user.password = one_time_hash(password)
        user.must_change_password = True
    else:
        user.set_password(password)
    user.save()
    audit_record(actor=actor, action="user.create", target=user,
                 changes={"username": username, "member": member.pk if member else None,
                          **({"one_time_password": True} if one_time else {})})
    return user


def _end_sessions_and_tokens(user: User) -> None:
    User.objects.filter(pk=user.pk).update(session_version=user.session_version + 1)
    user.session_version += 1
    user.revoke_api_tokens()


@transaction.atomic
def user_set_active(*, actor, user: User, active: bool) -> User:
    _require_security(actor)
    if actor.pk == user.pk:
        raise PermissionDenied(_("不能停用或启用自己的账号。"))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        _end_sessions_and_tokens(user)
    audit_record(actor=actor, action="user.enable" if active else "user.disable", target=user)
    return user


@transaction.atomic
def user_set_password(*, actor, user: User, password: str) -> User:
    """Set a new password. Saving it ends the user's other sessions (the session hash) and
    revokes their API tokens (``User.save``)."""
    if actor.pk != user.pk:
        _require_security(actor)
    _validate_password(password, user)
    if actor.pk == user.pk and user.check_password(password) and user.must_change_password:
        raise ServiceError(_("新密码不能与初始密码相同。"), code="same_password",
                           fields={"password": _("新密码不能与初始密码相同。")})
    user.set_password(password)
    # Their own choice ends a one-time password's term; a password set by an admin starts one.
    user.must_change_password = actor.pk != user.pk
    user.save(update_fields=["password", "must_change_password"])
    audit_record(actor=actor, action="user.password", target=user)
    return user


def _clean_permissions(permissions) -> list[str]:
    perms = sorted(set(permissions or []))
    unknown = [p for p in perms if p not in PERMISSIONS]
    if unknown:
        raise ServiceError(_("未知权限：%s") % ", ".join(unknown), code="unknown_permission")
    if len(set(perms) & set(ADMIN_DUTIES)) > 1:
        raise ServiceError(
            _("系统管理、安全管理、审计管理三类权限不能放在同一角色（三权分立）。"),
            code="separation_of_duties",
        )
    return perms


def _not_ended():
    """Assignments that have not ended yet: current ones and those that start later. The
    granting rules count them all, since their rights arrive without anyone granting again."""
    return Assignment.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=timezone.now()))


def _role_holders(role: Role) -> list[User]:
    """Everyone whom a change of ``role`` reaches: holders of a post carrying it, now or from
    an assignment that has not ended yet (one that starts later included)."""
    live = _not_ended().filter(position__roles=role)
    return list(User.objects.filter(assignments__in=live).distinct())


@_journals_refusals("role.save", _role_tried)
@transaction.atomic
def role_save(
    *, actor, code: str, name: str, permissions, data_scope: str, description: str = "",
    role: Role | None = None,
) -> Role:
    """Create or change a role. Changing one grants its new rights to everyone who holds it,
    so the granting rules apply to each holder (the module's docstring)."""
    if actor is not None:
        _require_security(actor)
        # Roles are global objects: only a security admin with an all-units grant edits them,
        # so no role's data scope is ever wider than the editor's own.
        if not any(g.scope == DataScope.ALL for g in access_for(actor).grants_for(MANAGE)):
            raise PermissionDenied(_("只有全局安全管理员可以维护角色。"), code="roles_global_only")
    if data_scope not in DataScope.values:
        raise ServiceError(_("数据范围无效。"), code="validation_error")
    perms = _clean_permissions(permissions)
    if role is None:
        if Role.objects.filter(code=code).exists():
            raise Conflict(_("角色编码已存在。"), code="duplicate_code")
        role = Role(code=code)
        before = {}
    else:
        role = Role.objects.select_for_update().get(pk=role.pk)
        before = {"name": role.name, "permissions": role.permissions, "data_scope": role.data_scope}
        widens = bool(set(perms) - set(role.permissions)) or (
            SCOPE_BREADTH[DataScope(data_scope)] > SCOPE_BREADTH[DataScope(role.data_scope)]
        )
        holders = _role_holders(role)
        if widens and actor is not None and any(h.pk == actor.pk for h in holders):
            raise PermissionDenied(
                _("您本人担任的岗位带有角色“%(role)s”，不能为它增加权限或扩大数据范围"
                  "（不能给自己授权）。") % {"role": role.name},
                code="self_grant",
            )
        for holder in holders:
            _check_duties_after(holder, extra_perms=set(perms), replacing=role)
    role.name, role.permissions, role.data_scope = name, perms, data_scope
    role.description = description
    role.save()
    audit_record(actor=actor, action="role.save", target=role, changes={
        "before": before, "after": {"name": name, "permissions": perms, "data_scope": data_scope}})
    return role


@transaction.atomic
def position_create(*, actor, org_unit: OrgUnit, name: str, roles=()) -> Position:
    if actor is not None:
        _require_security(actor, org_unit)
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("请填写岗位名称。"), code="validation_error",
                           fields={"name": _("请填写岗位名称。")})
    if Position.objects.filter(org_unit=org_unit, name=name).exists():
        raise Conflict(_("该单位已有同名岗位。"), code="duplicate_position")
    position = Position.objects.create(org_unit=org_unit, name=name)
    position.roles.set(roles)
    audit_record(actor=actor, action="position.create", target=position,
                 org_unit_path=org_unit.path,
                 changes={"roles": [r.code for r in roles]})
    return position


def _check_duties_after(user: User, *, extra_perms: set[str], replacing: Role | None = None
                        ) -> None:
    """Refuse if ``user`` would hold two admin duties with ``extra_perms`` added, counting the
    roles of every assignment of theirs not ended yet (one starting later too: from that day
    they hold both); with ``replacing``, that role's present permissions are not counted (they
    are being replaced)."""
    roles = Role.objects.filter(positions__assignments__in=_not_ended().filter(user=user))
    if replacing is not None:
        roles = roles.exclude(pk=replacing.pk)
    held = {perm for perms in roles.values_list("permissions", flat=True) for perm in perms}
    held |= extra_perms
    if len(admin_duties(held)) > 1:
        raise ServiceError(
            _("同一用户不能同时担任系统管理员、安全管理员、审计管理员中的两个（三权分立）。"),
            code="separation_of_duties",
        )


@_journals_refusals("assignment.grant", _grant_tried)
@transaction.atomic
def assignment_grant(
    *, actor, user: User, position: Position, starts_at=None, ends_at=None, note: str = ""
) -> Assignment:
    """Give ``user`` the post ``position``. Rights follow from the next request on."""
    position = Position.objects.select_related("org_unit").get(pk=position.pk)
    roles = list(position.roles.all())
    if actor is not None:
        _require_security(actor, position.org_unit)
        if actor.pk == user.pk:
            raise PermissionDenied(_("不能给自己任职或授权。"), code="self_grant")
        actor_access = access_for(actor)
        for role in roles:
            if not actor_access.covers_scope(MANAGE, position.org_unit, role.data_scope):
                raise PermissionDenied(
                    _("角色“%(role)s”的数据范围超出了您自己的管理范围。") % {"role": role.name},
                    code="scope_too_wide",
                )
    if not position.is_active or position.org_unit.is_closed:
        raise ServiceError(_("该岗位已停用或所在单位已撤销。"), code="position_inactive")
    if not user.is_active:
        raise ServiceError(_("该用户已停用。"), code="user_inactive")
    _check_duties_after(user, extra_perms={p for r in roles for p in r.permissions})
    assignment = Assignment.objects.create(
        user=user, position=position, starts_at=starts_at or timezone.now(), ends_at=ends_at,
        granted_by=actor, note=note[:200],
    )
    forget_access(user)
    audit_record(actor=actor, action="assignment.grant", target=user,
                 org_unit_path=position.org_unit.path,
                 changes={"position": str(position), "assignment": assignment.pk})
    return assignment


@transaction.atomic
def assignment_end(*, actor, assignment: Assignment, at=None) -> Assignment:
    """End a post now. The user's rights from it stop on their next request; ending their last
    post also ends their sessions and API tokens."""
    # Only the assignment row is locked: locking its unit too would order locks against the
    # org import (unit, then the access stamp its triggers write) and deadlock on PostgreSQL.
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("position__org_unit", "user").get(pk=assignment.pk)
    )
    if actor is not None:
        _require_security(actor, assignment.position.org_unit)
    now = at or timezone.now()
    if assignment.ends_at is not None and assignment.ends_at <= now:
        raise Conflict(_("该任职已结束。"), code="already_ended")
    assignment.ends_at = now
    assignment.save(update_fields=["ends_at"])
    user = assignment.user
    remaining = Assignment.objects.current(now).filter(user=user).exists()
    if not remaining:
        _end_sessions_and_tokens(user)
    forget_access(user)
    for hook in _ASSIGNMENT_END_HOOKS:
        hook(actor=actor, assignment=assignment)
    audit_record(actor=actor, action="assignment.end", target=user,
                 org_unit_path=assignment.position.org_unit.path,
                 changes={"position": str(assignment.position), "assignment": assignment.pk,
                          "sessions_ended": not remaining})
    return assignment


@_journals_refusals("assignment.move", _grant_tried)
@transaction.atomic
def assignment_move(*, actor, assignment: Assignment, position: Position) -> Assignment:
    """Change post: end the old assignment and start the new one in one step."""
    user = assignment.user
    new = assignment_grant(actor=actor, user=user, position=position)
    assignment_end(actor=actor, assignment=assignment)
    return new


# -- API tokens -------------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# A token made by the app login (POST /api/v1/auth/login) lives this long; one made on the
# tokens page lives as long as chosen there, one year at most.
APP_LOGIN_LIFETIME = dt.timedelta(hours=12)
MAX_TOKEN_LIFETIME = dt.timedelta(days=366)
TOKEN_KINDS = ("personal", "app_login")


def _token_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 60:
        message = _("请填写令牌名称（不超过 60 字）。")
        raise ServiceError(message, code="invalid_token", fields={"name": message})
    return name


@transaction.atomic
def api_token_create(*, actor, name: str, expires_at: dt.datetime | None = None,
                     kind: str = "personal") -> tuple[ApiToken, str]:
    """Create a token for the actor themself; the clear token is returned once, only its hash
    is stored. ``expires_at`` None = until revoked.

    The three admin duties work only in a 2FA-verified browser session, never with a token.
    """
    if access_for(actor).duties:
        raise PermissionDenied(_("管理员账号不能创建接口令牌，请在浏览器中经双因素验证后操作。"),
                               code="admin_token_refused")
    name = _token_name(name)
    now = timezone.now()
    if expires_at is not None and timezone.is_naive(expires_at):  # a date or time without zone
        expires_at = timezone.make_aware(expires_at)  # is Beijing time (TIME_ZONE)
    if expires_at is not None and not (now < expires_at <= now + MAX_TOKEN_LIFETIME):
        message = _("有效期须在今后一年之内。")
        raise ServiceError(message, code="invalid_token", fields={"expires_at": message})
    if kind not in TOKEN_KINDS:
        raise ServiceError(code="invalid_token")
    raw = "ua_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=actor, name=name, prefix=raw[3:11],
                                    digest=_digest(raw), expires_at=expires_at, kind=kind)
    audit_record(actor=actor, action="token.create", target=actor, changes={
        "name": token.name, "prefix": token.prefix, "kind": kind,
        "expires_at": expires_at.isoformat() if expires_at else None})
    return token, raw


def _revoke(*, actor, token: ApiToken, by_admin: bool) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="token.revoke", target=token.user,
                 changes={"name": token.name, "prefix": token.prefix, "by_admin": by_admin})


@transaction.atomic
def api_token_revoke(*, actor, token_id: int) -> None:
    """Revoke one of the actor's own tokens (a revoked or unknown one is "not found")."""
    token = (ApiToken.objects.select_for_update().select_related("user")
             .filter(pk=token_id, user=actor, revoked_at__isnull=True).first())
    if token is None:
        raise NotFound()
    _revoke(actor=actor, token=token, by_admin=False)


@transaction.atomic
def api_token_revoke_for_user(*, actor, token: ApiToken) -> None:
    """A security admin revokes someone's token; ``token`` comes from
    ``selectors.tokens_visible_to`` (their scope), which this checks again."""
    _require_security(actor)
    if token.revoked_at is not None:
        raise Conflict(_("该令牌已吊销。"), code="token_revoked")
    _revoke(actor=actor, token=token, by_admin=True)


def _token_sql() -> str:
    """The token lookup's SELECT: the token's and its user's columns, and the access stamp."""
    token_cols = [f"t.{f.column}" for f in ApiToken._meta.concrete_fields]
    user_cols = [f"u.{f.column}" for f in User._meta.concrete_fields]
    return (  # names come from the models, values are parameters
        f"SELECT {', '.join(token_cols + user_cols)}, "  # noqa: S608
        f"(SELECT value FROM {AccessStamp._meta.db_table} WHERE id = 1) "
        f"FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id "
        "WHERE t.digest = %s AND t.revoked_at IS NULL "
        "AND (t.expires_at IS NULL OR t.expires_at > %s)"
    )


_TOKEN_SQL = _token_sql()


def _from_row(model, values, db: str):
    """An instance of ``model`` from its concrete columns' raw values, with the database's
    converters applied as the ORM's compiler applies them (SQLite's dates and booleans)."""
    converted = []
    for field, value in zip(model._meta.concrete_fields, values, strict=True):
        col = field.get_col(model._meta.db_table)
        for convert in connection.ops.get_db_converters(col) + col.get_db_converters(connection):
            value = convert(value, col, connection)
        converted.append(value)
    return model.from_db(db, [f.attname for f in model._meta.concrete_fields], converted)


def api_token_lookup(raw: str) -> ApiToken | None:
    """The live token (not revoked, not expired, its user active) this clear value is, or
    None; notes when it was last used (at most once a minute).

    One query written as SQL: the token, its user, and the access stamp the user's rights are
    checked against (``User.access``), so a request whose rights are cached pays nothing more.
    It runs on every API call, and the ORM spent longer building this statement than the
    database took to answer it (issue 11's serve benchmark)."""
    if not raw or not raw.startswith("ua_"):
        return None
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_TOKEN_SQL, [_digest(raw), connection.ops.adapt_datetimefield_value(now)])
        row = cursor.fetchone()
    if row is None:
        return None
    n_token = len(ApiToken._meta.concrete_fields)
    token = _from_row(ApiToken, row[:n_token], connection.alias)
    user = _from_row(User, row[n_token:-1], connection.alias)
    if not user.is_active:
        return None
    token.user = user
    user.access_stamp = row[-1]
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_authenticate(raw: str) -> User | None:
    token = api_token_lookup(raw)
    return token.user if token is not None else None


def unit_close_guard(unit: OrgUnit) -> None:
    """Close guard (``org/guards.py``): a unit with people in its posts stays open."""
    if Assignment.objects.current().filter(position__org_unit=unit).exists():
        raise Conflict(_("该单位还有在任人员，请先结束其任职。"), code="unit_has_assignments")
