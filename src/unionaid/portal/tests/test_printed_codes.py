"""Printed activation codes: a cadre of a 班组 prints one-time codes (with QR codes) for its
members without a phone of their own; the worker enters code + name + ID number, then a
password."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from unionaid.accounts.models import User
from unionaid.audit.models import AuditEvent
from unionaid.portal import activation
from unionaid.portal.models import CodePurpose, LoginCode

from .activation_helpers import PASSWORD, set_password


@pytest.fixture
def team(union, make_member, worker):
    """甲一班组: one member with no phone, two sharing a phone, one with their own phone, and
    the worker persona (own phone, has a login); a phoneless member of 乙一班组."""
    no_phone = make_member(union.team_a, phone="")
    shared_1 = make_member(union.team_a)
    shared_2 = make_member(union.team_a, phone=shared_1.phone)
    own = make_member(union.team_a)
    elsewhere = make_member(union.team_b, phone="")
    return {"no_phone": no_phone, "shared_1": shared_1, "shared_2": shared_2, "own": own,
            "elsewhere": elsewhere}


def _print(client, unit):
    return client.post(reverse("activation:print-sheet", args=[unit.pk]))


def _codes(response) -> list[str]:
    return re.findall(r"data-code>([A-Z0-9-]{14})<", response.content.decode())


def test_the_cadre_sees_who_needs_a_printed_code(client, personas, union, team):
    client.force_login(personas.team_cadre)
    response = client.get(reverse("activation:print-sheet", args=[union.team_a.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    for key in ("no_phone", "shared_1", "shared_2"):
        assert team[key].name in html
    assert team["own"].name not in html
    assert team["elsewhere"].name not in html
    assert not LoginCode.objects.exists()  # looking issues nothing


def test_printing_issues_hashed_codes_with_qr_codes_and_journals_it(client, personas, union,
                                                                    team):
    client.force_login(personas.team_cadre)
    response = _print(client, union.team_a)
    codes = _codes(response)
    assert len(codes) == 3
    html = response.content.decode()
    assert html.count('src="data:image/svg+xml;base64,') == 3
    rows = LoginCode.objects.filter(purpose=CodePurpose.PRINTED)
    assert rows.count() == 3
    assert {r.code_hash for r in rows} == {activation.code_hash(c) for c in codes}
    assert all(c not in r.code_hash for r in rows for c in codes)
    for member in (team["no_phone"], team["shared_1"], team["shared_2"]):
        assert member.id_number not in html
    event = AuditEvent.objects.get(action="login.printed_issue")
    assert event.actor == personas.team_cadre
    assert event.changes["count"] == 3
    assert event.org_unit_path == union.team_a.path


def test_the_qr_code_carries_the_code_in_the_fragment_only(client, personas, union, team):
    client.force_login(personas.team_cadre)
    response = _print(client, union.team_a)
    code = _codes(response)[0]
    qr_target = f"http://testserver{reverse('activation:printed')}#code={code}"
    assert qr_target in [card["qr_target"] for card in response.context["cards"]]


def test_printing_again_revokes_the_earlier_codes(client, personas, union, team):
    client.force_login(personas.team_cadre)
    first = _codes(_print(client, union.team_a))
    _print(client, union.team_a)
    revoked = LoginCode.objects.filter(code_hash__in=[activation.code_hash(c) for c in first])
    assert all(row.revoked_at is not None for row in revoked)
    assert LoginCode.objects.filter(revoked_at__isnull=True).count() == 3
    assert revoked.count() == 3
    latest = AuditEvent.objects.filter(action="login.printed_issue").order_by("id").last()
    assert latest.changes["revoked"] == 3


def test_a_cadre_of_another_station_gets_not_found_and_a_journaled_denial(client, personas,
                                                                          union, team):
    client.force_login(personas.other_cadre)
    assert _print(client, union.team_a).status_code == 404
    assert not LoginCode.objects.exists()
    assert AuditEvent.objects.filter(action="access.denied", actor=personas.other_cadre,
                                     target_id=str(union.team_a.pk)).exists()


def test_a_worker_cannot_print(client, worker, union):
    client.force_login(worker)
    assert client.get(reverse("activation:print-units")).status_code == 404
    assert _print(client, union.team_a).status_code == 404


def test_the_units_page_lists_the_cadres_teams(client, personas, union):
    client.force_login(personas.station_cadre)
    html = client.get(reverse("activation:print-units")).content.decode()
    assert union.team_a.name in html
    assert union.team_b.name not in html


def _activate(client, code, member, name=None):
    return client.post(reverse("activation:printed"),
                       {"code": code, "name": name or member.name, "id_number": member.id_number})


def _issued(personas, union):
    cadre = Client()
    cadre.force_login(personas.team_cadre)
    response = _print(cadre, union.team_a)
    return {card["member"].pk: card["code"] for card in response.context["cards"]}


def test_a_worker_activates_with_a_printed_code(personas, union, team):
    member = team["no_phone"]
    code = _issued(personas, union)[member.pk]
    client = Client()
    page = client.get(reverse("activation:printed"))
    assert b"js/activation.js" in page.content
    response = _activate(client, code.lower().replace("-", ""), member)
    assert response["Location"] == reverse("activation:password")
    page = client.get(reverse("activation:password"))
    assert b"sms_only" not in page.content  # no phone of their own: a password it is
    response = set_password(client, username="printed_worker")
    assert response["Location"] == reverse("portal:home")
    user = User.objects.get(username="printed_worker")
    assert user.member == member
    assert user.check_password(PASSWORD)
    assert client.get(reverse("portal:home")).status_code == 200
    row = LoginCode.objects.get(code_hash=activation.code_hash(code))
    assert row.used_at is not None
    event = AuditEvent.objects.get(action="login.activate")
    assert event.changes["via"] == "printed"
    # used once: the same code again is refused
    response = _activate(Client(), code, member)
    assert "激活码、姓名或身份证号不正确" in response.content.decode()


def test_a_printed_code_with_someone_elses_details_is_refused_and_then_revoked(
        personas, union, team):
    codes = _issued(personas, union)
    code = codes[team["no_phone"].pk]
    other = team["shared_1"]
    answers = set()
    for _n in range(activation.MAX_CODE_ATTEMPTS):
        response = _activate(Client(), code, other, name=other.name)
        answers.add((response.status_code, "激活码、姓名或身份证号不正确" in response.content.decode()))
    assert answers == {(200, True)}
    row = LoginCode.objects.get(code_hash=activation.code_hash(code))
    assert row.revoked_at is not None
    response = _activate(Client(), code, team["no_phone"])  # now even the right person
    assert response.status_code == 200
    assert not User.objects.filter(member=team["no_phone"]).exists()


def test_an_unknown_code_gets_the_same_answer(personas, union, team):
    _issued(personas, union)
    response = _activate(Client(), "AAAA-BBBB-CCCC", team["no_phone"])
    assert response.status_code == 200
    assert "激活码、姓名或身份证号不正确" in response.content.decode()
    assert AuditEvent.objects.filter(action="login.activation_printed",
                                     changes__result="unknown_code").exists()


def test_printed_codes_expire_after_thirty_days(personas, union, team):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        code = _issued(personas, union)[team["no_phone"].pk]
        clock.shift(dt.timedelta(days=30, seconds=1))
        response = _activate(Client(), code, team["no_phone"])
    assert response.status_code == 200
    assert "激活码、姓名或身份证号不正确" in response.content.decode()


def test_printed_code_checks_are_limited_per_id_number(settings, personas, union, team):
    settings.LOGIN_CODE_LIMITS = {"printed": {"id_number": 2, "ip": 50}}
    member = team["no_phone"]
    statuses = [_activate(Client(REMOTE_ADDR=f"10.1.0.{n}"), "AAAA-BBBB-CCCC", member)
                .status_code for n in range(3)]
    assert statuses == [200, 200, 429]
