"""Shared test set-up: a small railway-bureau union and its people (healthchecks' alice/bob).

    bureau (路局)
    ├── station_a (站段 A) ── workshop_a (车间) ── team_a (班组)
    └── station_b (站段 B) ── workshop_b (车间) ── team_b (班组)

Personas: team_cadre (班组, unit and below), station_cadre (站段 A, unit and below, may reveal),
other_cadre (站段 B), bureau_admin (system admin), security_admin, audit_admin, worker (a member
with their own login).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from unionaid.accounts import services as account_services
from unionaid.accounts.models import DataScope, User
from unionaid.core.synthetic import SyntheticPeople
from unionaid.core.testing.api import ApiClient
from unionaid.core.testing.fixtures import sms_gateway, smtp_server, wechat_api  # noqa: F401
from unionaid.members import services as member_services
from unionaid.org.models import OrgLevel, OrgUnit

PASSWORD = "Test-pass-2026"


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.AXES_ENABLED = True


@dataclass
class Union:
    bureau: OrgUnit
    station_a: OrgUnit
    workshop_a: OrgUnit
    team_a: OrgUnit
    station_b: OrgUnit
    workshop_b: OrgUnit
    team_b: OrgUnit


def make_role(code, perms, scope=DataScope.UNIT_AND_BELOW, name=None):
    return account_services.role_save(
        actor=None, code=code, name=name or code, permissions=perms, data_scope=scope
    )


def make_staff(username, unit, roles, position_name=None):
    user = account_services.user_create(actor=None, username=username, password=PASSWORD)
    position = account_services.position_create(
        actor=None, org_unit=unit, name=position_name or f"{username}-post", roles=roles
    )
    account_services.assignment_grant(actor=None, user=user, position=position)
    return user


@pytest.fixture
def union(db) -> Union:
    for depth, name in enumerate(["路局", "站段", "车间", "班组"], start=1):
        OrgLevel.objects.create(depth=depth, name=name)
    bureau = OrgUnit.objects.add_root(create_kwargs={"name": "测试铁路局工会", "code": "B"})
    station_a = OrgUnit.objects.add_child(bureau, create_kwargs={"name": "甲车务段", "code": "SA"})
    workshop_a = OrgUnit.objects.add_child(station_a, create_kwargs={"name": "甲车间", "code": "SA-W1"})
    team_a = OrgUnit.objects.add_child(workshop_a, create_kwargs={"name": "甲一班组", "code": "SA-W1-T1"})
    station_b = OrgUnit.objects.add_child(OrgUnit.objects.get(pk=bureau.pk), create_kwargs={"name": "乙机务段", "code": "SB"})
    workshop_b = OrgUnit.objects.add_child(station_b, create_kwargs={"name": "乙车间", "code": "SB-W1"})
    team_b = OrgUnit.objects.add_child(workshop_b, create_kwargs={"name": "乙一班组", "code": "SB-W1-T1"})
    return Union(bureau, station_a, workshop_a, team_a, station_b, workshop_b, team_b)


CADRE_PERMS = ["org.view", "members.view", "members.change", "members.consent"]


@pytest.fixture
def roles(db):
    return {
        "cadre": make_role("cadre", CADRE_PERMS),
        "revealer": make_role(
            "revealer", [*CADRE_PERMS, "members.reveal", "members.export", "members.import"]
        ),
        "system": make_role("system", ["system.config", "org.view", "org.manage"], DataScope.ALL),
        "security": make_role("security", ["security.manage", "org.view"], DataScope.ALL),
        "audit": make_role("audit", ["audit.view", "org.view"], DataScope.ALL),
    }


@pytest.fixture
def people():
    return SyntheticPeople(2026)


@dataclass
class Personas:
    team_cadre: User
    station_cadre: User
    other_cadre: User
    bureau_admin: User
    security_admin: User
    audit_admin: User


@pytest.fixture
def personas(union, roles) -> Personas:
    return Personas(
        team_cadre=make_staff("team_cadre", union.team_a, [roles["cadre"]]),
        station_cadre=make_staff("station_cadre", union.station_a, [roles["revealer"]]),
        other_cadre=make_staff("other_cadre", union.station_b, [roles["revealer"]]),
        bureau_admin=make_staff("bureau_admin", union.bureau, [roles["system"]]),
        security_admin=make_staff("security_admin", union.bureau, [roles["security"]]),
        audit_admin=make_staff("audit_admin", union.bureau, [roles["audit"]]),
    )


@pytest.fixture
def registrar(union, roles):
    """A bureau-wide cadre used to create test members (not a persona under test)."""
    role = make_role("registrar", CADRE_PERMS, DataScope.ALL)
    return make_staff("registrar", union.bureau, [role])


@pytest.fixture
def make_member(registrar, people):
    def _make(unit, actor=None, **overrides):
        person = people.person()
        fields = {
            "name": person["name"],
            "id_number": person["id_number"],
            "phone": person["phone"],
            "bank_account": people.bank_account(),  # where a grant is paid to
            "org_unit": unit,
        }
        fields.update(overrides)
        return member_services.member_create(actor=actor or registrar, **fields)

    return _make


@pytest.fixture
def worker(union, make_member):
    member = make_member(union.team_a)
    user = account_services.user_create(
        actor=None, username="worker", password=PASSWORD, member=member
    )
    return user


def verified_login(client, user):
    """Log in as ``user`` with a confirmed, verified TOTP device (for the admin duties)."""
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def pg_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-only behaviour")


# API tests of every app: JSON requests to /api/v1 with a session or a bearer token.
@pytest.fixture
def as_session():
    """``as_session(user)``: an ApiClient logged in through the browser session."""

    def _make(user):
        client = Client()
        client.force_login(user)
        return ApiClient(client)

    return _make


@pytest.fixture
def as_token():
    """``as_token(user)``: an ApiClient with a fresh bearer token of ``user`` and no session."""

    def _make(user):
        _token, raw = account_services.api_token_create(actor=user, name="test")
        return ApiClient(Client(), token=raw)

    return _make
