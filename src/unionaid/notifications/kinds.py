"""Message kinds: what a text message or WeChat subscription message may carry.

SMS and WeChat messages are pre-approved templates at the provider; the system sends only a
template id and its parameters. Each kind declares its parameters, and which of them may look
like an identifier (a one-time code is six digits, like the start of an ID number). Any other
value that looks like an ID number, phone or account is refused: personal data does not leave
the system in a message beyond what its template needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from unionaid.core.errors import ServiceError
from unionaid.core.logging import redact
from unionaid.core.masking import looks_like_identifier

# Providers cap a template variable's length (20 characters for a WeChat "thing", 35 for an
# Aliyun variable); longer values are cut here rather than refused there.
PARAM_MAX_LENGTH = 20


@dataclass(frozen=True)
class MessageKind:
    code: str
    params: tuple[str, ...]
    identifier_params: tuple[str, ...] = ()
    urgent: bool = False


KINDS: dict[str, MessageKind] = {}


def register_kind(kind: MessageKind) -> None:
    KINDS[kind.code] = kind


# A notification: its public title (``services.public_title``: no names) and when it was
# written; the full title and text stay in the inbox.
NOTICE = MessageKind("notice", params=("title", "time"))
# A one-time code (worker activation, sign-in): goes at once, whatever the hour.
CODE = MessageKind("code", params=("code",), identifier_params=("code",), urgent=True)
register_kind(NOTICE)
register_kind(CODE)


class UnsafeMessage(ServiceError):
    default_code = "message_personal_data"
    default_message = _("消息参数含有证件号或手机号等个人信息，已拒绝发送。")


def contains_identifier(value: str) -> bool:
    """True for a value that is, or contains, something shaped like an ID number, phone or
    bank account."""
    return looks_like_identifier(value) or redact(value) != value


def template_params(kind_code: str, params: dict) -> dict[str, str]:
    """The parameters for a message of ``kind_code``, checked: only the kind's own, as short
    strings, and none shaped like an identifier unless the kind declares it. Raises
    ``UnsafeMessage`` (or ``ServiceError`` for an unknown kind or parameter)."""
    kind = KINDS.get(kind_code)
    if kind is None:
        raise ServiceError(code="message_kind_unknown")
    unknown = set(params) - set(kind.params)
    if unknown:
        raise ServiceError(code="message_param_unknown")
    checked = {}
    for name in kind.params:
        value = str(params.get(name, ""))
        # the whole value is checked: a cut could leave part of an ID number that passes
        if name not in kind.identifier_params and contains_identifier(value):
            raise UnsafeMessage()
        checked[name] = value[:PARAM_MAX_LENGTH]
    return checked
