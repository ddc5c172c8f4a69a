"""Second factor (TOTP, django-otp): enrol, verify, turn off, reset. Each step is journaled.

Rules:
* enrolment confirms a new secret with a 6-digit code before any device is stored;
* holders of an admin duty (system / security / audit) can't turn their second factor off;
* a failed code is journaled too (outcome ``denied``), outside the refused operation's
  transaction so the record survives;
* only a security admin resets someone else's device (lost phone), never their own.
"""

from __future__ import annotations

import base64
from base64 import b32encode
from binascii import unhexlify

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from unionaid.accounts.access import access_for
from unionaid.accounts.models import User
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError

TOLERANCE = 1  # accept the previous and next 30-second step (phone clocks drift)


def _journal_denied(*, actor, action: str, target=None, reason: str) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action=action, target=target or actor, outcome="denied",
                     changes={"reason": reason})


def _token_int(token: str) -> int | None:
    token = (token or "").strip().replace(" ", "")
    if len(token) != 6 or not token.isdigit():
        return None
    return int(token)


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def otp_new_secret() -> str:
    """A fresh 160-bit secret as hex (django-otp's storage form)."""
    return random_hex(20)


def otp_secret_base32(key_hex: str) -> str:
    """The secret as people type it into an authenticator app, in groups of four."""
    raw = b32encode(unhexlify(key_hex)).decode("ascii").rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def otp_config_url(user, key_hex: str) -> str:
    return TOTPDevice(user=user, key=key_hex).config_url


def otp_qr_data_uri(url: str) -> str:
    """The otpauth URL as an SVG QR code in a data: URI (the CSP allows data: images)."""
    svg = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def otp_device_confirm(*, actor: User, key_hex: str, token: str) -> TOTPDevice:
    """Store ``actor``'s new TOTP device once ``token`` proves their app has the secret."""
    if has_confirmed_device(actor):
        raise Conflict(_("您已启用双因素认证。"), code="otp_exists")
    try:
        key = unhexlify(key_hex or "")
    except ValueError:
        key = b""
    number = _token_int(token)
    if not key:
        raise ServiceError(_("设置已过期，请重新扫码。"), code="otp_setup_expired")
    totp = TOTP(key)
    if number is None or not totp.verify(number, tolerance=TOLERANCE):
        _journal_denied(actor=actor, action="otp.setup", reason="bad_token")
        raise ServiceError(_("动态验证码不正确，请核对手机上的6位数字后重试。"),
                           code="otp_invalid", fields={"token": _("动态验证码不正确。")})
    with transaction.atomic():
        TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
        # last_t = the step just used, so the same code can't be replayed to verify.
        device = TOTPDevice.objects.create(
            user=actor, name="default", key=key_hex, confirmed=True, last_t=totp.t()
        )
        audit_record(actor=actor, action="otp.setup", target=actor,
                     changes={"device": device.persistent_id})
    return device


def otp_verify(*, actor: User, token: str) -> TOTPDevice:
    """Check a code against the actor's confirmed devices; the caller marks the session."""
    devices = list(TOTPDevice.objects.filter(user=actor, confirmed=True))
    if not devices:
        raise ServiceError(_("您尚未启用双因素认证。"), code="otp_missing")
    number = _token_int(token)
    for device in devices:
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            _journal_denied(actor=actor, action="otp.verify", reason="throttled")
            raise ServiceError(_("验证失败次数过多，请稍后再试。"), code="otp_throttled")
        # verify_token counts a failure (throttling) for anything but the right code.
        if device.verify_token(number if number is not None else "invalid"):
            with transaction.atomic():
                audit_record(actor=actor, action="otp.verify", target=actor,
                             changes={"device": device.persistent_id})
            return device
    _journal_denied(actor=actor, action="otp.verify", reason="bad_token")
    raise ServiceError(_("动态验证码不正确或已过期。"), code="otp_invalid",
                       fields={"token": _("动态验证码不正确或已过期。")})


@transaction.atomic
def otp_disable(*, actor: User, password: str) -> None:
    """Turn off one's own second factor (not allowed for the three admin duties)."""
    if access_for(actor).duties:
        raise PermissionDenied(_("系统管理员、安全管理员、审计管理员必须使用双因素认证，不能关闭。"),
                               code="otp_required")
    if not actor.check_password(password or ""):
        raise ServiceError(_("密码不正确。"), code="wrong_password",
                           fields={"password": _("密码不正确。")})
    deleted, _rows = TOTPDevice.objects.filter(user=actor).delete()
    if not deleted:
        raise Conflict(_("您尚未启用双因素认证。"), code="otp_missing")
    audit_record(actor=actor, action="otp.disable", target=actor)


@transaction.atomic
def otp_reset_for_user(*, actor: User, user: User) -> None:
    """A security admin removes another user's devices (lost phone); they enrol again at
    their next login."""
    if not access_for(actor).has_perm("security.manage"):
        raise PermissionDenied(_("只有安全管理员可以重置双因素认证。"))
    if actor.pk == user.pk:
        raise PermissionDenied(_("不能重置自己的双因素认证。"), code="self_reset")
    deleted, _rows = TOTPDevice.objects.filter(user=user).delete()
    if not deleted:
        raise Conflict(_("该用户尚未启用双因素认证。"), code="otp_missing")
    audit_record(actor=actor, action="otp.reset", target=user)
