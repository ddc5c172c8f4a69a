"""Per-request context (client IP, user agent, path) for the audit journal, kept in a contextvar."""

from __future__ import annotations

import contextvars
import ipaddress
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    user_agent: str = ""
    path: str = ""  # the request's path, for the read log's "through what"


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "unionaid_request_context", default=RequestContext()  # noqa: B039
)


def current() -> RequestContext:
    return _current.get()


def set_current(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


def client_ip(request) -> str | None:
    """The client's address: behind the proxy (BEHIND_PROXY), the one it passes on
    (settings.CLIENT_IP_HEADER, set by nginx itself) when the connection comes from a trusted
    proxy (settings.TRUSTED_PROXIES), else the connection's."""
    header = getattr(settings, "CLIENT_IP_HEADER", None)
    remote = request.META.get("REMOTE_ADDR")
    if header and request.META.get(header) and _trusted_proxy(remote):
        try:  # only an address: anything else would be journaled (and refused by PostgreSQL)
            return str(ipaddress.ip_address(request.META[header].strip()))
        except ValueError:
            pass
    return remote


def _trusted_proxy(remote: str | None) -> bool:
    """Whether the connection comes from a proxy in settings.TRUSTED_PROXIES."""
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    for entry in getattr(settings, "TRUSTED_PROXIES", ["127.0.0.1", "::1"]):
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
