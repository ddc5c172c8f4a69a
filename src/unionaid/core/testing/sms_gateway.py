"""A local fake of the cloud SMS gateway (the Aliyun/Tencent shape ``SmsHttpSender`` speaks).

    with SmsGatewayFake(secret="test-secret") as gateway:
        settings.SMS_GATEWAY_URL = gateway.url + "/sms/send"
        ...
        assert gateway.last_code_for("13800000001") == "123456"

It checks each request's HMAC-SHA256 signature with ``secret`` (a bad one is answered
``{"Code": "SignatureDoesNotMatch"}``), records every request, answers ``{"Code": "OK",
"BizId": ...}``, can fail the next N requests (``fail_next``) or answer a gateway error code
(``reject_next``). Tests of any app may use it (the ``sms_gateway`` fixture,
``core.testing.fixtures``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading

from unionaid.core.testing.http_fake import LocalHttpFake, RecordedRequest


def expected_signature(secret: str, request: RecordedRequest) -> str:
    """The gateway's own computation of the request signature (written out again here, not
    imported from the sender, so a test checks the sender against the documented scheme)."""
    text = "\n".join([request.method, request.path, request.headers.get("x-sms-timestamp", ""),
                      request.headers.get("x-sms-nonce", ""),
                      hashlib.sha256(request.body).hexdigest()])
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
                            ).decode()


class SmsGatewayFake(LocalHttpFake):
    def __init__(self, *, key_id: str = "test-key-id", secret: str = "test-secret") -> None:  # noqa: S107 (a test fake)
        super().__init__()
        self.key_id, self.secret = key_id, secret
        self._reject: list[str] = []
        self._count = 0
        self._count_lock = threading.Lock()

    def reject_next(self, code: str) -> None:
        """Answer the next request with HTTP 200 and gateway error ``code``."""
        self._reject.append(code)

    def answer(self, request: RecordedRequest) -> tuple[int, dict]:
        if request.headers.get("x-sms-access-key-id") != self.key_id:
            return 200, {"Code": "InvalidAccessKeyId.NotFound"}
        if not hmac.compare_digest(request.headers.get("x-sms-signature", ""),
                                   expected_signature(self.secret, request)):
            return 200, {"Code": "SignatureDoesNotMatch"}
        if self._reject:
            return 200, {"Code": self._reject.pop(0), "Message": "rejected"}
        with self._count_lock:
            self._count += 1
            biz_id = f"biz-{self._count:06d}"
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": biz_id}

    # -- what went through -----------------------------------------------------------------------
    def sent(self) -> list[dict]:
        """The bodies of the requests answered OK, in order."""
        return [r.json for r in self.requests if r.json and self._accepted(r)]

    def _accepted(self, request: RecordedRequest) -> bool:
        return hmac.compare_digest(request.headers.get("x-sms-signature", ""),
                                   expected_signature(self.secret, request))

    def messages_for(self, phone: str) -> list[dict]:
        return [body for body in self.sent() if body.get("PhoneNumbers") == phone]

    def last_code_for(self, phone: str) -> str | None:
        """The one-time code of the last message to ``phone`` that carried one."""
        for body in reversed(self.messages_for(phone)):
            params = json.loads(body.get("TemplateParam") or "{}")
            if "code" in params:
                return params["code"]
        return None
