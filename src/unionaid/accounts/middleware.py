from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import redirect
from django_otp import user_has_device

from unionaid.accounts.access import access_for

EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/api/", "/healthz")
# What a user with a one-time password may still reach: the page to set their own, logging out
# (the API answers for itself: its auth classes refuse such a user, a 401).
FIRST_PASSWORD_OPEN = ("/accounts/password/first/", "/accounts/logout/", "/accounts/login/",
                       "/static/", "/i18n/", "/healthz", "/api/")


class AccessMiddleware:
    """Requires a verified second factor for the three admin duties (and for anyone who turned
    TOTP on). The API checks the same rule in its own auth classes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(FIRST_PASSWORD_OPEN)
        ):
            # A one-time password (staff import, generated first admin): nothing else opens
            # until the user has set their own.
            return redirect("accounts:password-first")
        if (
            user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and needs_second_factor(user)
            and not user.is_verified()
        ):
            if user_has_device(user, confirmed=True):
                return redirect(f"/accounts/otp/?{urlencode({'next': request.get_full_path()})}")
            return redirect("accounts:otp-setup")
        return self.get_response(request)


def needs_second_factor(user) -> bool:
    access = access_for(user)
    return bool(access.duties) or access.has_device
