from __future__ import annotations

import secrets
import string

from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassValidator:
    """At least 3 of the 4 character classes: lower case, upper case, digits, symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(c in string.punctuation or not c.isalnum() for c in password),
        ]
        if sum(classes) < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号中的至少三类。"),
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("密码至少8位，并包含大写字母、小写字母、数字、符号中的至少三类。")


# No look-alikes (0/O, 1/l/I) in a password someone reads off a sheet or a terminal.
_LOWER = "abcdefghjkmnpqrstuvwxyz"
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_DIGITS = "23456789"
_SYMBOLS = "-_.@#%+"


def generate_password(length: int = 14) -> str:
    """A one-time password that passes the password rules: all four character classes, from a
    cryptographic source, in groups easy to read aloud."""
    pools = (_LOWER, _UPPER, _DIGITS, _SYMBOLS)
    chars = [secrets.choice(pool) for pool in pools]
    everything = "".join(pools)
    chars += [secrets.choice(everything) for _i in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    # A letter first: a sheet cell starting with - + = @ would be escaped (core.spreadsheets)
    # and shown with a quote the reader would type too.
    first = next(i for i, c in enumerate(chars) if c.isalpha())
    chars[0], chars[first] = chars[first], chars[0]
    return "".join(chars)


class OneTimePasswordHasher(PBKDF2PasswordHasher):
    """The hash of a generated one-time password (``generate_password``: about 80 bits of
    randomness, which is its strength), so that importing a few hundred staff in one request
    doesn't cost a slow Argon2 hash each. It never outlives the first login: Django re-hashes
    with the preferred hasher when the password is checked (``must_update``), and the user then
    sets their own (``User.must_change_password``)."""

    algorithm = "pbkdf2_sha256_onetime"
    iterations = 20_000

    def must_update(self, encoded: str) -> bool:
        return True

    def verify(self, password: str, encoded: str) -> bool:
        # A wrong guess costs what it costs for any other login (the default hasher's time),
        # so the answer's timing does not tell that this login still has its one-time password.
        ok = super().verify(password, encoded)
        if not ok:
            get_hasher("default").encode(password, get_hasher("default").salt())
        return ok


def one_time_hash(password: str) -> str:
    """``password`` hashed as a one-time password, or with the default hasher where the
    one-time hasher isn't configured (``settings.PASSWORD_HASHERS``, e.g. in tests)."""
    try:
        hasher = get_hasher(OneTimePasswordHasher.algorithm)
    except ValueError:
        return make_password(password)
    return make_password(password, hasher=hasher)
