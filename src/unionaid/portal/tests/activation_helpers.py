"""Shared steps of the activation tests: post the forms, read the SMS code from the console
sender's outbox."""

from __future__ import annotations

import re

from django.urls import reverse

from unionaid.notifications.senders import ConsoleSender

PASSWORD = "Worker-pass-2026"


def last_code() -> str:
    assert ConsoleSender.outbox, "no SMS was sent"
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", ConsoleSender.outbox[-1]["body"])
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
