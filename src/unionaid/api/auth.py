"""API authentication: the browser's session (with CSRF) or a bearer token for apps.

Both end in the same user object, so the same data scope applies; admins must have passed
their second factor in the session (tokens can't be used for the three admin duties)."""

from __future__ import annotations

from ninja.security import HttpBearer, SessionAuth

from unionaid.accounts.access import access_for
from unionaid.accounts.middleware import needs_second_factor
from unionaid.accounts.services import api_token_authenticate


class StaffSessionAuth(SessionAuth):
    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is None:
            return None
        if needs_second_factor(user) and not user.is_verified():
            return None
        return user


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_authenticate(token)
        if user is None or access_for(user).duties:
            return None
        request.user = user
        return user


AUTH = [StaffSessionAuth(), TokenAuth()]
