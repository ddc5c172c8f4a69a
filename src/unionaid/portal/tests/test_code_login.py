"""Worker logins may log in with an SMS code to the roster phone; staff logins may not."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from unionaid.audit.models import AuditEvent

from .activation_helpers import last_code, outbox


def _send(client, phone):
    return client.post(reverse("activation:code-login"), {"phone": phone})


def _check(client, code):
    return client.post(reverse("activation:code-login-check"), {"code": code})


def test_a_worker_logs_in_with_an_sms_code(client, worker):
    response = _send(client, worker.member.phone)
    assert response["Location"] == reverse("activation:code-login-check")
    response = _check(client, last_code())
    assert response["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200
    assert AuditEvent.objects.filter(action="auth.login", actor=worker).exists()
    assert AuditEvent.objects.filter(action="login.code_check", outcome="ok").exists()


def test_a_wrong_code_does_not_log_in(client, worker):
    _send(client, worker.member.phone)
    code = last_code()
    response = _check(client, "000000" if code != "000000" else "111111")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def _same(responses):
    return {(r.status_code, r["Location"]) for r in responses}


def test_staff_logins_and_unknown_phones_get_the_same_answer_and_no_sms(
        worker, personas, union, make_member, people):
    staff_member = make_member(union.team_a)
    personas.team_cadre.member = staff_member
    personas.team_cadre.save(update_fields=["member"])
    answers = [_send(Client(), phone) for phone in (
        worker.member.phone, staff_member.phone, people.person()["phone"])]
    assert len(_same(answers)) == 1
    assert len(outbox()) == 1  # only the worker's own login


@pytest.mark.parametrize("case", ["disabled", "shared_phone"])
def test_no_code_for_a_disabled_login_or_a_shared_phone(worker, union, make_member, case):
    if case == "disabled":
        worker.is_active = False
        worker.save(update_fields=["is_active"])
    else:
        make_member(union.team_b, phone=worker.member.phone)
    _send(Client(), worker.member.phone)
    assert outbox() == []


def test_the_login_page_offers_activation_and_code_login(client, db):
    html = client.get(reverse("accounts:login")).content.decode()
    assert reverse("activation:start") in html
    assert reverse("activation:code-login") in html
