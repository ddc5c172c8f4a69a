"""A local SMTP server for tests (aiosmtpd in a thread on 127.0.0.1 at a free port).

    with LocalSmtpServer() as smtp:
        settings.EMAIL_HOST, settings.EMAIL_PORT = smtp.host, smtp.port
        ...
        assert smtp.messages[0]["To"] == "someone@example.org"

``messages`` holds the received mails parsed (``email.message.EmailMessage``), ``envelopes``
the raw envelopes. ``refuse_next(count)`` answers the next recipients with 550.
"""

from __future__ import annotations

import socket
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, server: LocalSmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.server.refuse > 0:
            self.server.refuse -= 1
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.server.envelopes.append(envelope)
        self.server.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class LocalSmtpServer:
    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.messages: list = []
        self.envelopes: list = []
        self.refuse = 0
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)

    def refuse_next(self, count: int = 1) -> None:
        self.refuse = count

    def start(self) -> LocalSmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> LocalSmtpServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
