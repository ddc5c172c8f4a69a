"""How workers get their own login: phone-first activation with an SMS code, printed activation
codes for workers without a phone of their own, and the SMS-code login.

Rules kept here, whatever the page:
* no membership oracle: a request that matches nobody on the roster (or a member who already has
  a login, or a phone shared by several members) does the same work as one that matches — one
  roster lookup by keyed hash, one code row (a decoy that names no member), one attempt row, one
  journal event, one queued task carrying only the code row's id — and gets the same answer;
  the task (run by the worker, after the commit) drops a decoy and texts a match's roster phone;
* rate limits per phone, per ID number (their keyed hashes) and per client address, counted in
  the database (``LoginAttempt``), so every process of every server sees the same counts. Check
  and record are one step per key: in one transaction the attempt row is written first (outcome
  pending) and then counted with it, serialised per key (PostgreSQL: an advisory lock on each
  key's hash; SQLite serialises writers anyway), so simultaneous requests can't all slip under;
* codes are stored as keyed hashes, expire, and allow a few attempts only;
* every attempt is journaled with masked identifiers and its outcome.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django_otp import user_has_device
from django_tasks import task

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

logger = logging.getLogger(__name__)

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


PENDING = "pending"  # an attempt being made; its outcome is written in the same transaction


def _lock_id(key: str) -> int:
    """A signed 64-bit advisory lock id for one rate-limit key."""
    digest = hashlib.sha256(f"unionaid.portal.limit:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock_keys(*, phone_h: str = "", id_h: str = "", ip: str | None = None) -> None:
    """Serialise check-and-record per key until the end of the transaction (PostgreSQL; on
    SQLite the attempt row's insert takes the one writer lock). Sorted: no lock-order
    deadlock between two requests sharing two keys."""
    if connection.vendor != "postgresql":
        return
    keys = [f"phone:{phone_h}" if phone_h else "", f"id:{id_h}" if id_h else "",
            f"ip:{ip}" if ip else ""]
    with connection.cursor() as cursor:
        for lock_id in sorted({_lock_id(key) for key in keys if key}):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def _is_limited(action: str, *, phone_h: str = "", id_h: str = "", ip: str | None = None) -> bool:
    """Over a limit, counting the attempt being made (already written, outcome pending)."""
    since = timezone.now() - LIMIT_WINDOW
    recent = LoginAttempt.objects.filter(action=action, at__gte=since)
    limits = _limits(action)
    keys = {"phone": ("phone_hash", phone_h), "id_number": ("id_number_hash", id_h),
            "ip": ("ip", ip)}
    for key, limit in limits.items():
        field, value = keys[key]
        if value and recent.filter(**{field: value}).count() > limit:
            return True
    return False


def _attempt_begin(action: str, *, phone_h: str = "", id_h: str = "",
                   ip: str | None = None) -> tuple[LoginAttempt, bool]:
    """Inside the caller's transaction: lock the keys, write the attempt (pending), then count
    it with the others. Returns the attempt and whether it is over a limit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("_attempt_begin needs the caller's transaction")
    _lock_keys(phone_h=phone_h, id_h=id_h, ip=ip)
    attempt = LoginAttempt.objects.create(action=action, outcome=PENDING, phone_hash=phone_h,
                                          id_number_hash=id_h, ip=ip or None)
    return attempt, _is_limited(action, phone_h=phone_h, id_h=id_h, ip=ip)


def _attempt_end(attempt: LoginAttempt, outcome: str) -> None:
    LoginAttempt.objects.filter(pk=attempt.pk).update(outcome=outcome)


def _journal(action: str, *, outcome: str, member: Member | None = None, actor=None,
             **changes) -> None:
    audit_record(
        actor=actor, action=action, outcome="ok" if outcome == "ok" else "denied",
        target=member, target_type="" if member else "members.member",
        org_unit_path=member.org_unit.path if member else "",
        changes={"result": outcome, **changes},
    )


def _record_limited(attempt: LoginAttempt, journal_action: str, **masked) -> None:
    """A limited attempt: the same record and journal event whoever was typed."""
    _attempt_end(attempt, "rate_limited")
    _journal(journal_action, outcome="rate_limited", **masked)


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
    with transaction.atomic():
        attempt, limited = _attempt_begin(AttemptAction.SEND, phone_h=phone_h, id_h=id_h, ip=ip)
        if limited:
            _record_limited(attempt, "login.activation_send", **masked)
        else:
            row = _activation_send(attempt, name=name, id_h=id_h, phone_h=phone_h,
                                   masked=masked)
    if limited:
        raise RateLimited()
    return Challenge(row.pk, phone_h, id_h)


def _activation_send(attempt: LoginAttempt, *, name: str, id_h: str, phone_h: str,
                     masked: dict) -> LoginCode:
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
    row = _code_create(CodePurpose.ACTIVATE, matched)
    _attempt_end(attempt, reason)
    # The journal names the member only when the details matched in full.
    _journal("login.activation_send", outcome=reason, member=matched, **masked)
    return row


def _code_create(purpose: str, member: Member | None) -> LoginCode:
    """A new SMS code row (a decoy when ``member`` is None) and, once committed, the task that
    sends it: the same work whether or not anyone gets a text. The clear code is kept only
    encrypted on the row until the task has handed it to the delivery."""
    code = _sms_code()
    row = LoginCode.objects.create(purpose=purpose, member=member, code_hash=code_hash(code),
                                   code_enc=code, expires_at=timezone.now() + SMS_CODE_TTL)
    transaction.on_commit(lambda: send_login_code.enqueue(row.pk, str(purpose)), robust=True)
    return row


@task()
def send_login_code(code_id: int, purpose: str) -> dict:
    """Text a code to its member's roster phone (the worker runs this after the request);
    a decoy is dropped. Either way the clear code is wiped from the row."""
    return {"code": code_id, "sent": login_code_deliver(code_id, purpose)}


@transaction.atomic
def login_code_deliver(code_id: int, purpose: str) -> bool:
    row = (LoginCode.objects.select_for_update(of=("self",)).select_related("member")
           .filter(pk=code_id, purpose=purpose).first())
    if row is None or not row.code_enc:
        return False  # gone, or already handled
    code, row.code_enc = row.code_enc, ""
    row.save(update_fields=["code_enc"])
    if row.member is None or not row.is_live() or not row.member.phone:
        return False
    try:
        send_code(row.member.phone, code, purpose)
    except ServiceError as exc:  # a roster phone no gateway takes: the code is gone all the same
        logger.warning("login code %s not sent: %s", row.pk, exc.code)
        return False
    return True


def login_codes_send_queued(*, before=None) -> int:
    """Hand over the codes whose task never ran (a lost queue; tests without a worker);
    how many went out. ``before``: only codes made before then (the periodic job leaves the
    newest to their own task)."""
    pending = LoginCode.objects.exclude(code_enc="").exclude(code_enc__isnull=True)
    if before is not None:
        pending = pending.filter(created_at__lt=before)
    rows = list(pending.order_by("pk").values_list("pk", "purpose"))
    return sum(login_code_deliver(pk, purpose) for pk, purpose in rows)


def _check_code(challenge: Challenge, code: str, *, purpose: str, journal_action: str,
                ip: str | None) -> Member:
    now = timezone.now()
    with transaction.atomic():
        attempt, limited = _attempt_begin(AttemptAction.VERIFY, phone_h=challenge.phone_hash,
                                          id_h=challenge.id_number_hash, ip=ip)
        if limited:
            _record_limited(attempt, journal_action)
        else:
            outcome, member = _code_try(attempt, challenge, code, purpose=purpose,
                                        journal_action=journal_action, now=now)
    if limited:
        raise RateLimited()
    if member is None:
        raise ServiceError(WRONG_CODE, code=outcome)
    return member


def _code_try(attempt: LoginAttempt, challenge: Challenge, code: str, *, purpose: str,
              journal_action: str, now: dt.datetime) -> tuple[str, Member | None]:
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
    _attempt_end(attempt, outcome)
    _journal(journal_action, outcome=outcome, member=member,
             attempt=row.attempts if row is not None else None)
    return outcome, member


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
    now = timezone.now()
    with transaction.atomic():
        attempt, limited = _attempt_begin(AttemptAction.PRINTED, id_h=id_h, ip=ip)
        if limited:
            _record_limited(attempt, "login.activation_printed", **masked)
        else:
            outcome, member, row = _printed_try(attempt, code=code, name=name, id_h=id_h,
                                                masked=masked, now=now)
    if limited:
        raise RateLimited()
    if member is None:
        raise ServiceError(WRONG_PRINTED, code=outcome)
    return member, row.pk


def _printed_try(attempt: LoginAttempt, *, code: str, name: str, id_h: str, masked: dict,
                 now: dt.datetime) -> tuple[str, Member | None, LoginCode | None]:
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
    _attempt_end(attempt, outcome)
    _journal("login.activation_printed", outcome=outcome, member=member, **masked)
    return outcome, member, row


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
    with transaction.atomic():
        attempt, limited = _attempt_begin(AttemptAction.SEND, phone_h=phone_h, ip=ip)
        if limited:
            _record_limited(attempt, "login.code_send", **masked)
        else:
            user = _code_login_user(phone_h)
            row = _code_create(CodePurpose.LOGIN, user.member if user else None)
            outcome = "ok" if user else "no_worker_login"
            _attempt_end(attempt, outcome)
            _journal("login.code_send", outcome=outcome, member=user.member if user else None,
                     **masked)
    if limited:
        raise RateLimited()
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
    # A clear code whose task never ran is of no use once expired.
    LoginCode.objects.filter(expires_at__lt=now).exclude(code_enc="").update(code_enc="")
    if attempts or codes:
        audit_record(actor=None, action="login.codes_purge", target_type="portal.logincode",
                     changes={"attempts": attempts, "codes": codes})
    return attempts, codes
