"""Field encryption (AES-GCM / SM4-GCM), keyed lookup hashes, key rotation and the deploy check."""

from __future__ import annotations

import base64
import io
import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from unionaid.core import crypto
from unionaid.core.checks import check_dev_keys
from unionaid.core.management.commands.keys_rotate import blind_index_pairs
from unionaid.members.models import Member
from unionaid.members.selectors import member_search

AES_1 = base64.b64encode(bytes(range(32))).decode()
AES_2 = base64.b64encode(bytes(range(100, 132))).decode()
SM_1 = base64.b64encode(bytes(range(16))).decode()
INDEX = base64.b64encode(b"i" * 32).decode()
CLEAR = "140105199003071234"


def ring(suite="aes", keys=f"k1:{AES_1}", active="", index=INDEX) -> crypto.Keyring:
    return crypto.build_keyring(suite=suite, keys_spec=keys, active=active,
                                index_key_b64=index, allow_dev=False)


@pytest.fixture
def use_keys(settings):
    """Switch the process keyring through settings, as an operator would through the env."""

    def _use(*, suite="aes", keys=f"k1:{AES_1}", active="", index=INDEX):
        settings.UNIONAID_CRYPTO_SUITE = suite
        settings.UNIONAID_KEYS = keys
        settings.UNIONAID_ACTIVE_KEY = active
        settings.UNIONAID_INDEX_KEY = index
        settings.UNIONAID_DEV_KEYS = False
        crypto.reset_keyring()
        return crypto.get_keyring()

    yield _use
    crypto.reset_keyring()


def _raw_tokens(table="members_member", columns=("id_number_enc", "phone_enc")):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id")
        return cursor.fetchall()


def _rotate(*args) -> str:
    out = io.StringIO()
    call_command("keys_rotate", "--batch-size", "2", *args, stdout=out)
    return out.getvalue()


# -- the suites --------------------------------------------------------------------------------

@pytest.mark.parametrize(("suite", "keys", "tag"), [
    ("aes", f"k1:{AES_1}", "a1"), ("sm", f"s1:{SM_1}", "s1"),
])
def test_both_suites_round_trip_with_a_fresh_nonce(suite, keys, tag):
    keyring = ring(suite, keys)
    first, second = keyring.encrypt(CLEAR), keyring.encrypt(CLEAR)
    assert first.startswith(f"{tag}:")
    assert first != second  # random nonce
    assert CLEAR not in first
    assert keyring.decrypt(first) == CLEAR
    assert keyring.decrypt(keyring.encrypt("张三 · 糖尿病")) == "张三 · 糖尿病"


@pytest.mark.parametrize(("suite", "keys"), [("aes", f"k1:{AES_1}"), ("sm", f"s1:{SM_1}")])
def test_a_tampered_ciphertext_fails_authentication(suite, keys):
    keyring = ring(suite, keys)
    tag, kid, blob = keyring.encrypt(CLEAR).split(":", 2)
    raw = bytearray(base64.b64decode(blob))
    raw[15] ^= 0x01
    with pytest.raises(crypto.DecryptionError):
        keyring.decrypt(f"{tag}:{kid}:{base64.b64encode(bytes(raw)).decode()}")
    with pytest.raises(crypto.DecryptionError):
        keyring.decrypt(f"{tag}:unknown:{blob}")
    wrong_key = ring(suite, f"{kid}:{AES_2 if suite == 'aes' else base64.b64encode(b'x' * 16).decode()}")
    with pytest.raises(crypto.DecryptionError):
        wrong_key.decrypt(f"{tag}:{kid}:{blob}")


def test_the_blind_index_differs_per_suite_key_and_purpose():
    aes, sm = ring("aes"), ring("sm", f"s1:{SM_1}")
    other_index = ring("aes", index=base64.b64encode(b"j" * 32).decode())
    value = aes.blind_index(CLEAR, purpose="member.id_number")
    assert value == ring("aes").blind_index(CLEAR, purpose="member.id_number")
    assert len(value) == 64
    assert value != sm.blind_index(CLEAR, purpose="member.id_number")
    assert value != other_index.blind_index(CLEAR, purpose="member.id_number")
    assert value != aes.blind_index(CLEAR, purpose="member.phone")
    assert CLEAR not in value


def test_the_active_key_must_fit_the_suite_and_old_keys_may_be_of_the_other_suite():
    with pytest.raises(ImproperlyConfigured):
        ring("sm", f"k1:{AES_1}")
    mixed = ring("sm", f"old:{AES_1},new:{SM_1}", active="new")
    old_token = ring("aes", f"old:{AES_1}").encrypt(CLEAR)
    assert mixed.decrypt(old_token) == CLEAR
    assert mixed.encrypt(CLEAR).startswith("s1:new:")
    with pytest.raises(ImproperlyConfigured):
        ring("aes", f"k1:{AES_1},bad:{base64.b64encode(b'x' * 20).decode()}")


# -- stored data -------------------------------------------------------------------------------

def test_the_raw_columns_of_a_created_member_never_hold_the_clear_values(union, make_member):
    member = make_member(union.team_a, phone="13912345678", bank_account="6222021234567890")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number_enc, phone_enc, bank_account_enc, id_number_hash FROM "
            "members_member WHERE id = %s", [member.pk])
        row = cursor.fetchone()
    clear = Member.objects.get(pk=member.pk)
    assert clear.id_number
    for stored in row:
        assert clear.id_number not in stored
        assert "13912345678" not in stored
        assert "6222021234567890" not in stored
        assert clear.id_number[-6:] not in stored
    assert row[0].startswith(crypto.get_keyring().token_prefix)


def test_key_rotation_re_encrypts_every_row_and_old_data_still_reads(
    use_keys, union, make_member, registrar
):
    use_keys(keys=f"k1:{AES_1}")
    members = [make_member(union.team_a, bank_account="") for _ in range(5)]
    clear = {m.pk: (m.id_number, m.phone) for m in Member.objects.all()}
    assert all(t[0].startswith("a1:k1:") for t in _raw_tokens())

    # New key active, old key kept: old rows still decrypt before the rotation runs.
    use_keys(keys=f"k1:{AES_1},k2:{AES_2}", active="k2")
    assert {m.pk: (m.id_number, m.phone) for m in Member.objects.all()} == clear
    newer = make_member(union.team_a)
    assert _raw_tokens()[-1][0].startswith("a1:k2:")
    with pytest.raises(CommandError):
        call_command("keys_rotate", "--check", stdout=io.StringIO())

    output = _rotate()
    assert "members.member: 6/6 rows checked" in output
    assert "10 values re-encrypted" in output  # 5 old rows x (ID + phone); the newer row is current
    assert all(t.startswith("a1:k2:") for row in _raw_tokens() for t in row if t)
    _rotate("--check")

    # The old key can go now.
    use_keys(keys=f"k2:{AES_2}", active="k2")
    clear[newer.pk] = (newer.id_number, newer.phone)
    assert {m.pk: (m.id_number, m.phone) for m in Member.objects.all()} == clear
    hashes_before = dict(Member.objects.values_list("pk", "id_number_hash"))
    assert member_search(user=registrar, query=clear[members[0].pk][0]).get() == members[0]
    assert dict(Member.objects.values_list("pk", "id_number_hash")) == hashes_before


def test_switching_suite_from_aes_to_sm_re_encrypts_and_reindexes(
    use_keys, union, make_member, registrar
):
    use_keys(suite="aes", keys=f"k1:{AES_1}")
    members = [make_member(union.team_a) for _ in range(3)]
    ids = {m.pk: Member.objects.get(pk=m.pk).id_number for m in members}

    use_keys(suite="sm", keys=f"k1:{AES_1},s1:{SM_1}", active="s1")
    assert {m.pk: m.id_number for m in Member.objects.all()} == ids  # online
    output = _rotate()
    assert "lookup hashes recomputed" in output
    assert all(row[0].startswith("s1:s1:") for row in _raw_tokens())

    use_keys(suite="sm", keys=f"s1:{SM_1}", active="s1")
    for member in members:
        assert member_search(user=registrar, query=ids[member.pk]).get() == member
        assert Member.objects.get(pk=member.pk).id_number == ids[member.pk]


def test_reindex_recomputes_hashes_after_an_index_key_change(
    use_keys, union, make_member, registrar
):
    use_keys()
    member = make_member(union.team_a)
    number = Member.objects.get(pk=member.pk).id_number
    use_keys(index=base64.b64encode(b"n" * 32).decode())
    assert not member_search(user=registrar, query=number).exists()
    _rotate("--reindex")
    assert member_search(user=registrar, query=number).get() == member


# -- deploy check ------------------------------------------------------------------------------

def test_the_deploy_check_warns_about_development_keys(settings):
    settings.DEBUG = False
    settings.UNIONAID_DEV_KEYS = True
    settings.UNIONAID_KEYS = ""
    assert [w.id for w in check_dev_keys()] == ["unionaid.W001"]
    settings.UNIONAID_KEYS = f"k1:{AES_1}"
    settings.UNIONAID_INDEX_KEY = INDEX
    assert [w.id for w in check_dev_keys()] == ["unionaid.W002"]
    settings.UNIONAID_DEV_KEYS = False
    assert check_dev_keys() == []
    settings.DEBUG = True
    settings.UNIONAID_DEV_KEYS = True
    assert check_dev_keys() == []


def test_the_deploy_check_runs_with_check_deploy(settings):
    settings.DEBUG = False
    settings.UNIONAID_DEV_KEYS = True
    settings.UNIONAID_KEYS = ""
    out = io.StringIO()
    call_command("check", "--deploy", stdout=out, stderr=out, fail_level="CRITICAL")
    assert "unionaid.W001" in out.getvalue()


def test_the_deploy_check_fails_without_keys_when_dev_keys_are_off(settings):
    settings.UNIONAID_DEV_KEYS = False
    settings.UNIONAID_KEYS = ""
    settings.UNIONAID_INDEX_KEY = ""
    for debug in (False, True):
        settings.DEBUG = debug
        assert [e.id for e in check_dev_keys()] == ["unionaid.E001"]
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check", "--deploy", stdout=out, stderr=out)


# -- dev keys: on only with DEBUG; without them, no start without real keys -------------------

CONFIG = Path(__file__).resolve().parents[4] / "config"


def _settings_from_env(monkeypatch, **env) -> dict:
    """config/settings.py evaluated afresh under ``env`` (the process's own settings untouched)."""
    for name in ("DEBUG", "UNIONAID_DEV_KEYS", "UNIONAID_DEV_KEYS_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONFIG / "settings.py"))


def test_dev_keys_are_off_by_default_without_debug(monkeypatch):
    assert _settings_from_env(monkeypatch)["UNIONAID_DEV_KEYS"] is False
    assert _settings_from_env(monkeypatch, DEBUG="0")["UNIONAID_DEV_KEYS"] is False


def test_dev_keys_are_on_by_default_with_debug_or_when_asked(monkeypatch):
    assert _settings_from_env(monkeypatch, DEBUG="1")["UNIONAID_DEV_KEYS"] is True
    assert _settings_from_env(monkeypatch, UNIONAID_DEV_KEYS="1")["UNIONAID_DEV_KEYS"] is True
    assert _settings_from_env(
        monkeypatch, DEBUG="1", UNIONAID_DEV_KEYS="0")["UNIONAID_DEV_KEYS"] is False


def test_make_run_asks_for_dev_keys_explicitly():
    makefile = (CONFIG.parent / "Makefile").read_text(encoding="utf-8")
    assert "run: export UNIONAID_DEV_KEYS ?= 1" in makefile


@pytest.fixture
def no_keys(settings):
    settings.UNIONAID_DEV_KEYS = False
    settings.UNIONAID_KEYS = ""
    settings.UNIONAID_ACTIVE_KEY = ""
    settings.UNIONAID_INDEX_KEY = ""
    crypto.reset_keyring()
    yield settings
    crypto.reset_keyring()


def test_missing_keys_without_dev_keys_refuse_to_start(no_keys):
    with pytest.raises(ImproperlyConfigured, match="UNIONAID_KEYS is not set"):
        crypto.require_keys()
    no_keys.UNIONAID_KEYS = f"k1:{AES_1}"
    with pytest.raises(ImproperlyConfigured, match="UNIONAID_INDEX_KEY is not set"):
        crypto.require_keys()
    no_keys.UNIONAID_INDEX_KEY = INDEX
    assert crypto.require_keys().active_kid == "k1"


@pytest.mark.parametrize("module", ["wsgi.py", "asgi.py"])
def test_the_wsgi_and_asgi_apps_refuse_to_load_without_keys(no_keys, module):
    with pytest.raises(ImproperlyConfigured, match="UNIONAID_KEYS is not set"):
        runpy.run_path(str(CONFIG / module))
    no_keys.UNIONAID_DEV_KEYS = True
    assert runpy.run_path(str(CONFIG / module))["application"] is not None


def test_rotation_finds_every_lookup_hash_from_the_fields_themselves():
    """keys_rotate knows no app: the pairs come from ``EncryptedTextField(blind_index=...)``."""
    assert blind_index_pairs() == {
        ("members.member", "id_number"): ("id_number_hash", "member.id_number"),
        ("members.member", "phone"): ("phone_hash", "member.phone"),
        ("members.householdmember", "id_number"): ("id_number_hash", "member.id_number"),
        # other departments' lists, hashed the members' way so the exact stage joins on hashes
        ("matching.externalrecord", "id_number"): ("id_hash", "member.id_number"),
        ("matching.externalrecord", "phone"): ("phone_hash", "member.phone"),
    }
