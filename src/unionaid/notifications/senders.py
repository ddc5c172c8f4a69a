"""Outbound channels (SMS, WeChat template messages) behind one interface.

``settings.NOTIFICATION_SENDERS`` lists dotted paths of sender classes; the default is the console
sender, which logs that a message was sent (recipient masked) instead of calling a gateway.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from unionaid.core.masking import mask_phone

logger = logging.getLogger(__name__)


class Sender(Protocol):
    channel: str

    def send(self, *, phone: str, title: str, body: str) -> None: ...


class ConsoleSender:
    channel = "console"
    outbox: list[dict] = []  # kept for tests and the demo

    def send(self, *, phone: str, title: str, body: str) -> None:
        message = {"to": mask_phone(phone), "title": title, "body": body}
        self.outbox.append(message)
        logger.info("notification to %s: %s", message["to"], title)


def senders() -> list[Sender]:
    paths = getattr(settings, "NOTIFICATION_SENDERS",
                    ["unionaid.notifications.senders.ConsoleSender"])
    return [import_string(path)() for path in paths]
