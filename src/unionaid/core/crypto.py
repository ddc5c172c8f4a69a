"""Field encryption and keyed lookup hashes for personal data.

Two suites:

* ``aes`` (default): AES-256-GCM for values, HMAC-SHA256 for the lookup index.
* ``sm`` (国密): SM4-GCM for values, HMAC-SM3 for the lookup index, for deployments that must
  pass a commercial-cryptography (密评) assessment.

A ciphertext is a text token ``<suite-tag>:<key id>:<base64(nonce | ciphertext | tag)>``. The
suite tag and key id travel with the value, so any key of the keyring decrypts, while only the
active key encrypts: rotating a key is "add the new key, make it active, re-encrypt in the
background" with no downtime (``unionaid keys rotate``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac as std_hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac

SUITE_TAGS = {"aes": "a1", "sm": "s1"}
KEY_SIZES = {"aes": 32, "sm": 16}
NONCE_SIZE = 12
TAG_SIZE = 16


class DecryptionError(ValueError):
    pass


@dataclass(frozen=True)
class Keyring:
    suite: str
    keys: dict[str, bytes]
    active_kid: str
    index_key: bytes

    @property
    def token_prefix(self) -> str:
        return f"{SUITE_TAGS[self.suite]}:{self.active_kid}:"

    # -- values ----------------------------------------------------------------------------
    def encrypt(self, plaintext: str) -> str:
        key = self.keys[self.active_kid]
        nonce = os.urandom(NONCE_SIZE)
        data = plaintext.encode("utf-8")
        if self.suite == "aes":
            sealed = AESGCM(key).encrypt(nonce, data, None)
        else:
            encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
            sealed = encryptor.update(data) + encryptor.finalize() + encryptor.tag
        blob = base64.b64encode(nonce + sealed).decode("ascii")
        return f"{self.token_prefix}{blob}"

    def decrypt(self, token: str) -> str:
        try:
            tag, kid, blob = token.split(":", 2)
            key = self.keys[kid]
            raw = base64.b64decode(blob)
        except (ValueError, KeyError) as exc:
            raise DecryptionError("unknown key or malformed ciphertext") from exc
        nonce, sealed = raw[:NONCE_SIZE], raw[NONCE_SIZE:]
        try:
            if tag == SUITE_TAGS["aes"]:
                data = AESGCM(key).decrypt(nonce, sealed, None)
            elif tag == SUITE_TAGS["sm"]:
                decryptor = Cipher(
                    algorithms.SM4(key), modes.GCM(nonce, sealed[-TAG_SIZE:])
                ).decryptor()
                data = decryptor.update(sealed[:-TAG_SIZE]) + decryptor.finalize()
            else:
                raise DecryptionError("unknown suite")
        except DecryptionError:
            raise
        except Exception as exc:  # InvalidTag and friends
            raise DecryptionError("ciphertext failed authentication") from exc
        return data.decode("utf-8")

    def needs_rotation(self, token: str) -> bool:
        return not token.startswith(self.token_prefix)

    # -- lookup index --------------------------------------------------------------------
    def blind_index(self, value: str, *, purpose: str) -> str:
        """Keyed hash used to find a record by its exact value without storing it in clear."""
        message = f"{purpose}\x00{value}".encode()
        if self.suite == "aes":
            return std_hmac.new(self.index_key, message, hashlib.sha256).hexdigest()
        mac = crypto_hmac.HMAC(self.index_key, hashes.SM3())
        mac.update(message)
        return mac.finalize().hex()


def _parse_keys(spec: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, _, b64 = part.partition(":")
        if not kid or not b64:
            raise ImproperlyConfigured("UNIONAID_KEYS entries look like 'kid:base64key'")
        keys[kid] = base64.b64decode(b64)
    return keys


_KEYS_HINT = (
    "Set UNIONAID_KEYS ('kid:base64key', comma-separated), UNIONAID_ACTIVE_KEY and "
    "UNIONAID_INDEX_KEY, or their *_FILE variants. Keys derived from SECRET_KEY "
    "(UNIONAID_DEV_KEYS=1) are for a laptop demo only; they are on by default only with DEBUG=1."
)


def _dev_key(label: str, size: int) -> bytes:
    return hashlib.sha256(f"unionaid-dev:{label}:{settings.SECRET_KEY}".encode()).digest()[:size]


def build_keyring(
    *, suite: str, keys_spec: str, active: str, index_key_b64: str, allow_dev: bool
) -> Keyring:
    if suite not in SUITE_TAGS:
        raise ImproperlyConfigured("UNIONAID_CRYPTO_SUITE must be 'aes' or 'sm'")
    keys = _parse_keys(keys_spec)
    if not keys:
        if not allow_dev:
            raise ImproperlyConfigured(
                "UNIONAID_KEYS is not set: personal data can't be encrypted. " + _KEYS_HINT
            )
        keys = {"dev": _dev_key(f"{suite}-value", KEY_SIZES[suite])}
    active = active or next(iter(keys))
    if active not in keys:
        raise ImproperlyConfigured(f"UNIONAID_ACTIVE_KEY {active!r} is not in UNIONAID_KEYS")
    if len(keys[active]) != KEY_SIZES[suite]:
        raise ImproperlyConfigured(
            f"key {active!r} must be {KEY_SIZES[suite]} bytes for suite {suite!r}"
        )
    # Older keys only decrypt; they may belong to the other suite while switching aes -> sm
    # (the token names its suite; ``unionaid keys rotate`` re-encrypts with the active key).
    for kid, key in keys.items():
        if len(key) not in KEY_SIZES.values():
            raise ImproperlyConfigured(f"key {kid!r} must be 16 or 32 bytes")
    if index_key_b64:
        index_key = base64.b64decode(index_key_b64)
    elif allow_dev:
        index_key = _dev_key("index", 32)
    else:
        raise ImproperlyConfigured(
            "UNIONAID_INDEX_KEY is not set: lookup hashes can't be computed. " + _KEYS_HINT
        )
    return Keyring(suite=suite, keys=keys, active_kid=active, index_key=index_key)


@lru_cache(maxsize=1)
def get_keyring() -> Keyring:
    return build_keyring(
        suite=settings.UNIONAID_CRYPTO_SUITE,
        keys_spec=settings.UNIONAID_KEYS,
        active=settings.UNIONAID_ACTIVE_KEY,
        index_key_b64=settings.UNIONAID_INDEX_KEY,
        allow_dev=settings.UNIONAID_DEV_KEYS,
    )


def reset_keyring() -> None:
    get_keyring.cache_clear()


def require_keys() -> Keyring:
    """Build the keyring from the settings now, so that a process that serves requests refuses
    to start (ImproperlyConfigured) instead of failing on its first personal record. Called by
    config/wsgi.py and config/asgi.py once the app is loaded (gunicorn, runserver)."""
    reset_keyring()
    return get_keyring()


def encrypt(value: str) -> str:
    return get_keyring().encrypt(value)


def decrypt(token: str) -> str:
    return get_keyring().decrypt(token)


def blind_index(value: str, *, purpose: str) -> str:
    return get_keyring().blind_index(value, purpose=purpose)


# -- device vault ----------------------------------------------------------------------------
# The offline visit form (static/js/device-vault.js) keys what it keeps on a phone with this
# per-user secret AND a non-extractable key made on the device: neither alone decrypts. The
# secret is only ever put in the pages of that user's own session (base.html, a meta tag), so
# another user of the same browser cannot decrypt the first user's drafts. Rotating it (a new
# version below, or a new SECRET_KEY) makes drafts still kept on devices unreadable.
DEVICE_VAULT_PURPOSE = "unionaid.core.crypto.device-vault.v1"


def device_vault_secret(user_id: int | str) -> str:
    """HMAC-SHA256 over the purpose and the user id with a key derived from SECRET_KEY (Django's
    salted_hmac): different for every user, computed here, never stored."""
    return salted_hmac(DEVICE_VAULT_PURPOSE, f"user:{user_id}", algorithm="sha256").hexdigest()
