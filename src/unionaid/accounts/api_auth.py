"""API authentication: the browser's session (with CSRF) or a bearer token for apps.

They live with the rights they check (second factor, tokens); ``api/auth.py`` hands them to the
router, and ``accounts.api`` uses the session class for token creation.

Both end in the same user object, so the same data scope applies; admins must have passed
their second factor in the session (tokens can't be used for the three admin duties)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from unionaid.accounts.access import access_for
from unionaid.accounts.middleware import needs_second_factor
from unionaid.accounts.services import api_token_lookup
from unionaid.core.errors import PermissionDenied


class StaffSessionAuth(SessionAuth):
    def _get_key(self, request):
        # No logged-in session: nothing to protect, let the next auth class answer (401).
        if not request.user.is_authenticated:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise PermissionDenied(_("安全校验失败（CSRF），请刷新页面后重试。"), code="csrf_failed")
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is None:
            return None
        if needs_second_factor(user) and not user.is_verified():
            return None
        if user.must_change_password:  # a one-time password opens nothing but its change
            return None
        return user


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        found = api_token_lookup(token)
        if (found is None or access_for(found.user).duties
                or found.user.must_change_password):
            return None
        request.user = found.user
        request.api_token = found  # the app logout revokes the token it was called with
        return found.user


# Token first: a request that carries a bearer token is not a browser form post and needs no CSRF
# token; without one, the session is used and its CSRF check applies.
AUTH = [TokenAuth(), StaffSessionAuth()]
