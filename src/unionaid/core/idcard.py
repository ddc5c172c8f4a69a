"""Chinese resident identity card numbers (GB 11643-1999).

An 18-digit number is laid out as::

    RRRRRR YYYYMMDD SSS C
    region birth    seq check

* ``RRRRRR`` - administrative division code (GB/T 2260) of the place of
  first registration;
* ``YYYYMMDD`` - date of birth;
* ``SSS`` - sequence number, odd for men, even for women;
* ``C`` - ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``).

First-generation numbers have 15 digits (2-digit year, no check character)
and are converted to 18 digits by :func:`normalize_id_number`.

This module is pure Python and has no Django dependency, so it can be used
from forms, the API layer, import scripts and tests alike.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "CHECK_CHARS",
    "ID_ERROR_MESSAGES",
    "WEIGHTS",
    "IdInfo",
    "IdNumberError",
    "Sex",
    "check_digit",
    "normalize_id_number",
    "parse_id_number",
    "to_halfwidth",
    "validate_matches",
]

Sex = Literal["M", "F"]

#: Weights of the first 17 digits (2**(17 - i) mod 11).
WEIGHTS: Final[tuple[int, ...]] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
#: Check character indexed by ``sum(digit * weight) % 11``.
CHECK_CHARS: Final[str] = "10X98765432"

#: Simplified-Chinese user-facing messages, keyed by error code.
ID_ERROR_MESSAGES: Final[dict[str, str]] = {
    "id_required": "请填写身份证号",
    "id_length": "身份证号位数不正确，应为18位",
    "id_chars": "身份证号含有非法字符，只能为数字，最后一位可以是X",
    "id_region": "身份证号地区码不正确",
    "id_birth_date": "身份证号中的出生日期无效",
    "id_check_digit": "身份证号校验位错误",
    "id_mismatch": "身份证号与填写的信息不一致",
    "id_mismatch_birth_date": "出生日期与身份证号不一致",
    "id_mismatch_sex": "性别与身份证号不一致",
}

# Full-width ASCII block (U+FF01..U+FF5E) -> ASCII, ideographic space -> space.
_HALFWIDTH_TABLE: Final[dict[int, int]] = {
    **{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)},
    0x3000: 0x20,
}
_WHITESPACE_RE: Final = re.compile(r"\s+")
_ID18_RE: Final = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_ID15_RE: Final = re.compile(r"[0-9]{15}", re.ASCII)
_ALLOWED_RE: Final = re.compile(r"[0-9X]*", re.ASCII)
_DIGITS17_RE: Final = re.compile(r"[0-9]{17}", re.ASCII)
_MIN_YEAR: Final = 1900
# China Standard Time; no DST since 1991, so a fixed offset is exact.
_CHINA_TZ: Final = dt.timezone(dt.timedelta(hours=8), "CST")


class IdNumberError(ValueError):
    """Invalid or inconsistent ID number.

    ``code`` is a stable machine-readable identifier (e.g. ``"id_check_digit"``),
    ``message`` a Simplified-Chinese text suitable for end users and ``field``
    optionally names the form field the error belongs to (used for
    ``"id_mismatch"``: ``"birth_date"`` or ``"sex"``).
    """

    def __init__(self, code: str, message: str | None = None, *, field: str | None = None) -> None:
        self.code = code
        self.message = message if message is not None else ID_ERROR_MESSAGES.get(code, code)
        self.field = field
        super().__init__(self.message)

    def __reduce__(self) -> tuple[object, ...]:
        # Keep code/message/field when pickled (e.g. across task workers).
        return (self.__class__, (self.code, self.message), {"field": self.field})


@dataclass(frozen=True, slots=True)
class IdInfo:
    """Facts encoded in a valid, normalized 18-digit ID number."""

    number: str
    region_code: str
    birth_date: dt.date
    sex: Sex

    def age_on(self, day: dt.date) -> int:
        """Age in completed years on ``day``."""
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


def to_halfwidth(value: str) -> str:
    """Convert full-width ASCII characters (``１２Ｘ－＋``) and U+3000 to half-width."""
    return value.translate(_HALFWIDTH_TABLE)


def check_digit(first17: str) -> str:
    """Return the check character (``0``-``9`` or ``X``) for 17 leading digits."""
    if not _DIGITS17_RE.fullmatch(first17):
        raise IdNumberError("id_chars")
    total = sum(int(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalize_id_number(raw: str | None) -> str:
    """Canonical form of a user-entered ID number.

    Removes all whitespace, converts full-width characters to half-width,
    upper-cases ``x`` and converts a 15-digit first-generation number to
    18 digits (``19`` is inserted before the year and the check character is
    computed). Does not validate otherwise: call :func:`parse_id_number` for
    that. ``None`` yields ``""``.
    """
    if raw is None:
        return ""
    value = _WHITESPACE_RE.sub("", to_halfwidth(raw)).upper()
    if _ID15_RE.fullmatch(value):
        first17 = f"{value[:6]}19{value[6:]}"
        value = first17 + check_digit(first17)
    return value


def parse_id_number(raw: str | None, *, today: dt.date | None = None) -> IdInfo:
    """Validate ``raw`` and return the decoded :class:`IdInfo`.

    ``today`` (default: the current date in China, UTC+8) bounds the birth date;
    pass it explicitly for reproducible results. Raises
    :class:`IdNumberError` with one of the codes ``id_required``,
    ``id_chars``, ``id_length``, ``id_region``, ``id_birth_date`` or
    ``id_check_digit``.
    """
    number = normalize_id_number(raw)
    if not number:
        raise IdNumberError("id_required")
    if not _ALLOWED_RE.fullmatch(number):
        raise IdNumberError("id_chars")
    if len(number) == 15:
        # Not converted by normalize_id_number(), so it contains an 'X'.
        raise IdNumberError("id_chars")
    if len(number) != 18:
        raise IdNumberError("id_length")
    if not _ID18_RE.fullmatch(number):
        # 'X' anywhere but in the last position.
        raise IdNumberError("id_chars")
    if number[0] == "0":
        raise IdNumberError("id_region")

    try:
        birth_date = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("id_birth_date") from None
    if today is None:
        today = dt.datetime.now(_CHINA_TZ).date()
    if birth_date.year < _MIN_YEAR or birth_date > today:
        raise IdNumberError("id_birth_date")

    if check_digit(number[:17]) != number[17]:
        raise IdNumberError("id_check_digit")

    sex: Sex = "M" if int(number[16]) % 2 else "F"
    return IdInfo(number=number, region_code=number[:6], birth_date=birth_date, sex=sex)


def validate_matches(
    info: IdInfo,
    *,
    birth_date: dt.date | None = None,
    sex: str | None = None,
) -> None:
    """Check that separately entered data agrees with the ID number.

    ``sex`` is ``"M"`` or ``"F"``; arguments left as ``None`` (or empty) are
    not checked. Raises :class:`IdNumberError` with code ``"id_mismatch"``
    and ``field`` set to ``"birth_date"`` or ``"sex"``; the birth date is
    checked first.
    """
    if birth_date is not None:
        if isinstance(birth_date, dt.datetime):
            birth_date = birth_date.date()
        if birth_date != info.birth_date:
            raise IdNumberError(
                "id_mismatch", ID_ERROR_MESSAGES["id_mismatch_birth_date"], field="birth_date"
            )
    if sex:
        if sex not in ("M", "F"):
            raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
        if sex != info.sex:
            raise IdNumberError("id_mismatch", ID_ERROR_MESSAGES["id_mismatch_sex"], field="sex")
