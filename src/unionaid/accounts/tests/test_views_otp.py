"""Second factor: enrolment with a QR code, verification, the security page."""

from __future__ import annotations

from binascii import unhexlify

import pytest
from django.urls import reverse
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, verified_login
from unionaid.accounts.views import SETUP_KEY
from unionaid.audit.models import AuditEvent

HOME = "/"


def _confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_an_admin_without_a_device_is_sent_to_setup(client, personas):
    client.force_login(personas.audit_admin)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp-setup")


def test_an_admin_with_an_unverified_device_is_sent_to_verify(client, personas):
    _confirmed_device(personas.bureau_admin)
    client.force_login(personas.bureau_admin)
    response = client.get("/org/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:otp-verify')}?next=%2Forg%2F"


def test_the_admin_pages_under_accounts_also_require_the_second_factor(client, personas):
    _confirmed_device(personas.security_admin)
    client.force_login(personas.security_admin)
    response = client.get(reverse("accounts:admin-users"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp-verify"))


def test_a_cadre_without_duties_needs_no_second_factor(client, personas):
    client.force_login(personas.team_cadre)
    assert client.get(HOME).status_code == 200


def test_setup_shows_a_qr_code_and_the_secret_then_confirms_with_a_code(client, personas):
    user = personas.security_admin
    client.force_login(user)
    response = client.get(reverse("accounts:otp-setup"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in html
    key_hex = client.session[SETUP_KEY]
    assert response.context["secret"].replace(" ", "") in html.replace(" ", "")
    assert not TOTPDevice.objects.filter(user=user).exists()

    code = f"{TOTP(unhexlify(key_hex)).token():06d}"
    response = client.post(reverse("accounts:otp-setup"), {"token": code})
    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    assert device.key == key_hex
    assert SETUP_KEY not in client.session
    assert AuditEvent.objects.filter(action="otp.setup", actor_id=user.pk, outcome="ok").exists()
    # The session now counts as verified: the admin pages open.
    assert client.get(reverse("accounts:admin-users")).status_code == 200


def test_setup_refuses_a_wrong_code_and_journals_it(client, personas):
    user = personas.security_admin
    client.force_login(user)
    client.get(reverse("accounts:otp-setup"))
    key_hex = client.session[SETUP_KEY]
    wrong = f"{(TOTP(unhexlify(key_hex)).token() + 500_000) % 1_000_000:06d}"
    response = client.post(reverse("accounts:otp-setup"), {"token": wrong})
    assert response.status_code == 200
    assert "动态验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="otp.setup", outcome="denied").exists()


def test_verify_with_the_right_code_lets_the_admin_in(client, personas):
    user = personas.audit_admin
    device = _confirmed_device(user)
    client.force_login(user)
    response = client.post(f"{reverse('accounts:otp-verify')}?next=/audit/",
                           {"token": _code(device), "next": "/audit/"})
    assert response.status_code == 302
    assert response["Location"] == "/audit/"
    assert client.get("/audit/").status_code == 200
    event = AuditEvent.objects.filter(action="otp.verify").latest("id")
    assert (event.actor_id, event.outcome) == (user.pk, "ok")


def test_verify_refuses_a_wrong_code_and_a_replayed_one(client, personas):
    user = personas.audit_admin
    device = _confirmed_device(user)
    client.force_login(user)
    code = _code(device)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(reverse("accounts:otp-verify"), {"token": wrong})
    assert response.status_code == 200
    assert "动态验证码不正确" in response.content.decode()
    assert client.get("/audit/").status_code == 302
    assert AuditEvent.objects.filter(action="otp.verify", outcome="denied").count() == 1


def test_verify_ignores_an_offsite_next(client, personas):
    user = personas.audit_admin
    device = _confirmed_device(user)
    client.force_login(user)
    response = client.post(reverse("accounts:otp-verify"),
                           {"token": _code(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("web:home")


def test_a_cadre_can_turn_totp_on_and_off_with_the_password(client, personas):
    user = personas.team_cadre
    device = _confirmed_device(user)
    client.force_login(user)
    # Having a device makes the second factor required for this user too.
    assert client.get(reverse("accounts:security")).status_code == 302
    client.post(reverse("accounts:otp-verify"), {"token": _code(device)})
    response = client.post(reverse("accounts:security"),
                           {"action": "otp_disable", "password": "not-it"})
    assert "密码不正确" in response.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()
    response = client.post(reverse("accounts:security"),
                           {"action": "otp_disable", "password": PASSWORD})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="otp.disable", actor_id=user.pk).exists()


def test_an_admin_cannot_turn_their_second_factor_off(client, personas):
    user = personas.security_admin
    verified_login(client, user)
    page = client.get(reverse("accounts:security")).content.decode()
    assert "不能关闭" in page
    response = client.post(reverse("accounts:security"),
                           {"action": "otp_disable", "password": PASSWORD})
    assert "必须使用双因素认证" in response.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()
    assert not AuditEvent.objects.filter(action="otp.disable").exists()


def test_changing_the_password_keeps_this_session_and_is_journaled(client, personas):
    user = personas.team_cadre
    client.force_login(user)
    response = client.post(reverse("accounts:security"), {
        "action": "password", "old_password": PASSWORD,
        "new_password1": "Brand-new-2026", "new_password2": "Brand-new-2026",
    })
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Brand-new-2026")
    assert client.get(HOME).status_code == 200
    assert AuditEvent.objects.filter(action="user.password", actor_id=user.pk).exists()


@pytest.mark.parametrize(("new", "message"), [
    ("short1A", "至少"),
    ("alllowercaseletters", "至少三类"),
])
def test_it_refuses_a_weak_new_password_in_chinese(client, personas, new, message):
    user = personas.team_cadre
    client.force_login(user)
    response = client.post(reverse("accounts:security"), {
        "action": "password", "old_password": PASSWORD,
        "new_password1": new, "new_password2": new,
    })
    assert response.status_code == 200
    assert message in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_security_admin_resets_a_lost_device(client, personas):
    _confirmed_device(personas.team_cadre)
    verified_login(client, personas.security_admin)
    response = client.post(
        reverse("accounts:admin-user-otp-reset", args=[personas.team_cadre.pk])
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=personas.team_cadre).exists()
    assert AuditEvent.objects.filter(action="otp.reset",
                                     target_id=str(personas.team_cadre.pk)).exists()
