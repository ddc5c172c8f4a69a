"""Model fields for personal data."""

from __future__ import annotations

from django.db import models

from unionaid.core import crypto


class EncryptedTextField(models.TextField):
    """A text value stored as an authenticated ciphertext token (see ``core.crypto``).

    The clear value exists only in Python. The column can't be searched: pair it with a
    keyed-hash column (``crypto.blind_index``) for exact lookups.
    """

    description = "Encrypted text"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)
