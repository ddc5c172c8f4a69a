"""/api/v1/auth and the two ways in: session (with CSRF) and bearer token."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client
from django.utils.crypto import get_random_string

from conftest import PASSWORD, verified_login
from unionaid.accounts import services as account_services
from unionaid.accounts.models import ApiToken, Assignment, Role, User
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied
from unionaid.core.testing.api import ApiClient


def test_it_answers_401_with_code_and_chinese_message_without_credentials(db):
    response = Client().get("/api/v1/members")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthenticated"
    assert body["message"] == "请先登录或提供有效令牌。"


def test_it_rejects_an_unknown_bearer_token(db):
    response = Client().get("/api/v1/auth/me", headers={"Authorization": "Bearer ua_not-a-token"})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_me_lists_positions_permissions_and_scopes(personas, as_session, union):
    response = as_session(personas.team_cadre).get("/auth/me")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "team_cadre"
    assert body["positions"] == ["甲一班组·team_cadre-post"]
    assert "members.view" in body["permissions"]
    assert "members.reveal" not in body["permissions"]
    assert body["permission_labels"]["members.view"] == "查看职工"
    assert body["scopes"] == [{
        "position": "甲一班组·team_cadre-post", "unit_id": union.team_a.pk,
        "scope": "unit_and_below", "scope_label": "本单位及以下",
        "permissions": ["members.change", "members.consent", "members.view", "org.view"],
    }]


def test_me_for_a_worker_shows_only_the_self_scope(worker, as_session):
    body = as_session(worker).get("/auth/me").json()
    assert body["member_id"] == worker.member_id
    assert body["positions"] == []
    assert [s["scope"] for s in body["scopes"]] == ["self"]
    assert "members.view" in body["scopes"][0]["permissions"]
    assert not any(p.startswith(("security.", "audit.", "system.")) for p in body["permissions"])


def test_it_creates_a_token_from_a_session_and_shows_it_once(personas, as_session):
    api = as_session(personas.team_cadre)
    response = api.post("/auth/tokens", {"name": "小程序"})
    assert response.status_code == 201
    raw = response.json()["token"]
    assert raw.startswith("ua_")
    stored = ApiToken.objects.get(user=personas.team_cadre)
    assert stored.name == "小程序"
    assert raw not in stored.digest  # only a hash is kept
    assert AuditEvent.objects.filter(action="token.create", actor=personas.team_cadre).exists()
    listed = api.get("/auth/tokens").json()
    assert [t["name"] for t in listed] == ["小程序"]
    assert "token" not in listed[0]
    assert listed[0]["is_active"] is True
    # The token works on its own, without the session.
    me = ApiClient(Client(), token=raw).get("/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == "team_cadre"


def test_it_refuses_to_create_a_token_with_a_token(personas, as_token):
    api = as_token(personas.team_cadre)
    response = api.post("/auth/tokens", {"name": "again"})
    assert response.status_code == 401
    assert ApiToken.objects.filter(user=personas.team_cadre).count() == 1


def test_session_writes_need_the_csrf_token(personas, union):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.team_cadre)
    body = json.dumps({"name": "无CSRF"})
    refused = client.post("/api/v1/auth/tokens", data=body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert "CSRF" in refused.json()["message"]
    assert not ApiToken.objects.exists()

    csrf = get_random_string(32)  # what a page's {% csrf_token %} would have set
    client.cookies[settings.CSRF_COOKIE_NAME] = csrf
    accepted = client.post("/api/v1/auth/tokens", data=body, content_type="application/json",
                           headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 201
    assert ApiToken.objects.filter(name="无CSRF").exists()


def test_bearer_token_writes_need_no_csrf_token(personas, union, make_member):
    member = make_member(union.team_a)
    _token, raw = account_services.api_token_create(actor=personas.team_cadre, name="app")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/api/v1/members/{member.pk}/consents", data=json.dumps({"kind": "health"}),
        content_type="application/json", headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201
    assert member.consents.filter(kind="health", withdrawn_at__isnull=True).exists()


def test_it_revokes_a_token_which_then_stops_working(personas, as_session):
    session = as_session(personas.team_cadre)
    created = session.post("/auth/tokens", {"name": "phone"}).json()
    token_api = ApiClient(Client(), token=created["token"])
    assert token_api.get("/auth/me").status_code == 200
    response = session.delete(f"/auth/tokens/{created['id']}")
    assert response.status_code == 204
    assert ApiToken.objects.get(pk=created["id"]).revoked_at is not None
    assert token_api.get("/auth/me").status_code == 401
    assert session.get("/auth/tokens").json()[0]["is_active"] is False


def test_it_cannot_revoke_someone_elses_token(personas, as_session):
    other, _raw = account_services.api_token_create(actor=personas.other_cadre, name="theirs")
    response = as_session(personas.team_cadre).delete(f"/auth/tokens/{other.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    other.refresh_from_db()
    assert other.revoked_at is None


def test_ending_the_last_assignment_stops_the_token(personas, as_token):
    api = as_token(personas.team_cadre)
    assert api.get("/members").status_code == 200
    assignment = Assignment.objects.get(user=personas.team_cadre)
    account_services.assignment_end(actor=personas.security_admin, assignment=assignment)
    response = api.get("/members")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_disabling_the_user_stops_the_token_and_the_session(personas, as_token, as_session):
    token_api = as_token(personas.team_cadre)
    session_api = as_session(personas.team_cadre)
    assert token_api.get("/auth/me").status_code == 200
    assert session_api.get("/auth/me").status_code == 200
    account_services.user_set_active(actor=personas.security_admin, user=personas.team_cadre,
                                     active=False)
    assert token_api.get("/auth/me").status_code == 401
    assert session_api.get("/auth/me").status_code == 401


def test_the_users_own_password_change_stops_their_tokens(personas, as_token):
    user = personas.team_cadre
    api = as_token(user)
    assert api.get("/auth/me").status_code == 200
    page = Client()
    page.force_login(user)
    response = page.post("/accounts/security/", {
        "action": "password", "old_password": PASSWORD,
        "new_password1": "Brand-new-2026", "new_password2": "Brand-new-2026",
    })
    assert response.status_code == 302
    assert "其他设备上的登录和接口令牌已失效" in page.get("/accounts/security/").content.decode()
    response = api.get("/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_an_admins_password_reset_stops_the_users_tokens(personas, as_token):
    api = as_token(personas.team_cadre)
    assert api.get("/members").status_code == 200
    account_services.user_set_password(actor=personas.security_admin, user=personas.team_cadre,
                                       password="Reset-pass-2026")
    assert api.get("/members").status_code == 401


def test_any_path_that_sets_a_password_stops_the_tokens(personas, as_token):
    api = as_token(personas.team_cadre)
    other_api = as_token(personas.station_cadre)
    user = User.objects.get(pk=personas.team_cadre.pk)
    user.set_password("Other-pass-2026")  # e.g. manage.py changepassword, Django's own forms
    user.save()
    assert api.get("/auth/me").status_code == 401
    assert other_api.get("/auth/me").status_code == 200  # only that user's tokens


def test_a_password_hash_upgrade_at_login_keeps_the_tokens(personas, as_token, settings):
    api = as_token(personas.team_cadre)
    # A new preferred hasher: the next successful password check re-hashes and saves.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.ScryptPasswordHasher",
                                 "django.contrib.auth.hashers.MD5PasswordHasher"]
    user = User.objects.get(pk=personas.team_cadre.pk)
    assert user.check_password(PASSWORD)
    user.refresh_from_db()
    assert user.password.startswith("scrypt$")
    assert api.get("/auth/me").status_code == 200


def test_admin_duties_need_a_verified_second_factor_in_the_session(personas):
    plain = Client()
    plain.force_login(personas.bureau_admin)  # logged in, second factor not passed
    assert plain.get("/api/v1/auth/me").status_code == 401
    verified = verified_login(Client(), personas.bureau_admin)
    assert verified.get("/api/v1/auth/me").status_code == 200


def test_admin_tokens_are_refused(personas):
    # An admin cannot create a token at all ...
    with pytest.raises(PermissionDenied) as exc:
        account_services.api_token_create(actor=personas.bureau_admin, name="x")
    assert exc.value.code == "admin_token_refused"
    # ... and a token made before the user became an admin stops working.
    _token, raw = account_services.api_token_create(actor=personas.team_cadre, name="x")
    position = account_services.position_create(
        actor=None, org_unit=personas_bureau(personas), name="兼任系统管理员",
        roles=[Role.objects.get(code="system")],
    )
    account_services.assignment_grant(actor=None, user=personas.team_cadre, position=position)
    response = Client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401


def personas_bureau(personas):
    return Assignment.objects.filter(user=personas.bureau_admin).first().position.org_unit
