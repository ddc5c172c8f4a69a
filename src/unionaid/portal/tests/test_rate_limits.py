"""Rate limits on sending and checking codes: per phone, per ID number, per client address;
counted on what was typed, so a limited answer says nothing about the roster either."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from unionaid.audit.models import AuditEvent
from unionaid.portal.activation import RateLimited, _is_limited, login_code_send
from unionaid.portal.models import LoginAttempt, LoginCode

from .activation_helpers import details, enter_code, outbox, start


def _typed(person) -> dict:
    return {key: person[key] for key in ("name", "id_number", "phone")}


@pytest.fixture
def small_limits(settings):
    settings.LOGIN_CODE_LIMITS = {
        "send": {"phone": 2, "id_number": 2, "ip": 4},
        "verify": {"phone": 3, "id_number": 3, "ip": 5},
        "printed": {"id_number": 2, "ip": 3},
    }


def test_sending_is_limited_per_phone(union, make_member, people, small_limits):
    member = make_member(union.team_a)
    for _n in range(2):  # other ID numbers, the member's phone, other addresses
        start(Client(), **{**_typed(people.person()), "phone": member.phone},
              REMOTE_ADDR=f"10.0.0.{_n + 1}")
    response = start(Client(), **details(member), REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert "尝试次数过多" in response.content.decode()
    assert outbox() == []  # the real owner's request was limited too: no SMS


def test_sending_is_limited_per_id_number(union, make_member, people, small_limits):
    member = make_member(union.team_a)
    for n in range(2):
        start(Client(), **{**details(member), "phone": people.person()["phone"]},
              REMOTE_ADDR=f"10.0.1.{n + 1}")
    assert start(Client(), **details(member), REMOTE_ADDR="10.0.1.9").status_code == 429


def test_sending_is_limited_per_address(db, people, small_limits):
    statuses = [start(Client(), **_typed(people.person()), REMOTE_ADDR="10.0.2.1").status_code
                for _n in range(5)]
    assert statuses == [302, 302, 302, 302, 429]
    # another address is not limited
    assert start(Client(), **_typed(people.person()), REMOTE_ADDR="10.0.2.2").status_code == 302


def test_the_limited_answer_is_the_same_on_the_roster_or_not(union, make_member, people,
                                                             small_limits):
    member = make_member(union.team_a)
    stranger = _typed(people.person())
    answers = []
    for data in (details(member), stranger):
        for _n in range(2):
            start(Client(), **data, REMOTE_ADDR="10.0.3.1")
        response = start(Client(), **data, REMOTE_ADDR="10.0.3.2")
        answers.append((response.status_code, response.content.count(b"alert-danger")))
    assert answers[0] == answers[1] == (429, 1)


def test_checking_codes_is_limited_per_phone_and_id_number(union, make_member, small_limits):
    member = make_member(union.team_a)
    client = Client(REMOTE_ADDR="10.0.4.1")
    start(client, **details(member))
    statuses = [enter_code(client, "000000").status_code for _n in range(4)]
    assert statuses == [200, 200, 200, 429]
    # a fresh code from another address: the phone and ID number are still limited
    other = Client(REMOTE_ADDR="10.0.4.2")
    start(other, **details(member))
    assert enter_code(other, "000000").status_code == 429


def test_checking_codes_is_limited_per_address(db, people, small_limits):
    statuses = []
    for _n in range(3):
        client = Client(REMOTE_ADDR="10.0.5.1")
        start(client, **_typed(people.person()))
        statuses += [enter_code(client, "000000").status_code for _m in range(2)]
    assert statuses == [200] * 5 + [429]


def test_limits_last_an_hour(union, make_member, people, small_limits):
    member = make_member(union.team_a)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _n in range(2):
            start(Client(), **details(member), REMOTE_ADDR="10.0.6.1")
        assert start(Client(), **details(member)).status_code == 429
        clock.shift(dt.timedelta(hours=1, seconds=1))
        assert start(Client(), **details(member)).status_code == 302


def test_every_attempt_is_journaled_with_its_outcome(union, make_member, people, small_limits):
    member = make_member(union.team_a)
    for _n in range(3):
        start(Client(), **details(member), REMOTE_ADDR="10.0.7.1")
    events = list(AuditEvent.objects.filter(action="login.activation_send").order_by("id"))
    assert [e.changes["result"] for e in events] == ["ok", "ok",
                                                      "rate_limited"]
    assert [e.outcome for e in events] == ["ok", "ok", "denied"]
    assert events[-1].ip == "10.0.7.1"
    assert events[0].changes["phone"] != member.phone
    assert "*" in events[0].changes["phone"]
    assert LoginAttempt.objects.filter(outcome="rate_limited").count() == 1


def test_the_code_login_page_is_limited_per_phone(worker, small_limits):
    phone = worker.member.phone
    statuses = [Client().post(reverse("activation:code-login"), {"phone": phone}).status_code
                for _n in range(3)]
    assert statuses == [302, 302, 429]


def test_old_attempts_and_codes_are_purged(union, make_member):
    from unionaid.portal.activation import login_codes_purge
    from unionaid.portal.models import LoginCode

    member = make_member(union.team_a)
    start(Client(), **details(member))
    later = timezone.now() + dt.timedelta(days=8)
    assert login_codes_purge(now=later) == (1, 1)
    assert not LoginCode.objects.exists()
    assert AuditEvent.objects.filter(action="login.codes_purge").exists()


def test_the_count_includes_the_attempt_being_made(db, people, small_limits):
    """With a limit of 2 per phone, the third send is refused, and every attempt (the refused
    one too) is recorded with its outcome: none is left pending."""
    phone = people.person()["phone"]
    login_code_send(phone=phone, ip="10.0.1.1")
    login_code_send(phone=phone, ip="10.0.1.2")
    with pytest.raises(RateLimited):
        login_code_send(phone=phone, ip="10.0.1.3")
    outcomes = sorted(LoginAttempt.objects.filter(action="send").values_list("outcome", flat=True))
    assert outcomes == ["no_worker_login", "no_worker_login", "rate_limited"]
    assert LoginCode.objects.count() == 2


def test_the_limit_counts_the_rows_already_written_with_this_one(db, small_limits):
    """The check runs after the attempt's own row is written: two rows (this one included)
    are within a limit of 2, a third is over it."""
    for _n in range(2):
        LoginAttempt.objects.create(action="send", outcome="pending", phone_hash="h" * 64)
    assert not _is_limited("send", phone_h="h" * 64)
    LoginAttempt.objects.create(action="send", outcome="pending", phone_hash="h" * 64)
    assert _is_limited("send", phone_h="h" * 64)


@pytest.fixture
def committing(transactional_db):
    """Committed rows; the journal is append-only, so the flush afterwards skips its trigger
    (as audit/tests/test_backups.py does)."""
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers; the race needs PostgreSQL's concurrency")
def test_simultaneous_sends_stay_within_the_limit(committing, union, make_member, small_limits):
    """Eight requests for one phone at the same moment, each on its own connection: at most
    the limit (2) get a code; the rest are refused and recorded."""
    member = make_member(union.team_a)
    phone, threads = member.phone, 8
    barrier = threading.Barrier(threads)
    answers: list[str] = []

    def send(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            login_code_send(phone=phone, ip=f"10.0.2.{n + 1}")
            answers.append("sent")
        except RateLimited:
            answers.append("limited")
        finally:
            connections.close_all()

    workers = [threading.Thread(target=send, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(answers) == ["limited"] * 6 + ["sent"] * 2
    assert LoginCode.objects.count() == 2
    assert LoginAttempt.objects.filter(action="send").exclude(outcome="rate_limited").count() == 2
    assert not LoginAttempt.objects.filter(outcome="pending").exists()
