from __future__ import annotations

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
            )
        )
        try:
            return self.get_response(request)
        finally:
            context.reset(token)
