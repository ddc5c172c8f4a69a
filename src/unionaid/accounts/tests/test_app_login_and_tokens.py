"""The app login (POST /api/v1/auth/login → a short-lived token; /logout revokes it) under the
web login's rules (django-axes lockout, the second factor, no user-name oracle), and the API
tokens page: issue with an expiry (the secret shown once, stored hashed), list, revoke; the
security admin lists and revokes the tokens of the users in their scope. All journaled."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, make_role, make_staff, verified_login
from unionaid.accounts import services
from unionaid.accounts.models import ApiToken
from unionaid.audit.models import AuditEvent
from unionaid.core.testing.api import ApiClient

LOGIN = "/auth/login"


def login(body):
    return ApiClient(Client()).post(LOGIN, body)


def test_the_app_login_gives_a_short_lived_token_that_works(worker):
    response = login({"username": "worker", "password": PASSWORD, "app_name": "工会小程序"})
    assert response.status_code == 200, response.json()
    body = response.json()
    token = ApiToken.objects.get(pk=body["token_id"])
    assert token.kind == "app_login"
    assert token.name == "工会小程序"
    assert token.digest == hashlib.sha256(body["token"].encode()).hexdigest()
    assert token.expires_at - timezone.now() <= services.APP_LOGIN_LIFETIME
    api = ApiClient(Client(), token=body["token"])
    assert api.get("/auth/me").json()["username"] == "worker"
    assert AuditEvent.objects.filter(action="auth.login", actor_id=worker.pk).exists()
    with time_machine.travel(timezone.now() + services.APP_LOGIN_LIFETIME
                             + dt.timedelta(minutes=1)):
        assert api.get("/auth/me").status_code == 401


def test_the_app_logout_revokes_the_token(worker):
    raw = login({"username": "worker", "password": PASSWORD}).json()["token"]
    api = ApiClient(Client(), token=raw)
    assert api.post("/auth/logout").status_code == 204
    assert api.get("/auth/me").status_code == 401
    assert AuditEvent.objects.filter(action="token.revoke", actor_id=worker.pk).exists()


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(worker):
    wrong = login({"username": "worker", "password": "nope"})
    unknown = login({"username": "nobody-here", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"code": "invalid_credentials",
                                              "message": "用户名或密码不正确。"}
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 2


def test_a_disabled_user_gets_the_same_answer(worker, personas):
    services.user_set_active(actor=personas.security_admin, user=worker, active=False)
    response = login({"username": "worker", "password": PASSWORD})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_the_app_login_honours_the_lockout(worker):
    for _ in range(5):
        login({"username": "worker", "password": "wrong"})
    response = login({"username": "worker", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert not ApiToken.objects.exists()


def test_a_user_with_a_second_factor_needs_the_code(worker):
    device = TOTPDevice.objects.create(user=worker, name="p", confirmed=True)
    missing = login({"username": "worker", "password": PASSWORD})
    assert missing.status_code == 400
    assert missing.json()["code"] == "otp_required"
    wrong = login({"username": "worker", "password": PASSWORD, "otp": "000000"})
    assert wrong.json()["code"] == "otp_invalid"
    assert not ApiToken.objects.exists()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    right = f"{TOTP(device.bin_key).token():06d}"
    ok = login({"username": "worker", "password": PASSWORD, "otp": right})
    assert ok.status_code == 200, ok.json()


def test_admin_duties_cannot_use_the_app_login(personas):
    response = login({"username": "security_admin", "password": PASSWORD})
    assert response.status_code == 403
    assert response.json()["code"] == "admin_token_refused"
    assert not ApiToken.objects.exists()


# -- the tokens page ----------------------------------------------------------------------------

PAGE = "/accounts/tokens/"


def test_the_page_issues_a_token_shown_once_and_stored_hashed(client, personas):
    client.force_login(personas.team_cadre)
    response = client.post(PAGE, {"name": "数据对接", "expiry_days": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    token = ApiToken.objects.get(user=personas.team_cadre)
    raw = re.search(r"ua_[A-Za-z0-9_-]{40,}", html).group(0)
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    assert raw not in client.get(PAGE).content.decode()  # never shown again
    event = AuditEvent.objects.get(action="token.create")
    assert event.changes["name"] == "数据对接"
    assert raw not in str(event.changes)
    assert ApiClient(Client(), token=raw).get("/auth/me").status_code == 200


def test_the_page_lists_and_revokes_ones_own_tokens(client, personas):
    mine, _ = services.api_token_create(actor=personas.team_cadre, name="小程序")
    theirs, _ = services.api_token_create(actor=personas.station_cadre, name="别人的")
    client.force_login(personas.team_cadre)
    html = client.get(PAGE).content.decode()
    assert "小程序" in html
    assert "别人的" not in html
    assert client.post(f"{PAGE}{theirs.pk}/revoke/").status_code == 302
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    client.post(f"{PAGE}{mine.pk}/revoke/")
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_the_page_refuses_a_missing_name_in_chinese(client, personas):
    client.force_login(personas.team_cadre)
    response = client.post(PAGE, {"name": "", "expiry_days": "30"})
    assert response.status_code == 400
    assert "请填写令牌名称（不超过 60 字）。" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_admin_duties_get_no_token_from_the_page(client, personas):
    verified_login(client, personas.bureau_admin)
    response = client.post(PAGE, {"name": "x", "expiry_days": "30"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


# -- the security admin -------------------------------------------------------------------------

ADMIN = "/accounts/admin/tokens/"


def test_the_security_admin_lists_and_revokes_tokens_in_scope(client, personas):
    token, raw = services.api_token_create(actor=personas.team_cadre, name="小程序")
    verified_login(client, personas.security_admin)
    assert "小程序" in client.get(ADMIN).content.decode()
    assert client.post(f"{ADMIN}{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(action="token.revoke")
    assert event.actor_id == personas.security_admin.pk
    assert event.changes["by_admin"] is True
    assert ApiClient(Client(), token=raw).get("/auth/me").status_code == 401


def test_a_station_security_admin_does_not_reach_other_stations_tokens(client, union, personas):
    local = make_staff("station_security", union.station_a,
                       [make_role("sec-station", ["security.manage"])])
    theirs, _ = services.api_token_create(actor=personas.other_cadre, name="乙站令牌")
    verified_login(client, local)
    assert "乙站令牌" not in client.get(ADMIN).content.decode()
    assert client.post(f"{ADMIN}{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_others_cannot_open_the_admin_token_page(client, personas):
    client.force_login(personas.team_cadre)
    assert client.get(ADMIN).status_code == 404


@pytest.mark.parametrize("days", [0, 400])
def test_an_expiry_outside_a_year_is_refused(personas, days):
    with pytest.raises(services.ServiceError) as exc:
        services.api_token_create(actor=personas.team_cadre, name="x",
                                  expires_at=timezone.now() + dt.timedelta(days=days))
    assert exc.value.fields == {"expires_at": "有效期须在今后一年之内。"}
    assert not ApiToken.objects.exists()


def test_an_expiry_without_a_time_zone_is_beijing_time(personas):
    """A date-time without a zone (as a client may send it) is not a 500: it is local time."""
    naive = (timezone.localtime() + dt.timedelta(days=30)).replace(tzinfo=None, microsecond=0)
    token, _raw = services.api_token_create(actor=personas.team_cadre, name="x",
                                            expires_at=naive)
    assert timezone.localtime(token.expires_at).replace(tzinfo=None) == naive


def test_a_wrong_guess_at_a_one_time_password_costs_the_default_hashers_time(monkeypatch):
    """Else a fast answer would tell a login still holds its printed one-time password."""
    from django.contrib.auth.hashers import get_hasher

    from unionaid.accounts.passwords import OneTimePasswordHasher

    hasher = OneTimePasswordHasher()
    encoded = hasher.encode("Right-one-2026", hasher.salt())
    default = type(get_hasher("default"))
    calls = []
    original = default.encode
    monkeypatch.setattr(default, "encode",
                        lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    assert hasher.verify("Right-one-2026", encoded)
    assert calls == []
    assert not hasher.verify("wrong-guess", encoded)
    assert calls == [1]
