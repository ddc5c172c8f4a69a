"""How workers get their own login: phone-first activation with an SMS code, printed activation
codes for workers without a phone of their own, and the SMS-code login.

Rules kept here, whatever the page:
* no membership oracle: a request that matches nobody on the roster (or a member who already has
  a login, or a phone shared by several members) does the same work as one that matches — one
  roster lookup by keyed hash, one code row (a decoy that names no member), one attempt row, one
  journal event — and gets the same answer; only a match sends an SMS, after the commit;
* rate limits per phone, per ID number (their keyed hashes) and per client address, counted in
  the database (``LoginAttempt``), so every process of every server sees the same counts;
* codes are stored as keyed hashes, expire, and allow a few attempts only;
* every attempt is journaled with masked identifiers and its outcome.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django_otp import user_has_device

from unionaid.accounts.access import access_for
from unionaid.accounts.models import Assignment, User
from unionaid.accounts.services import user_create
from unionaid.audit.scoped import record_denial
from unionaid.audit.services import audit_record
from unionaid.core import masking
from unionaid.core.errors import Conflict, NotFound, ServiceError
from unionaid.members.models import Member, MembershipStatus
from unionaid.members.selectors import id_number_hash, phone_hash
from unionaid.notifications.services import send_code
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import units_visible_to
from unionaid.portal.models import AttemptAction, CodePurpose, LoginAttempt, LoginCode

SMS_CODE_TTL = dt.timedelta(minutes=10)
PRINTED_CODE_TTL = dt.timedelta(days=30)
VERIFIED_TTL = dt.timedelta(minutes=15)  # from a right code to the password
MAX_CODE_ATTEMPTS = 5
LIMIT_WINDOW = dt.timedelta(hours=1)
# Tries per hour, per key; settings.LOGIN_CODE_LIMITS overrides any of them. The per-address
# limits are loose on purpose: many phones share one carrier-grade NAT address, and a union
# office shares one (django-axes's per-address lockout is off for the same reason).
DEFAULT_LIMITS = {
    AttemptAction.SEND: {"phone": 5, "id_number": 5, "ip": 60},
    AttemptAction.VERIFY: {"phone": 10, "id_number": 10, "ip": 120},
    AttemptAction.PRINTED: {"id_number": 10, "ip": 60},
}
# Printed codes: no 0/O, 1/I/L, so that they are read off paper without doubt.
PRINTED_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PRINTED_LENGTH = 12
PRINT_PERMISSION = "members.view"  # over the 班组 as a unit: a worker's self grant never is


class RateLimited(ServiceError):
    status = 429
    default_code = "rate_limited"
    default_message = _("尝试次数过多，请一小时后再试。")


WRONG_CODE = _("验证码不正确，或已失效。请核对后重试，或重新获取验证码。")
WRONG_PRINTED = _("激活码、姓名或身份证号不正确，或激活码已失效。")


@dataclass(frozen=True)
class Challenge:
    """What the session keeps between sending a code and checking it: the code row and the
    keyed hashes of what was typed (for the rate limits). Nothing identifying in clear."""

    code_id: int
    phone_hash: str = ""
    id_number_hash: str = ""

    def as_session(self) -> dict:
        return {"code": self.code_id, "phone": self.phone_hash, "id": self.id_number_hash}

    @classmethod
    def from_session(cls, data) -> Challenge | None:
        if not isinstance(data, dict) or not isinstance(data.get("code"), int):
            return None
        return cls(data["code"], str(data.get("phone", "")), str(data.get("id", "")))


# -- helpers --------------------------------------------------------------------------------

def code_hash(code: str) -> str:
    normalized = (code or "").strip().upper().replace("-", "").replace(" ", "")
    return salted_hmac("unionaid.portal.login_code", normalized,
                       secret=settings.SECRET_KEY, algorithm="sha256").hexdigest()


def _sms_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def printed_code() -> str:
    raw = "".join(secrets.choice(PRINTED_ALPHABET) for _i in range(PRINTED_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, PRINTED_LENGTH, 4))


def _limits(action: str) -> dict[str, int]:
    overrides = getattr(settings, "LOGIN_CODE_LIMITS", {}).get(str(action), {})
    return {**DEFAULT_LIMITS[action], **overrides}


def _is_limited(action: str, *, phone_h: str = "", id_h: str = "", ip: str | None = None) -> bool:
    since = timezone.now() - LIMIT_WINDOW
    recent = LoginAttempt.objects.filter(action=action, at__gte=since)
    limits = _limits(action)
    keys = {"phone": ("phone_hash", phone_h), "id_number": ("id_number_hash", id_h),
            "ip": ("ip", ip)}
    for key, limit in limits.items():
        field, value = keys[key]
        if value and recent.filter(**{field: value}).count() >= limit:
            return True
    return False


def _attempt(action: str, outcome: str, *, phone_h: str = "", id_h: str = "",
             ip: str | None = None) -> None:
    LoginAttempt.objects.create(action=action, outcome=outcome, phone_hash=phone_h,
                                id_number_hash=id_h, ip=ip or None)


def _journal(action: str, *, outcome: str, member: Member | None = None, actor=None,
             **changes) -> None:
    audit_record(
        actor=actor, action=action, outcome="ok" if outcome == "ok" else "denied",
        target=member, target_type="" if member else "members.member",
        org_unit_path=member.org_unit.path if member else "",
        changes={"result": outcome, **changes},
    )


def _refuse_when_limited(action: str, journal_action: str, *, phone_h: str = "", id_h: str = "",
                         ip: str | None = None, **masked) -> None:
    if not _is_limited(action, phone_h=phone_h, id_h=id_h, ip=ip):
        return
    with transaction.atomic():
        _attempt(action, "rate_limited", phone_h=phone_h, id_h=id_h, ip=ip)
        _journal(journal_action, outcome="rate_limited", **masked)
    raise RateLimited()


def _same_name(member: Member, name: str) -> bool:
    return member.name.strip() == (name or "").strip()


def _phone_is_own(member: Member) -> bool:
    """The member's roster phone is theirs alone (no other member has the same number)."""
    return bool(member.phone_hash) and not Member.objects.filter(
        phone_hash=member.phone_hash).exclude(pk=member.pk).exists()


# -- phone-first activation -----------------------------------------------------------------

def activation_code_send(*, name: str, id_number: str, phone: str, ip: str | None) -> Challenge:
    """Step 1. ``id_number`` and ``phone`` are already validated (the form). Sends a code to
    the roster phone when name, ID number and phone match a current member with no login and a
    phone of their own; otherwise a decoy. Same answer either way."""
    id_h, phone_h = id_number_hash(id_number), phone_hash(phone)
    masked = {"phone": masking.mask_phone(phone), "id_number": masking.mask_id_number(id_number)}
    _refuse_when_limited(AttemptAction.SEND, "login.activation_send", phone_h=phone_h, id_h=id_h,
                         ip=ip, **masked)
    member = Member.objects.select_related("org_unit").filter(id_number_hash=id_h).first()
    has_login = User.objects.filter(member__id_number_hash=id_h).exists()
    phone_shared = Member.objects.filter(phone_hash=phone_h).count() > 1
    if member is None:
        reason = "not_on_roster"
    elif not member.is_active_member:
        reason = "not_a_member"
    elif not _same_name(member, name) or member.phone_hash != phone_h:
        reason = "details_differ"
    elif phone_shared:
        reason = "phone_shared"
    elif has_login:
        reason = "has_login"
    else:
        reason = "ok"
    matched = member if reason == "ok" else None
    code = _sms_code()
    with transaction.atomic():
        row = LoginCode.objects.create(
            purpose=CodePurpose.ACTIVATE, member=matched, code_hash=code_hash(code),
            expires_at=timezone.now() + SMS_CODE_TTL,
        )
        _attempt(AttemptAction.SEND, reason, phone_h=phone_h, id_h=id_h, ip=ip)
        # The journal names the member only when the details matched in full.
        _journal("login.activation_send", outcome=reason, member=matched, **masked)
    # Sent once the code row has committed (this service's own transaction just did).
    if matched is not None:
        send_code(phone, code, CodePurpose.ACTIVATE)
    return Challenge(row.pk, phone_h, id_h)


def _check_code(challenge: Challenge, code: str, *, purpose: str, journal_action: str,
                ip: str | None) -> Member:
    _refuse_when_limited(AttemptAction.VERIFY, journal_action, phone_h=challenge.phone_hash,
                         id_h=challenge.id_number_hash, ip=ip)
    now = timezone.now()
    with transaction.atomic():
        row = (LoginCode.objects.select_for_update(of=("self",)).select_related("member__org_unit")
               .filter(pk=challenge.code_id, purpose=purpose).first())
        if row is None or not row.is_live(now) or row.attempts >= MAX_CODE_ATTEMPTS:
            outcome = "expired"
        else:
            row.attempts += 1
            right = constant_time_compare(row.code_hash, code_hash(code))
            outcome = "ok" if right and row.member_id else "wrong_code"
            if outcome == "ok":
                row.used_at = now
            row.save(update_fields=["attempts", "used_at"])
        member = row.member if row is not None and outcome == "ok" else None
        _attempt(AttemptAction.VERIFY, outcome, phone_h=challenge.phone_hash,
                 id_h=challenge.id_number_hash, ip=ip)
        _journal(journal_action, outcome=outcome, member=member,
                 attempt=row.attempts if row is not None else None)
    if member is None:
        raise ServiceError(WRONG_CODE, code=outcome)
    return member


def activation_code_check(*, challenge: Challenge, code: str, ip: str | None) -> Member:
    """Step 2: the member whose code this is, or ServiceError (wrong_code / expired) or
    RateLimited. A decoy code is never right."""
    return _check_code(challenge, code, purpose=CodePurpose.ACTIVATE,
                       journal_action="login.activation_check", ip=ip)


@transaction.atomic
def activation_complete(*, member_id: int, username: str, password: str | None,
                        printed_code_id: int | None = None) -> User:
    """Step 3: create the worker's login, linked to their member record. ``password=None``
    makes a login without a password (an SMS code at each login; only for an own phone)."""
    member = Member.objects.select_for_update().select_related("org_unit").get(pk=member_id)
    if User.objects.filter(member=member).exists():
        raise Conflict(_("您已开通账号，请直接登录。"), code="already_active")
    if printed_code_id is not None:
        row = LoginCode.objects.select_for_update().filter(
            pk=printed_code_id, purpose=CodePurpose.PRINTED, member=member).first()
        if row is None or not row.is_live():
            raise ServiceError(WRONG_PRINTED, code="expired")
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
    if password is None and not _phone_is_own(member):
        raise ServiceError(_("您在名册上没有本人手机号，请设置密码。"), code="password_required",
                           fields={"password1": _("请设置密码。")})
    user = user_create(actor=None, username=username,
                       password=password or _throwaway_password(), full_name=member.name,
                       member=member)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    audit_record(actor=user, action="login.activate", target=member,
                 org_unit_path=member.org_unit.path,
                 changes={"user": user.pk, "username": user.username,
                          "via": "printed" if printed_code_id else "sms",
                          "password": password is not None})
    return user


def _throwaway_password() -> str:
    # Passes the validators; replaced at once by an unusable password.
    return secrets.token_urlsafe(24) + "aA1-"


# -- printed activation codes ---------------------------------------------------------------

def members_without_own_phone(unit):
    """Current members of exactly ``unit`` with no login and no phone of their own on the
    roster: no phone, or a phone another member also has."""
    shared = Member.objects.filter(phone_hash=OuterRef("phone_hash")).exclude(pk=OuterRef("pk"))
    return (Member.objects.filter(org_unit=unit, membership_status=MembershipStatus.ACTIVE,
                                  user__isnull=True)
            .filter(Q(phone_hash="") | Exists(shared)).order_by("name", "pk"))


def printing_unit_get(*, user, pk) -> OrgUnit:
    """The unit whose activation codes ``user`` may print: one they hold ``members.view``
    over as a unit (a worker's own grant never covers one). Otherwise NotFound, and a unit
    that exists but is out of scope is journaled as ``access.denied``."""
    unit = OrgUnit.objects.filter(pk=pk, is_closed=False).first() if pk > 0 else None
    if unit is None:
        raise NotFound()
    if not access_for(user).covers_unit(PRINT_PERMISSION, unit):
        record_denial(user=user, target_type="org.orgunit", target_id=unit.pk,
                      action="login.printed_issue")
        raise NotFound()
    return unit


def printing_units_for(*, user):
    """Open units of the lowest level (班组 …) that ``user`` may print codes for."""
    return (units_visible_to(user=user, perm=PRINT_PERMISSION)
            .filter(is_closed=False, numchild=0).order_by("path"))


@transaction.atomic
def printed_codes_issue(*, actor, unit) -> list[tuple[Member, str, dt.datetime]]:
    """New activation codes for the members of ``unit`` without a phone of their own; the
    earlier codes of those members are revoked. The clear codes exist only in the answer."""
    if not access_for(actor).covers_unit(PRINT_PERMISSION, unit):
        raise NotFound()
    now = timezone.now()
    members = list(members_without_own_phone(unit).select_related("org_unit"))
    revoked = LoginCode.objects.filter(
        purpose=CodePurpose.PRINTED, member__in=members, used_at__isnull=True,
        revoked_at__isnull=True).update(revoked_at=now)
    expires = now + PRINTED_CODE_TTL
    issued, rows = [], []
    for member in members:
        code = printed_code()
        rows.append(LoginCode(purpose=CodePurpose.PRINTED, member=member,
                              code_hash=code_hash(code), expires_at=expires, issued_by=actor))
        issued.append((member, code, expires))
    LoginCode.objects.bulk_create(rows)
    audit_record(actor=actor, action="login.printed_issue", target=unit,
                 org_unit_path=unit.path,
                 changes={"members": [m.pk for m in members], "count": len(members),
                          "revoked": revoked, "expires_at": expires.isoformat()})
    return issued


def printed_code_check(*, code: str, name: str, id_number: str, ip: str | None
                       ) -> tuple[Member, int]:
    """The member and code row of a live printed code whose member has this name and ID
    number, or ServiceError (one message for every failure) or RateLimited."""
    id_h = id_number_hash(id_number)
    masked = {"id_number": masking.mask_id_number(id_number)}
    _refuse_when_limited(AttemptAction.PRINTED, "login.activation_printed", id_h=id_h, ip=ip,
                         **masked)
    now = timezone.now()
    with transaction.atomic():
        row = (LoginCode.objects.select_for_update(of=("self",)).select_related("member__org_unit")
               .filter(purpose=CodePurpose.PRINTED, code_hash=code_hash(code))
               .order_by("-pk").first())
        member = None
        if row is None:
            outcome = "unknown_code"
        elif not row.is_live(now) or row.attempts >= MAX_CODE_ATTEMPTS:
            outcome = "expired"
        elif row.member.id_number_hash != id_h or not _same_name(row.member, name):
            row.attempts += 1
            if row.attempts >= MAX_CODE_ATTEMPTS:
                row.revoked_at = now
            row.save(update_fields=["attempts", "revoked_at"])
            outcome = "details_differ"
        elif User.objects.filter(member=row.member).exists():
            outcome = "has_login"
        else:
            outcome, member = "ok", row.member
        _attempt(AttemptAction.PRINTED, outcome, id_h=id_h, ip=ip)
        _journal("login.activation_printed", outcome=outcome, member=member, **masked)
    if member is None:
        raise ServiceError(WRONG_PRINTED, code=outcome)
    return member, row.pk


# -- login with an SMS code -----------------------------------------------------------------

def _code_login_user(phone_h: str) -> User | None:
    """The one worker login an SMS code may open for this phone: linked to a current member
    whose own roster phone it is, active, holding no post and no second factor (staff log in
    with their password and, where required, TOTP)."""
    users = list(User.objects.select_related("member__org_unit")
                 .filter(member__phone_hash=phone_h, is_active=True)[:2])
    if len(users) != 1:
        return None
    user = users[0]
    if (not user.member.is_active_member or not _phone_is_own(user.member)
            or Assignment.objects.filter(user=user).current().exists()
            or user_has_device(user, confirmed=True)):
        return None
    return user


def login_code_send(*, phone: str, ip: str | None) -> Challenge:
    phone_h = phone_hash(phone)
    masked = {"phone": masking.mask_phone(phone)}
    _refuse_when_limited(AttemptAction.SEND, "login.code_send", phone_h=phone_h, ip=ip, **masked)
    user = _code_login_user(phone_h)
    code = _sms_code()
    with transaction.atomic():
        row = LoginCode.objects.create(
            purpose=CodePurpose.LOGIN, member=user.member if user else None,
            code_hash=code_hash(code), expires_at=timezone.now() + SMS_CODE_TTL,
        )
        outcome = "ok" if user else "no_worker_login"
        _attempt(AttemptAction.SEND, outcome, phone_h=phone_h, ip=ip)
        _journal("login.code_send", outcome=outcome, member=user.member if user else None,
                 **masked)
    if user is not None:
        send_code(phone, code, CodePurpose.LOGIN)
    return Challenge(row.pk, phone_h)


def login_code_check(*, challenge: Challenge, code: str, ip: str | None) -> User:
    """The worker's login for a right code (checked again: still the one for this phone)."""
    member = _check_code(challenge, code, purpose=CodePurpose.LOGIN,
                         journal_action="login.code_check", ip=ip)
    user = _code_login_user(member.phone_hash)
    if user is None or user.member_id != member.pk:
        raise ServiceError(WRONG_CODE, code="no_worker_login")
    return user


# -- housekeeping ---------------------------------------------------------------------------

ATTEMPTS_KEPT = dt.timedelta(days=2)  # longer than any limit's window
CODES_KEPT = dt.timedelta(days=7)  # after expiry; the journal keeps the story


@transaction.atomic
def login_codes_purge(*, now=None) -> tuple[int, int]:
    """Delete attempts older than the limits look back and codes expired a week ago (decoys
    included). Returns (attempts, codes) deleted; journaled."""
    now = now or timezone.now()
    attempts, _kinds = LoginAttempt.objects.filter(at__lt=now - ATTEMPTS_KEPT).delete()
    codes, _kinds = LoginCode.objects.filter(expires_at__lt=now - CODES_KEPT).delete()
    if attempts or codes:
        audit_record(actor=None, action="login.codes_purge", target_type="portal.logincode",
                     changes={"attempts": attempts, "codes": codes})
    return attempts, codes
