# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)
"""The device side of offline visits, in JavaScript: visit_drafts.test.js (encrypted drafts and
photos in IndexedDB, per-user keys that cannot be exported, photos kept until sent, cleared at
logout), run with node when it is installed; the pages load the vault and wire the logout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import verified_login

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
