from __future__ import annotations

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from unionaid.core import context


class RequestContextMiddleware:
    """Makes the client IP available to services (for the audit journal) during a request."""

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
        try:
            return self.get_response(request)
        finally:
            context.reset(token)


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
