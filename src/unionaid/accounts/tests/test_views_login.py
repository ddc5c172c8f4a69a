"""Login, lockout after repeated failures, logout, and their journal entries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import PASSWORD
from unionaid.audit.models import AuditEvent

LOGIN = "/accounts/login/"


def _fail(client, username="team_cadre"):
    return client.post(LOGIN, {"username": username, "password": "Wrong-pass-1"})


def test_it_shows_a_chinese_phone_friendly_login_page(client, db):
    response = client.get(LOGIN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "登录工会帮扶系统" in html
    assert 'name="viewport"' in html
    assert 'name="username"' in html
    assert 'name="password"' in html


def test_it_logs_in_with_the_right_password_and_journals_it(client, personas):
    response = client.post(LOGIN, {"username": "team_cadre", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert client.session["_auth_user_id"] == str(personas.team_cadre.pk)
    event = AuditEvent.objects.filter(action="auth.login").latest("id")
    assert event.actor_id == personas.team_cadre.pk
    assert event.ip == "127.0.0.1"


def test_it_rejects_a_wrong_password_in_chinese_and_journals_the_failure(client, personas):
    response = _fail(client)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "请输入一个正确的" in response.content.decode()
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert (event.actor_id, event.actor_label, event.outcome) == (None, "team_cadre", "denied")
    assert "Wrong-pass-1" not in str(event.changes)


def test_it_locks_the_user_name_after_five_failures_even_for_the_right_password(
    client, personas
):
    responses = [_fail(client) for _ in range(5)]
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert responses[4].status_code == 429
    failures = AuditEvent.objects.filter(action="auth.login_failed", actor_label="team_cadre")
    assert failures.count() == 5

    response = client.post(LOGIN, {"username": "team_cadre", "password": PASSWORD})
    html = response.content.decode()
    assert response.status_code == 429
    assert "账号已被临时锁定" in html
    assert "30 分钟后再试" in html
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_the_lockout_is_per_user_name_not_per_office(client, personas):
    for _ in range(5):
        _fail(client, "team_cadre")
    response = client.post(LOGIN, {"username": "station_cadre", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(personas.station_cadre.pk)


def test_a_success_before_the_limit_resets_the_failure_count(client, personas):
    for _ in range(4):
        _fail(client)
    assert client.post(LOGIN, {"username": "team_cadre", "password": PASSWORD}).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(4):
        assert _fail(client).status_code == 200


def test_logout_needs_post_ends_the_session_and_is_journaled(client, personas):
    client.force_login(personas.team_cadre)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.logout",
                                     actor_id=personas.team_cadre.pk).exists()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_it_ignores_an_offsite_next_after_login(client, personas, target):
    response = client.post(f"{LOGIN}?next={target}",
                           {"username": "team_cadre", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
