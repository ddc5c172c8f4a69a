"""A local fake of the WeChat server API: ``/cgi-bin/token`` and
``/cgi-bin/message/subscribe/send``, enough for ``WeChatSender``.

It hands out tokens (``tokens_issued`` counts them), checks the token on each send, records the
messages (``sent``), and can fail the next N requests (``fail_next``) or answer an ``errcode``
(``reject_next``).
"""

from __future__ import annotations

from unionaid.core.testing.http_fake import LocalHttpFake, RecordedRequest


class WeChatApiFake(LocalHttpFake):
    def __init__(self, *, app_id: str = "wx-test-app", secret: str = "wx-test-secret",  # noqa: S107
                 expires_in: int = 7200) -> None:
        super().__init__()
        self.app_id, self.secret, self.expires_in = app_id, secret, expires_in
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.sent: list[dict] = []
        self._reject: list[int] = []

    def reject_next(self, errcode: int) -> None:
        self._reject.append(errcode)

    def expire_tokens(self) -> None:
        """Every token handed out so far stops working (the server's 42001)."""
        self.valid_tokens.clear()

    def answer(self, request: RecordedRequest) -> tuple[int, dict]:
        if request.path == "/cgi-bin/token":
            q = {k: v[0] for k, v in request.query.items()}
            if q.get("appid") != self.app_id or q.get("secret") != self.secret:
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
            self.valid_tokens.add(token)
            return 200, {"access_token": token, "expires_in": self.expires_in}
        if request.path == "/cgi-bin/message/subscribe/send":
            token = request.query.get("access_token", [""])[0]
            if token not in self.valid_tokens:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            if self._reject:
                return 200, {"errcode": self._reject.pop(0), "errmsg": "rejected"}
            self.sent.append(request.json or {})
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": 1000 + len(self.sent)}
        return 404, {"errcode": -1}
