"""The app login (小程序 / app without a browser session): user name + password (+ the 6-digit
TOTP code when the user has a second factor) → a short-lived bearer token.

The same rules as the web login: django-axes counts each failure against the user name and
locks it after ``AXES_FAILURE_LIMIT`` (the lockout answer is ``locked_out``, 429, from
``views.locked_out``); a wrong code counts against django-otp's throttle. An unknown user, a
wrong password and a disabled account get the same answer (``invalid_credentials``), so the
login tells nobody which user names exist. The three admin duties never work with a token.
Each step is journaled (``auth.login`` / ``auth.login_failed`` through Django's auth signals,
the token through ``services.api_token_create``).
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import user_has_device

from unionaid.accounts import services, twofactor
from unionaid.accounts.access import access_for
from unionaid.accounts.models import ApiToken
from unionaid.core.errors import PermissionDenied, ServiceError


class LoginFailed(ServiceError):
    status = 401
    default_code = "invalid_credentials"
    default_message = _("用户名或密码不正确。")


class LockedOut(ServiceError):
    status = 429
    default_code = "locked_out"
    default_message = _("登录失败次数过多，该账号已暂时锁定，请稍后再试。")


def app_login(*, request, username: str, password: str, otp: str = "",
              app_name: str = "") -> tuple[ApiToken, str]:
    """Check the credentials as the web login does and issue a token for
    ``services.APP_LOGIN_LIFETIME``; raise ``LoginFailed``/``LockedOut``/``ServiceError``."""
    user = authenticate(request, username=username or "", password=password or "")
    if user is None:
        if getattr(request, "axes_locked_out", False):
            raise LockedOut()
        raise LoginFailed()
    if not user.is_active:  # ModelBackend refuses them already; kept as the rule
        raise LoginFailed()
    if access_for(user).duties:
        raise PermissionDenied(_("管理员账号不能通过应用登录，请在浏览器中经双因素验证后操作。"),
                               code="admin_token_refused")
    if user_has_device(user, confirmed=True):
        if not (otp or "").strip():
            message = _("请填写手机验证器上的6位动态验证码。")
            raise ServiceError(message, code="otp_required", fields={"otp": message})
        twofactor.otp_verify(actor=user, token=otp)  # throttled and journaled there
    with transaction.atomic():
        token, raw = services.api_token_create(
            actor=user, name=(app_name or "").strip()[:60] or _("应用登录"),
            expires_at=timezone.now() + services.APP_LOGIN_LIFETIME, kind="app_login")
    # A login like the web's: last login, the journal entry, django-axes' reset on success.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return token, raw
