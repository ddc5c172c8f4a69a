"""A local HTTP server for tests: ``http.server`` in a thread on 127.0.0.1 at a free port.

Subclasses answer requests in ``answer(request)``; every request is recorded. Use as a context
manager (or ``start()``/``stop()``); ``url`` is the base address.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: dict | None = field(default=None)


class LocalHttpFake:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._fail_next = 0
        self._fail_status = 500
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control -------------------------------------------------------------------------------
    def fail_next(self, count: int = 1, *, status: int = 500) -> None:
        """Answer the next ``count`` requests with HTTP ``status`` (and record them)."""
        with self._lock:
            self._fail_next, self._fail_status = count, status

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LocalHttpFake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                try:
                    parsed = json.loads(body) if body else None
                except ValueError:
                    parsed = None
                recorded = RecordedRequest(method=self.command, path=parts.path,
                                           query=parse_qs(parts.query),
                                           headers={k.lower(): v for k, v in self.headers.items()},
                                           body=body, json=parsed)
                status, answer = fake._dispatch(recorded)
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle  # noqa: N815

            def log_message(self, format, *args) -> None:
                pass  # quiet: request lines could carry test phones

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalHttpFake:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- answering -----------------------------------------------------------------------------
    def _dispatch(self, recorded: RecordedRequest) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(recorded)
            if self._fail_next > 0:
                self._fail_next -= 1
                return self._fail_status, {"Code": "InternalError", "Message": "injected"}
        return self.answer(recorded)

    def answer(self, request: RecordedRequest) -> tuple[int, dict]:
        return 200, {}
