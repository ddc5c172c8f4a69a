"""Masking of personal data for display, logs and exports, plus phone helpers.

Every ``mask_*`` function accepts ``None``/empty input (returns ``""``) and
never returns the clear value: when a value is too short to keep a prefix
and suffix while still hiding enough characters, it is replaced entirely by
stars of the same length.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from unionaid.core.idcard import to_halfwidth

__all__ = [
    "COMPOUND_SURNAMES",
    "PHONE_ERROR_MESSAGE",
    "PhoneError",
    "bank_account_tail",
    "mask_bank_account",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "normalize_phone",
    "validate_phone",
    "without_identifiers",
]

MASK_CHAR: Final = "*"
PHONE_ERROR_MESSAGE: Final = "手机号格式不正确"

#: Two-character surnames kept whole by :func:`mask_name`.
COMPOUND_SURNAMES: Final[frozenset[str]] = frozenset(
    {
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "呼延",
        "澹台", "公冶", "宗政", "濮阳", "太叔", "申屠", "钟离", "闻人", "赫连", "百里",
    }
)  # fmt: skip

_WHITESPACE_RE: Final = re.compile(r"\s+")
_SEPARATORS_RE: Final = re.compile(r"[\s\-().]+")
_PHONE_RE: Final = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
_COUNTRY_PREFIX_RE: Final = re.compile(r"(?:\+86|0086|86)(1[0-9]{10})", re.ASCII)


class PhoneError(ValueError):
    """Invalid mainland mobile number; ``code`` is ``"phone_invalid"``."""

    def __init__(self, code: str = "phone_invalid", message: str = PHONE_ERROR_MESSAGE) -> None:
        self.code = code
        self.message = message
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (self.__class__, (self.code, self.message))


def _mask(value: str, keep_start: int, keep_end: int, min_hidden: int) -> str:
    """Keep ``keep_start``/``keep_end`` characters, star the rest.

    If fewer than ``min_hidden`` characters would be hidden, star everything.
    """
    hidden = len(value) - keep_start - keep_end
    if hidden < min_hidden:
        return MASK_CHAR * len(value)
    return value[:keep_start] + MASK_CHAR * hidden + value[len(value) - keep_end :]


def _compact(value: str | None) -> str:
    if not value:
        return ""
    return _WHITESPACE_RE.sub("", to_halfwidth(value))


def mask_id_number(value: str | None) -> str:
    """``"110105199001011234"`` -> ``"110105********1234"`` (first 6, last 4)."""
    return _mask(_compact(value), 6, 4, 5)


def mask_phone(value: str | None) -> str:
    """``"13812345678"`` -> ``"138****5678"`` (first 3, last 4).

    The value is normalized first (``+86``, spaces and dashes removed).
    """
    return _mask(normalize_phone(value), 3, 4, 4)


def mask_bank_account(value: str | None) -> str:
    """``"6222021234567890123"`` -> ``"6222***********0123"`` (first 4, last 4)."""
    return _mask(_SEPARATORS_RE.sub("", _compact(value)), 4, 4, 4)


def bank_account_tail(value: str | None) -> str:
    """``"6222021234567890123"`` -> ``"****0123"``: only the last 4, for the account holder's
    own pages ("which of my cards was paid"); a value too short to hide most of it is all stars."""
    account = _SEPARATORS_RE.sub("", _compact(value))
    if not account:
        return ""
    if len(account) < 12:
        return MASK_CHAR * 8
    return MASK_CHAR * 4 + account[-4:]


def mask_name(value: str | None) -> str:
    """Keep the surname, star the given name: ``"张三丰"`` -> ``"张**"``.

    Two-character surnames from :data:`COMPOUND_SURNAMES` are kept whole
    (``"欧阳娜娜"`` -> ``"欧阳**"``) as long as something remains hidden; a
    single-character value is fully starred.
    """
    name = value.strip() if value else ""
    if len(name) <= 1:
        return MASK_CHAR * len(name)
    keep = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:keep] + MASK_CHAR * (len(name) - keep)


def looks_like_identifier(query: str | None) -> bool:
    """True for text that may be an ID number, phone or account: such values never go into URLs
    (query strings end up in access logs), only into POST bodies."""
    compact = (query or "").replace(" ", "").lstrip("+")
    return len(compact) >= 6 and compact[:-1].isdigit()


def without_identifiers(url: str, *, nested: tuple[str, ...] = ("next",)) -> str:
    """``url`` without any query value that looks like an ID number, phone or account; the
    values of ``nested`` parameters (a ``next`` address) are cleaned the same way. Such values
    never travel in URLs (``looks_like_identifier``)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept, changed = [], False
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in nested:
            cleaned = without_identifiers(value, nested=())
            changed |= cleaned != value
            value = cleaned
        elif looks_like_identifier(value):
            changed = True
            continue
        kept.append((key, value))
    if not changed:  # as it was, encoding included
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


def normalize_phone(raw: str | None) -> str:
    """Best-effort canonical form of a mainland mobile number.

    Converts full-width characters, removes spaces, dashes, dots and
    parentheses and strips a ``+86``/``0086``/``86`` country prefix. The
    result is not validated; use :func:`validate_phone` for that.
    """
    if not raw:
        return ""
    value = _SEPARATORS_RE.sub("", to_halfwidth(raw))
    match = _COUNTRY_PREFIX_RE.fullmatch(value)
    return match.group(1) if match else value


def validate_phone(raw: str | None) -> str:
    """Return the normalized 11-digit mobile number or raise :class:`PhoneError`."""
    phone = normalize_phone(raw)
    if not _PHONE_RE.fullmatch(phone):
        raise PhoneError()
    return phone
