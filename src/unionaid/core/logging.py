"""A logging filter that redacts resident ID numbers, phones and bank accounts from messages."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "[ID]"),
    (re.compile(r"(?<!\d)\d{15}(?!\d)"), "[ID]"),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "[PHONE]"),
    (re.compile(r"(?<!\d)\d{12,30}(?!\d)"), "[ACCOUNT]"),
]


# Digits as people type them and URLs carry them: groups joined by a space, a dash or a plus,
# raw or percent-encoded ("110101 19900307 7777", "q=110101+19900307+7777", "138-1234-5678").
_SEPARATOR = r"(?:[ \-+]|%20|%2[BbDd])"
_DIGIT_RUN = re.compile(rf"(?<!\d)\d(?:{_SEPARATOR}?\d)*(?:{_SEPARATOR}?[Xx])?(?!\d)")
_NOT_DIGIT = re.compile(r"[^\dXx]")


def _joined(match: re.Match) -> str:
    """A run of digit groups whose digits together form an ID number, phone or account."""
    run = match.group(0)
    compact = _NOT_DIGIT.sub("", run.replace("%20", " ").replace("%2B", " ")
                             .replace("%2b", " ").replace("%2D", " ").replace("%2d", " "))
    if compact == run:
        return run  # no separator: the plain patterns below decide
    digits = compact.rstrip("Xx")
    if len(compact) == 18 and len(digits) >= 17 and digits[:17].isdigit():
        return "[ID]"
    if compact.isdigit():
        if len(compact) == 15:
            return "[ID]"
        if len(compact) == 11 and compact[0] == "1" and compact[1] in "3456789":
            return "[PHONE]"
        if len(compact) == 13 and compact.startswith("86") and compact[2] == "1":
            return "[PHONE]"
        if 12 <= len(compact) <= 30:
            return "[ACCOUNT]"
    return run


def redact(text: str) -> str:
    text = _DIGIT_RUN.sub(_joined, text)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactPersonalData(logging.Filter):
    """Redacts the message and any traceback (exception messages can quote values)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            record.exc_text = redact(self._formatter.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
