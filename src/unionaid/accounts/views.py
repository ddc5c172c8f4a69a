"""Login, logout, second factor and the user's own security page.

Pages under /accounts/ are exempt from AccessMiddleware's second-factor redirect (the login and
OTP pages must be reachable before it), so every other page here checks it itself with
``second_factor_required`` / ``perm_required``.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from axes import helpers as axes_helpers
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device

from unionaid.accounts import selectors, services, twofactor
from unionaid.accounts.access import access_for
from unionaid.accounts.app_login import LockedOut
from unionaid.accounts.forms import (
    ApiTokenForm,
    FirstPasswordForm,
    LoginForm,
    OtpDisableForm,
    OtpTokenForm,
    PasswordChangeForm,
)
from unionaid.accounts.middleware import needs_second_factor
from unionaid.accounts.models import User
from unionaid.core import http
from unionaid.core.errors import ServiceError
from unionaid.core.http import apply_service_error

SETUP_KEY = "unionaid_otp_setup_key"


# -- guards ----------------------------------------------------------------------------------

def _otp_redirect(request):
    if user_has_device(request.user, confirmed=True):
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('accounts:otp-verify')}?{query}")
    return redirect("accounts:otp-setup")


def second_factor_required(view):
    """Logged in and, where the user needs one, past the second factor."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if needs_second_factor(request.user) and not request.user.is_verified():
            return _otp_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper


def perm_required(perm: str):
    """Second factor passed and ``perm`` held; otherwise the page doesn't exist (404)."""

    def decorator(view):
        return second_factor_required(http.perm_required(perm)(view))

    return decorator


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# -- login / logout --------------------------------------------------------------------------

class LoginView(auth_views.LoginView):
    """Django's login; django-axes locks a user name after settings.AXES_FAILURE_LIMIT
    failures and renders accounts/locked_out.html. Both outcomes are journaled by
    audit.receivers."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # A fresh installation: point to first-run set-up (/setup/, web.setup_views).
        context["needs_setup"] = not User.objects.exists()
        return context


def locked_out(request, original_response=None, credentials=None):
    """django-axes lockout page (settings.AXES_LOCKOUT_CALLABLE), in Chinese, status 429; the
    API's error body (``locked_out``) for the app login."""
    cool_off = axes_helpers.get_cool_off(request)
    status = getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429)
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "locked_out", "message": str(LockedOut.default_message)},
                            status=status, json_dumps_params={"ensure_ascii": False})
    return render(request, "accounts/locked_out.html", {
        "failure_limit": axes_helpers.get_failure_limit(request, credentials),
        "cooloff_minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
    }, status=status)


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


# -- second factor ---------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    user = request.user
    next_url = _safe_next(request, settings.LOGIN_REDIRECT_URL)
    if user.is_verified():
        return redirect(next_url)
    if not user_has_device(user, confirmed=True):
        return redirect("accounts:otp-setup")
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = twofactor.otp_verify(actor=user, token=form.cleaned_data["token"])
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            request.session.cycle_key()
            otp_login(request, device)
            return redirect(next_url)
    return render(request, "accounts/otp_verify.html", {"form": form, "next": next_url})


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    user = request.user
    if twofactor.has_confirmed_device(user):
        if user.is_verified():
            return redirect("accounts:security")
        return _otp_redirect(request)
    key_hex = request.session.get(SETUP_KEY)
    if not key_hex:
        key_hex = twofactor.otp_new_secret()
        request.session[SETUP_KEY] = key_hex
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = twofactor.otp_device_confirm(
                actor=user, key_hex=key_hex, token=form.cleaned_data["token"]
            )
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            request.session.pop(SETUP_KEY, None)
            request.session.cycle_key()
            otp_login(request, device)
            messages.success(request, _("双因素认证已启用。"))
            return redirect(_safe_next(request, reverse("accounts:security")))
    url = twofactor.otp_config_url(user, key_hex)
    return render(request, "accounts/otp_setup.html", {
        "form": form,
        "qr_data_uri": twofactor.otp_qr_data_uri(url),
        "secret": twofactor.otp_secret_base32(key_hex),
        "required": bool(access_for(user).duties),
    })


# -- first login with a one-time password ---------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def password_first(request):
    """Set one's own password in place of a one-time one (AccessMiddleware sends every other
    page here until then). Then an admin duty's holder goes on to enrol their second factor."""
    user = request.user
    if not user.must_change_password:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = FirstPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(actor=user, user=user,
                                       password=form.cleaned_data["new_password1"])
        except ServiceError as exc:
            form.add_error("new_password1", exc.message)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已设置。"))
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/password_first.html", {"form": form})


# -- the user's own security page -----------------------------------------------------------

@second_factor_required
@require_http_methods(["GET", "POST"])
def security(request):
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    password_form = PasswordChangeForm(user, request.POST if action == "password" else None)
    disable_form = OtpDisableForm(request.POST if action == "otp_disable" else None)
    if action == "password" and password_form.is_valid():
        try:
            services.user_set_password(
                actor=user, user=user, password=password_form.cleaned_data["new_password1"]
            )
        except ServiceError as exc:
            password_form.add_error("new_password1", exc.message)
        else:
            update_session_auth_hash(request, user)  # keep this session, end the others
            messages.success(request, _("密码已修改，其他设备上的登录和接口令牌已失效。"))
            return redirect("accounts:security")
    elif action == "otp_disable" and disable_form.is_valid():
        try:
            twofactor.otp_disable(actor=user, password=disable_form.cleaned_data["password"])
        except ServiceError as exc:
            apply_service_error(disable_form, exc)
        else:
            messages.success(request, _("双因素认证已关闭。"))
            return redirect("accounts:security")
    return render(request, "accounts/security.html", {
        "password_form": password_form,
        "disable_form": disable_form,
        "otp_enabled": twofactor.has_confirmed_device(user),
        "otp_required": bool(access_for(user).duties),
    })


# -- the user's own API tokens --------------------------------------------------------------

MAX_TOKENS_LISTED = 200


@second_factor_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """接口令牌: issue one (its clear value is shown on this answer only, never again), list
    one's own, revoke. Admin duties never get a token (``services.api_token_create``)."""
    user = request.user
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = services.api_token_create(
                actor=user, name=form.cleaned_data["name"],
                expires_at=timezone.now() + form.expiry())
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            created = {"token": token, "raw": raw}
            form = ApiTokenForm()
    response = render(request, "accounts/api_tokens.html", {
        "form": form, "created": created,
        "tokens": list(selectors.tokens_of(user=user)[:MAX_TOKENS_LISTED]),
        "may_create": not access_for(user).duties,
    }, status=400 if form.errors else 200)
    response["Cache-Control"] = "no-store"  # the clear token must not stay in a cache
    return response


@second_factor_required
@require_POST
def api_token_revoke(request, pk: int):
    try:
        services.api_token_revoke(actor=request.user, token_id=pk)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("令牌已吊销，使用它的应用需要重新登录。"))
    return redirect("accounts:api-tokens")
