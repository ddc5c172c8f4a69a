"""Model fields for personal data."""

from __future__ import annotations

from django.db import models

from unionaid.core import crypto


class EncryptedTextField(models.TextField):
    """A text value stored as an authenticated ciphertext token (see ``core.crypto``).

    The clear value exists only in Python. The column can't be searched: pair it with a
    keyed-hash column (``crypto.blind_index``) for exact lookups, and name that pair here as
    ``blind_index=(hash field name, purpose)`` so that ``keys_rotate`` recomputes the hash when
    it re-encrypts across suites (core knows no model; the field says what goes with it).
    """

    description = "Encrypted text"

    def __init__(self, *args, blind_index: tuple[str, str] | None = None, **kwargs):
        self.blind_index = blind_index
        super().__init__(*args, **kwargs)

    # ``blind_index`` is left out of ``deconstruct()`` on purpose: it changes nothing in the
    # schema, and only the live models (never the migrations' historical ones) are rotated.

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)
