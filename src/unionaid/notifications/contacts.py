"""Where a user's outbound addresses come from, and how they are shown masked.

A user's own preference row holds the phone, e-mail address and WeChat openid they gave. With no
phone there, a worker's own login falls back to the roster's phone of their member record.
"""

from __future__ import annotations

from unionaid.members.models import Member


def phone_from_sources(user) -> str:
    """The roster's phone of the user's member record, or ""."""
    member_id = getattr(user, "member_id", None)
    if not member_id:
        return ""
    member = Member.objects.filter(pk=member_id).only("pk", "phone").first()
    return (member.phone or "") if member else ""


def mask_email(address: str) -> str:
    """``"zhang.san@example.org"`` -> ``"z***@example.org"``."""
    local, _at, domain = (address or "").partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_openid(openid: str) -> str:
    return f"{openid[:4]}***" if len(openid) > 8 else "***"
