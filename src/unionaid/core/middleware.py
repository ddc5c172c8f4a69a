from __future__ import annotations

import time

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_cache_control

from unionaid.core import context, masking, memo


class RequestContextMiddleware:
    """Makes the client IP available to services (for the audit journal) during a request,
    and starts the request's near-static lookups (``core.memo``) afresh.

    Also: a page that carries the user's device-vault secret (``request.device_vault_secret_sent``,
    set by the ``device_vault_secret`` template tag of base.html) is sent ``private, no-store``,
    so that no copy of it, and of the secret, stays in the browser's cache for the next user of
    the device (or an offline reload) to open."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = context.set_current(
            context.RequestContext(
                ip=context.client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
                path=request.path[:255],
            )
        )
        kept = memo.begin_request(read_only=request.method in ("GET", "HEAD"))
        try:
            response = self.get_response(request)
        finally:
            memo.end_request(kept)
            context.reset(token)
        if getattr(request, "device_vault_secret_sent", False):
            patch_cache_control(response, private=True, no_store=True)
        return response


SESSION_TOUCHED_KEY = "_touched"


class SessionTouchMiddleware:
    """The idle timeout (``SESSION_COOKIE_AGE`` after the last request) without writing the
    session row on every request: a signed-in session is saved, and its expiry moved on, at most
    once every ``SESSION_TOUCH_SECONDS`` (60). The timeout is thus exact to within that minute.

    ``SESSION_SAVE_EVERY_REQUEST`` did the same with an UPDATE and a commit per page: under load
    (issue 11's serve benchmark) a write, and its WAL flush, on every read."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.every = getattr(settings, "SESSION_TOUCH_SECONDS", 60)

    def __call__(self, request):
        session = request.session
        if session.session_key:  # a session the browser already has (never make one here)
            now = int(time.time())
            last = session.get(SESSION_TOUCHED_KEY)  # loads it: gone if it had expired
            if session.session_key and (not isinstance(last, int)
                                        or not 0 <= now - last < self.every):
                session[SESSION_TOUCHED_KEY] = now  # modified: saved with a new expiry
        return self.get_response(request)


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Simplified Chinese unless the user chose another language (the language switcher's
    cookie). Unlike Django's LocaleMiddleware, the browser's Accept-Language is ignored: an
    office PC with an English Windows must still show the union's Chinese UI."""

    def process_request(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class IdentifierFreeRedirectMiddleware:
    """No redirect carries an ID number or phone in its address: Django sends an anonymous
    visitor of ``/members/?q=<ID>`` to ``/accounts/login/?next=/members/%3Fq%3D<ID>``; such
    values are dropped from a redirect's query and from its ``next`` address, so they reach
    neither the browser's history nor the next access-log line."""

    REDIRECTS = {301, 302, 303, 307, 308}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        location = response.get("Location") if response.status_code in self.REDIRECTS else None
        if location:
            cleaned = masking.without_identifiers(location)
            if cleaned != location:
                response["Location"] = cleaned
        return response
