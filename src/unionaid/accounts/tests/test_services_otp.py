"""Second-factor services and the user-name rule, below the pages."""

from __future__ import annotations

from binascii import unhexlify

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from unionaid.accounts import services, twofactor
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError


def _code(key_hex: str) -> str:
    return f"{TOTP(unhexlify(key_hex)).token():06d}"


def test_confirming_stores_one_confirmed_device_and_blocks_a_second(personas):
    user = personas.team_cadre
    key = twofactor.otp_new_secret()
    device = twofactor.otp_device_confirm(actor=user, key_hex=key, token=_code(key))
    assert device.confirmed
    assert twofactor.has_confirmed_device(user)
    other = twofactor.otp_new_secret()
    with pytest.raises(Conflict):
        twofactor.otp_device_confirm(actor=user, key_hex=other, token=_code(other))
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_the_enrolment_code_cannot_be_replayed_to_verify(personas):
    user = personas.team_cadre
    key = twofactor.otp_new_secret()
    code = _code(key)
    with time_machine.travel(timezone.now(), tick=False):
        twofactor.otp_device_confirm(actor=user, key_hex=key, token=code)
        with pytest.raises(ServiceError) as exc:
            twofactor.otp_verify(actor=user, token=code)
    assert exc.value.code == "otp_invalid"


def test_verification_is_throttled_after_a_failure(personas):
    user = personas.team_cadre
    device = TOTPDevice.objects.create(user=user, name="p", confirmed=True)
    right = f"{TOTP(device.bin_key).token():06d}"
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with time_machine.travel(timezone.now(), tick=False):
        with pytest.raises(ServiceError):
            twofactor.otp_verify(actor=user, token=wrong)
        with pytest.raises(ServiceError) as exc:
            twofactor.otp_verify(actor=user, token=right)
    assert exc.value.code == "otp_throttled"
    outcomes = list(AuditEvent.objects.filter(action="otp.verify").values_list("outcome",
                                                                               flat=True))
    assert outcomes == ["denied", "denied"]


def test_only_a_security_admin_resets_a_device_and_never_their_own(personas):
    TOTPDevice.objects.create(user=personas.team_cadre, name="p", confirmed=True)
    TOTPDevice.objects.create(user=personas.security_admin, name="p", confirmed=True)
    with pytest.raises(PermissionDenied):
        twofactor.otp_reset_for_user(actor=personas.station_cadre, user=personas.team_cadre)
    with pytest.raises(PermissionDenied):
        twofactor.otp_reset_for_user(actor=personas.security_admin,
                                     user=personas.security_admin)
    twofactor.otp_reset_for_user(actor=personas.security_admin, user=personas.team_cadre)
    assert not TOTPDevice.objects.filter(user=personas.team_cadre).exists()
    assert TOTPDevice.objects.filter(user=personas.security_admin).exists()


def test_admins_cannot_disable_and_others_need_their_password(personas):
    TOTPDevice.objects.create(user=personas.audit_admin, name="p", confirmed=True)
    with pytest.raises(PermissionDenied):
        twofactor.otp_disable(actor=personas.audit_admin, password=PASSWORD)
    with pytest.raises(Conflict):
        twofactor.otp_disable(actor=personas.team_cadre, password=PASSWORD)


def test_user_names_are_unique_regardless_of_case(personas):
    with pytest.raises(Conflict):
        services.user_create(actor=personas.security_admin, username="Team_Cadre",
                             password="Good-pass-2026")


def test_disabling_a_user_revokes_their_api_tokens(personas):
    token, _raw = services.api_token_create(actor=personas.team_cadre, name="app")
    services.user_set_active(actor=personas.security_admin, user=personas.team_cadre,
                             active=False)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.api_token_authenticate(_raw) is None
