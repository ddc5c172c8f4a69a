"""Session lifetime, ending sessions through session_version, security headers."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from unionaid.accounts import services
from unionaid.accounts.models import User


def _login(user) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_an_idle_session_expires_after_the_configured_minutes(personas):
    start = timezone.now()
    idle = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with time_machine.travel(start, tick=False) as clock:
        client = _login(personas.team_cadre)
        assert client.get("/").status_code == 200
        clock.move_to(start + idle + dt.timedelta(minutes=1))
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert response.wsgi_request.user.is_anonymous


def test_activity_keeps_the_session_alive(personas):
    start = timezone.now()
    step = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE) * 2 / 3
    with time_machine.travel(start, tick=False) as clock:
        client = _login(personas.team_cadre)
        for n in range(1, 4):  # three requests, each within the idle limit of the previous one
            clock.move_to(start + step * n)
            assert client.get("/").status_code == 200


def test_bumping_session_version_ends_every_session_of_the_user(personas):
    user = personas.team_cadre
    first, second = _login(user), _login(user)
    assert first.get("/").status_code == 200
    User.objects.filter(pk=user.pk).update(session_version=user.session_version + 1)
    for client in (first, second):
        response = client.get("/")
        assert response.status_code == 302
        assert response.wsgi_request.user.is_anonymous
        assert "_auth_user_id" not in client.session  # the stale session was flushed


def test_disabling_a_user_through_the_service_ends_their_session(personas):
    victim = _login(personas.team_cadre)
    services.user_set_active(actor=personas.security_admin, user=personas.team_cadre,
                             active=False)
    response = victim.get("/")
    assert response.status_code == 302
    assert response.wsgi_request.user.is_anonymous
    assert User.objects.get(pk=personas.team_cadre.pk).session_version == 1


def test_a_password_change_elsewhere_ends_the_other_sessions(personas):
    victim = _login(personas.team_cadre)
    services.user_set_password(actor=personas.security_admin, user=personas.team_cadre,
                               password="Reset-pass-2026")
    assert victim.get("/").wsgi_request.user.is_anonymous


def test_pages_carry_the_security_headers(client, personas):
    client.force_login(personas.team_cadre)
    for path in ("/accounts/login/", "/"):
        response = client.get(path)
        csp = response["Content-Security-Policy"]
        directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";")}
        assert directives["default-src"] == "default-src 'self'"
        assert directives["script-src"] == "script-src 'self'"
        assert directives["frame-ancestors"] == "frame-ancestors 'none'"
        assert "unsafe-inline" not in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_the_session_cookie_is_http_only_and_not_persistent(client, personas):
    response = client.post("/accounts/login/",
                           {"username": "team_cadre", "password": PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["max-age"]  # ends with the browser; idle expiry is server-side


def test_login_pages_contain_no_inline_script_or_style(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert "<script>" not in html
    assert "style=" not in html


def test_a_session_is_written_at_most_once_a_minute_and_its_expiry_moves_on(personas):
    from django.contrib.sessions.models import Session

    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = _login(personas.team_cadre)
        assert client.get("/").status_code == 200
        key = client.session.session_key
        first = Session.objects.get(session_key=key).expire_date
        clock.move_to(start + dt.timedelta(seconds=30))
        assert client.get("/").status_code == 200
        assert Session.objects.get(session_key=key).expire_date == first  # not written again
        clock.move_to(start + dt.timedelta(seconds=61))
        assert client.get("/").status_code == 200
        moved = Session.objects.get(session_key=key).expire_date
    assert moved - first >= dt.timedelta(seconds=60)


def test_an_expired_session_cookie_makes_no_new_session(db, client):
    from django.contrib.sessions.models import Session

    client.cookies[settings.SESSION_COOKIE_NAME] = "gone0000000000000000000000000000"
    assert client.get("/healthz").status_code == 200
    assert not Session.objects.exists()
