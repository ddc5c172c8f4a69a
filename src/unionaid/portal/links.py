"""The security admin links a staff login to the member record of the person who holds it.

Once linked, the rules that follow a person and not a post apply to the login: nobody decides
their own or their household's approval case (``approvals.assignees.is_self_or_household``
reads ``user.member``), and the login sees its own record as a worker does."""

from __future__ import annotations

from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.accounts.models import User
from unionaid.audit.services import audit_record
from unionaid.core import idcard, masking
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.members.models import Member
from unionaid.members.selectors import id_number_hash, members_visible_to

MANAGE = "security.manage"


def _require_security(actor) -> None:
    if not access_for(actor).has_perm(MANAGE):
        raise PermissionDenied(_("只有安全管理员可以关联登录账号与职工档案。"))


def linked_logins(*, actor):
    """Logins linked to a member the security admin's scope covers, newest link first."""
    _require_security(actor)
    members = members_visible_to(user=actor, perm=MANAGE)
    return (User.objects.filter(member__in=members).select_related("member__org_unit")
            .order_by("username"))


def login_find(*, username: str) -> User:
    username = (username or "").strip()
    user = User.objects.alias(name_lower=Lower("username")).filter(
        name_lower=username.lower()).select_related("member").first()
    if user is None:
        raise NotFound(_("没有这个用户名。"), fields={"username": _("没有这个用户名。")})
    return user


def login_find_by_pk(*, pk) -> User:
    if not str(pk).isdigit():
        raise NotFound()
    user = User.objects.filter(pk=int(pk)).first()
    if user is None:
        raise NotFound()
    return user


def member_find_by_id_number(*, actor, id_number: str) -> Member:
    """The member with this ID number inside the security admin's scope; otherwise NotFound
    (out of scope looks the same as absent)."""
    try:
        number = idcard.parse_id_number(id_number).number
    except idcard.IdNumberError as exc:
        raise ServiceError(str(exc), code="validation_error",
                           fields={"id_number": str(exc)}) from None
    member = (members_visible_to(user=actor, perm=MANAGE).select_related("org_unit")
              .filter(id_number_hash=id_number_hash(number)).first())
    if member is None:
        message = _("您的管辖范围内没有这个身份证号的职工。")
        raise NotFound(message, fields={"id_number": message})
    return member


def _refuse(actor, action: str, user: User, reason: str, message: str, **changes) -> None:
    """Journal a refusal in a transaction of its own (the service's is rolled back)."""
    with transaction.atomic():
        audit_record(actor=actor, action=action, outcome="denied", target=user,
                     changes={"reason": reason, **changes})
    raise Conflict(message, code=reason)


def login_link_member(*, actor, user: User, member: Member) -> User:
    """Link ``user`` to ``member``. Refused: linking oneself, a login already linked, a member
    already linked to another login, a member outside the admin's scope."""
    _require_security(actor)
    if not members_visible_to(user=actor, perm=MANAGE).filter(pk=member.pk).exists():
        raise NotFound()
    if actor.pk == user.pk:
        _refuse(actor, "member.login_link", user, "self_link",
                _("不能关联自己的账号。"), member=member.pk)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        member = (Member.objects.select_for_update(of=("self",)).select_related("org_unit")
                  .get(pk=member.pk))
        reason = message = ""
        if user.member_id == member.pk:
            return user
        if user.member_id is not None:
            reason, message = "user_already_linked", _("该账号已关联其他职工，请先解除关联。")
        elif User.objects.filter(member=member).exists():
            reason, message = "member_already_linked", _("该职工已关联其他登录账号。")
        if not reason:
            user.member = member
            user.save(update_fields=["member"])
            audit_record(actor=actor, action="member.login_link", target=user,
                         org_unit_path=member.org_unit.path,
                         changes={"member": member.pk, "member_name": member.name,
                                  "id_number": masking.mask_id_number(member.id_number)})
            return user
    _refuse(actor, "member.login_link", user, reason, message, member=member.pk)
    raise AssertionError("unreachable")  # _refuse raises


def login_unlink_member(*, actor, user: User) -> User:
    _require_security(actor)
    if actor.pk == user.pk:
        _refuse(actor, "member.login_unlink", user, "self_link", _("不能解除自己账号的关联。"))
    with transaction.atomic():
        user = User.objects.select_for_update(of=("self",)).select_related("member__org_unit").get(pk=user.pk)
        member = user.member
        if member is None:
            return user
        if not members_visible_to(user=actor, perm=MANAGE).filter(pk=member.pk).exists():
            raise NotFound()
        user.member = None
        user.save(update_fields=["member"])
        audit_record(actor=actor, action="member.login_unlink", target=user,
                     org_unit_path=member.org_unit.path,
                     changes={"member": member.pk, "member_name": member.name})
    return user
