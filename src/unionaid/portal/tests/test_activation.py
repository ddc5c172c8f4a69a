"""A worker activates their own login on a phone: name + ID number + the roster phone, an SMS
code, then a password. The answer never says whether someone is on the roster."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from unionaid.accounts.models import User
from unionaid.audit.models import AuditEvent
from unionaid.members.models import Member
from unionaid.portal.activation import login_code_deliver
from unionaid.portal.models import CodePurpose, LoginAttempt, LoginCode

from .activation_helpers import (
    PASSWORD,
    details,
    enter_code,
    last_code,
    outbox,
    set_password,
    start,
)


@pytest.fixture
def rostered(union, make_member):
    """A current member of 甲一班组 with a phone of their own on the roster, and no login."""
    return make_member(union.team_a)


def test_a_rostered_worker_activates_with_an_sms_code_and_a_password(client, rostered):
    response = start(client, **details(rostered))
    assert response.status_code == 302
    assert response["Location"] == reverse("activation:code")
    assert len(outbox()) == 1
    assert outbox()[0]["to"] == rostered.phone  # the roster's phone
    response = enter_code(client, last_code())
    assert response["Location"] == reverse("activation:password")
    response = set_password(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    user = User.objects.get(username="wang_worker")
    assert user.member == rostered
    assert user.check_password(PASSWORD)
    assert user.access.member_id == rostered.pk
    assert user.access.has_perm("assistance.view")
    assert not user.access.is_staff_member
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    assert rostered.name in home.content.decode()
    actions = list(AuditEvent.objects.filter(action__startswith="login.").order_by("id")
                   .values_list("action", "outcome"))
    assert actions == [("login.activation_send", "ok"), ("login.activation_check", "ok"),
                       ("login.activate", "ok")]
    assert AuditEvent.objects.filter(action="auth.login", actor=user).exists()


def test_codes_are_stored_hashed_and_used_once(client, rostered):
    start(client, **details(rostered))
    code = last_code()
    row = LoginCode.objects.get(purpose=CodePurpose.ACTIVATE)
    assert code not in row.code_hash
    enter_code(client, code)
    row.refresh_from_db()
    assert row.used_at is not None


def _normalised(response) -> str:
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


def _answer(client, data):
    response = start(client, **data)
    page = client.get(response["Location"])
    return (response.status_code, response["Location"], sorted(response.cookies),
            page.status_code, _normalised(page))


def test_the_answer_is_the_same_on_the_roster_or_not(union, rostered, make_member, people,
                                                     worker):
    stranger = {key: people.person()[key] for key in ("name", "id_number", "phone")}
    wrong_phone = {**details(rostered), "phone": people.person()["phone"]}
    has_login = details(worker.member)
    answers = [_answer(Client(), data) for data in
               (details(rostered), stranger, wrong_phone, has_login)]
    for answer in answers[1:]:
        assert answer[:4] == answers[0][:4]
        assert answer[4] == answers[0][4]
    assert len(outbox()) == 1  # only the rostered worker without a login got one
    # Each did the same work: a code row (a decoy for the others), an attempt, a journal entry.
    assert LoginCode.objects.count() == 4
    assert LoginCode.objects.filter(member__isnull=False).count() == 1


def test_both_answers_run_the_same_queries(rostered, people, django_capture_on_commit_callbacks):
    """The same queries, the task that sends the code included: whether a text goes out is
    decided by the task worker, after the answer."""
    counts = []
    stranger = {key: people.person()[key] for key in ("name", "id_number", "phone")}
    for data in (details(rostered), stranger):
        with (CaptureQueriesContext(connection) as queries,
              django_capture_on_commit_callbacks(execute=False) as callbacks):
            start(Client(), **data)
        assert len(callbacks) == 1  # the code's task, enqueued on commit
        counts.append([q["sql"].split(" ")[0] for q in queries])
    assert len(counts[0]) == len(counts[1])
    assert counts[0] == counts[1]


def test_the_code_is_sent_by_the_task_and_wiped(rostered, people):
    start(Client(), **details(rostered))
    start(Client(), **{key: people.person()[key] for key in ("name", "id_number", "phone")})
    real, decoy = LoginCode.objects.order_by("pk")
    assert real.member_id == rostered.pk
    assert decoy.member_id is None
    assert real.code_enc
    assert decoy.code_enc
    assert login_code_deliver(decoy.pk, decoy.purpose) is False
    assert login_code_deliver(real.pk, real.purpose) is True
    assert login_code_deliver(real.pk, real.purpose) is False  # once only
    assert set(LoginCode.objects.values_list("code_enc", flat=True)) == {""}
    sent = outbox()
    assert [m["to"] for m in sent] == [rostered.phone]


def test_the_task_sends_the_code_after_the_commit(rostered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        start(Client(), **details(rostered))
    # ImmediateBackend in tests: the task ran; the code went to the roster phone.
    assert LoginCode.objects.get().code_enc == ""
    assert [m["to"] for m in outbox()] == [rostered.phone]


def test_a_decoy_code_is_never_right(db, client, people):
    start(client, **{key: people.person()[key] for key in ("name", "id_number", "phone")})
    row = LoginCode.objects.get()
    assert row.member is None
    for guess in ("000000", "123456"):
        response = enter_code(client, guess)
        assert response.status_code == 200
        assert "验证码不正确" in response.content.decode()


def test_a_member_sharing_the_phone_gets_no_sms(union, rostered, make_member):
    make_member(union.team_a, phone=rostered.phone)  # a spouse's record with the same phone
    start(Client(), **details(rostered))
    assert outbox() == []


def test_a_worker_who_left_gets_no_sms(rostered, registrar):
    rostered.membership_status = "transferred_out"
    rostered.save(update_fields=["membership_status"])
    start(Client(), **details(rostered))
    assert outbox() == []


def test_a_wrong_code_is_refused_and_five_tries_end_the_code(client, rostered):
    start(client, **details(rostered))
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _n in range(5):
        response = enter_code(client, wrong)
        assert "验证码不正确" in response.content.decode()
    response = enter_code(client, code)
    assert response.status_code == 200  # the right code is no good any more
    assert not User.objects.filter(member=rostered).exists()
    outcomes = list(AuditEvent.objects.filter(action="login.activation_check").order_by("id")
                    .values_list("changes__result", flat=True))
    assert outcomes == ["wrong_code"] * 5 + ["expired"]


def test_a_code_expires_after_ten_minutes(client, rostered):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        start(client, **details(rostered))
        code = last_code()
        clock.shift(dt.timedelta(minutes=10, seconds=1))
        response = enter_code(client, code)
    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    assert AuditEvent.objects.filter(action="login.activation_check",
                                     changes__result="expired").exists()


def test_the_password_step_needs_a_fresh_right_code(client, rostered):
    assert client.get(reverse("activation:password"))["Location"] == reverse("activation:start")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        start(client, **details(rostered))
        enter_code(client, last_code())
        clock.shift(dt.timedelta(minutes=16))
        response = set_password(client)
    assert response["Location"] == reverse("activation:start")
    assert not User.objects.filter(member=rostered).exists()


def test_weak_passwords_and_identifier_user_names_are_refused(client, rostered):
    start(client, **details(rostered))
    enter_code(client, last_code())
    response = set_password(client, password="12345678")
    assert response.status_code == 200
    assert not User.objects.filter(member=rostered).exists()
    response = set_password(client, username=rostered.phone)
    assert "长串数字" in response.content.decode()
    assert not User.objects.filter(member=rostered).exists()


def test_a_worker_may_choose_an_sms_code_at_each_login(client, rostered):
    start(client, **details(rostered))
    enter_code(client, last_code())
    response = client.post(reverse("activation:password"),
                           {"username": "sms_only_worker", "sms_only": "on"})
    assert response["Location"] == reverse("portal:home")
    user = User.objects.get(member=rostered)
    assert not user.has_usable_password()


def test_nothing_identifying_in_addresses_or_the_journal(client, rostered):
    responses = [start(client, **details(rostered))]
    responses.append(enter_code(client, last_code()))
    responses.append(set_password(client))
    for response in responses:
        assert rostered.phone not in response["Location"]
        assert rostered.id_number not in response["Location"]
    journal = json.dumps(list(AuditEvent.objects.values("changes", "target_label")),
                         ensure_ascii=False)
    assert rostered.phone not in journal
    assert rostered.id_number not in journal
    assert rostered.phone not in str(list(LoginAttempt.objects.values()))


def test_an_invalid_id_number_is_a_form_error(client, rostered):
    response = start(client, name=rostered.name, id_number="110101199003077778",
                     phone=rostered.phone)
    assert response.status_code == 200
    assert LoginCode.objects.count() == 0


def test_two_activations_of_one_member_make_one_login(rostered):
    first, second = Client(), Client()
    for client in (first, second):
        start(client, **details(rostered))
        enter_code(client, last_code())
    set_password(first, username="first_login")
    response = set_password(second, username="second_login")
    assert "已开通账号" in response.content.decode()
    assert list(User.objects.filter(member=rostered).values_list("username", flat=True)) == [
        "first_login"]


def test_a_wrong_code_gets_the_same_answer_for_a_decoy_and_a_real_code(rostered, people):
    answers = []
    stranger = {key: people.person()[key] for key in ("name", "id_number", "phone")}
    for data in (details(rostered), stranger):
        client = Client()
        start(client, **data)
        response = enter_code(client, "999999" if outbox() and
                              last_code() != "999999" else "888888")
        answers.append((response.status_code, _normalised(response)))
    assert answers[0] == answers[1]
    results = list(AuditEvent.objects.filter(action="login.activation_send").order_by("id")
                   .values_list("changes__result", flat=True))
    assert results == ["ok", "not_on_roster"]


def test_a_roster_phone_no_gateway_takes_still_wipes_the_code(rostered):
    start(Client(), **details(rostered))
    Member.objects.filter(pk=rostered.pk).update(phone="12345")  # not a mobile number
    row = LoginCode.objects.get()
    assert login_code_deliver(row.pk, row.purpose) is False
    assert LoginCode.objects.get().code_enc == ""
    assert outbox() == []


def test_the_periodic_job_sends_a_code_whose_task_was_lost_but_not_a_fresh_one(rostered):
    """A process that ends between the commit and the queue loses the task: the scheduler's
    job hands such codes over, leaving the last two minutes' to their own tasks."""
    from unionaid.portal.jobs import send_lost_login_codes

    start(Client(), **details(rostered))  # its task is never run here (no on-commit hooks)
    send_lost_login_codes(now=timezone.now())
    assert LoginCode.objects.get().code_enc  # fresh: left to its own task
    summary = send_lost_login_codes(now=timezone.now() + dt.timedelta(minutes=3))
    assert summary == "补发验证码 1 个"
    assert LoginCode.objects.get().code_enc == ""
    assert [m["to"] for m in outbox()] == [rostered.phone]
