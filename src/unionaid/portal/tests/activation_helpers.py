"""Shared steps of the activation tests: post the forms, read the SMS code from the local SMS
gateway fake (the code row's task hands the code to a queued delivery, which is sent; both run
here as the task worker would)."""

from __future__ import annotations

import re

from django.urls import reverse

from unionaid.notifications.deliveries import deliveries_send_due
from unionaid.portal.activation import login_codes_send_queued

PASSWORD = "Worker-pass-2026"


GATEWAY: list = []  # the running gateway fake of the current test (conftest sets it)


def outbox() -> list[dict]:
    """The text messages the gateway accepted so far, after sending what is due."""
    login_codes_send_queued()
    deliveries_send_due()
    return [{"to": body["PhoneNumbers"], "body": body.get("TemplateParam") or ""}
            for body in GATEWAY[0].sent()]


def last_code() -> str:
    sent = outbox()
    assert sent, "no SMS was sent"
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", sent[-1]["body"])
    assert match
    return match.group(1)


def start(client, *, name, id_number, phone, **extra):
    return client.post(reverse("activation:start"),
                       {"name": name, "id_number": id_number, "phone": phone}, **extra)


def enter_code(client, code, **extra):
    return client.post(reverse("activation:code"), {"code": code}, **extra)


def set_password(client, username="wang_worker", password=PASSWORD, **more):
    data = {"username": username, "password1": password, "password2": password, **more}
    return client.post(reverse("activation:password"), data)


def details(member) -> dict:
    return {"name": member.name, "id_number": member.id_number, "phone": member.phone}
