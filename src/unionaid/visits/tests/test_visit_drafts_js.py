# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)
"""The device side of offline visits, in JavaScript: visit_drafts.test.js (encrypted drafts and
photos in IndexedDB, per-user keys made of a non-extractable device key and the user's server
secret, so that another user of the browser cannot read them; photos kept until sent, cleared
at logout), run with node when it is installed; the pages load the vault, carry only their own
user's secret, and wire the logout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import verified_login
from unionaid.core.crypto import device_vault_secret

from .helpers_records import rec  # noqa: F401

HERE = Path(__file__).parent


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_device_vault_keeps_drafts_and_photos_encrypted_until_sent():
    result = subprocess.run(
        [shutil.which("node"), str(HERE / "visit_drafts.test.js")],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "visit drafts: ok" in result.stdout


def test_every_page_loads_the_vault_and_the_logout_clears_the_users_device_data(client, rec):
    html = verified_login(client, rec.visitor_a).get("/visits/").content.decode()
    assert "js/device-vault.js" in html
    assert f'data-device-logout data-owner="{rec.visitor_a.pk}"' in html
    assert "退出登录后将从本机删除" in html


def test_the_vault_secret_is_per_user_and_derived_on_the_server(settings):
    assert device_vault_secret(7) != device_vault_secret(8)
    assert device_vault_secret(7) == device_vault_secret("7")
    assert len(device_vault_secret(7)) == 64
    before = device_vault_secret(7)
    settings.SECRET_KEY = "another-secret-key-for-the-rotation-test-" + "x" * 20
    assert device_vault_secret(7) != before  # rotates with the server key


def test_a_page_carries_only_its_own_users_vault_secret(client, rec):
    mine = device_vault_secret(rec.visitor_a.pk)
    theirs = device_vault_secret(rec.visitor_b.pk)
    response = verified_login(client, rec.visitor_a).get("/visits/")
    assert "no-store" in response["Cache-Control"]  # no copy of the secret in the cache
    assert "private" in response["Cache-Control"]
    html = response.content.decode()
    assert (f'<meta name="unionaid-vault" data-owner="{rec.visitor_a.pk}" content="{mine}">'
            in html)
    assert theirs not in html
    client.logout()
    for path in ("/accounts/login/", "/"):
        response = client.get(path, follow=True)
        assert response.status_code == 200
        anonymous = response.content.decode()
        assert 'name="unionaid-vault"' not in anonymous
        assert mine not in anonymous
        assert theirs not in anonymous
