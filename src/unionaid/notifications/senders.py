"""Outbound channels (SMS, e-mail, WeChat subscription messages) behind one interface.

A sender takes one ``OutboundMessage`` and returns the provider's message id, or raises
``SendError`` with a short code (``permanent`` when a retry cannot help). ``sender_for(channel)``
builds the sender that ``settings.NOTIFICATION_SENDERS`` names for a channel; a channel whose
provider is not configured gets the console sender, which logs (recipient masked) instead.

Every call out has a timeout. Nothing here logs a recipient or a parameter in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import smtplib
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol
from urllib import error, parse, request

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend
from django.utils.module_loading import import_string

from unionaid.core.logging import redact
from unionaid.core.masking import mask_phone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboundMessage:
    channel: str
    to: str
    kind: str
    params: dict[str, str] = field(default_factory=dict)
    subject: str = ""
    body: str = ""
    reference: str = ""  # our id for the message (the delivery's), echoed by some gateways


class SendError(Exception):
    """A send that did not go through. ``code`` is short and holds no personal data."""

    def __init__(self, code: str, *, permanent: bool = False):
        self.code = redact(code)[:200]
        self.permanent = permanent
        super().__init__(self.code)


class Sender(Protocol):
    channel: str

    def send(self, message: OutboundMessage) -> str:
        """Send ``message``; the provider's message id. Raises ``SendError``."""
        ...


def _timeout() -> float:
    return float(getattr(settings, "NOTIFICATION_HTTP_TIMEOUT", 10))


def _post_json(url: str, payload: dict, headers: dict[str, str] | None = None,
               body: bytes | None = None) -> dict:
    """POST JSON, answer parsed; network trouble and 5xx/429 raise a transient SendError."""
    data = body if body is not None else json.dumps(payload, ensure_ascii=False).encode()
    req = request.Request(url, data=data, method="POST",  # noqa: S310 (http/https from settings)
                          headers={"Content-Type": "application/json; charset=utf-8",
                                   **(headers or {})})
    return _open(req)


def _open(req: request.Request) -> dict:
    try:
        with request.urlopen(req, timeout=_timeout()) as response:  # noqa: S310
            raw = response.read(1 << 20)
    except error.HTTPError as exc:
        raise SendError(f"http_{exc.code}", permanent=False) from None
    except (error.URLError, TimeoutError, ConnectionError):
        raise SendError("network") from None
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        raise SendError("bad_answer") from None
    if not isinstance(answer, dict):
        raise SendError("bad_answer")
    return answer


class ConsoleSender:
    """Logs that a message would go out (recipient masked), and keeps it in ``outbox``."""

    channel = "console"
    outbox: list[OutboundMessage] = []  # kept for tests and the demo

    def send(self, message: OutboundMessage) -> str:
        self.outbox.append(message)
        logger.info("%s message (%s) to %s", message.channel, message.kind,
                    mask_phone(message.to) if message.channel == "sms" else "***")
        return f"console-{uuid.uuid4().hex[:12]}"


# -- SMS over an HTTP gateway ------------------------------------------------------------------

# Gateway answers that no retry can fix (Aliyun's codes; a gateway of the same shape uses them).
SMS_PERMANENT_CODES = frozenset({
    "isv.MOBILE_NUMBER_ILLEGAL", "isv.INVALID_PARAMETERS", "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS", "isv.PARAM_LENGTH_LIMIT",
    "isv.BLACK_KEY_CONTROL_LIMIT", "isv.MOBILE_COUNT_OVER_LIMIT",
})


def sms_signature(*, secret: str, method: str, path: str, timestamp: str, nonce: str,
                  body: bytes) -> str:
    """HMAC-SHA256 over the request: method, path, timestamp, nonce and the body's SHA-256,
    one per line; base64. The gateway recomputes it with the same secret."""
    text = "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class SmsHttpSender:
    """A cloud SMS API of the Aliyun/Tencent shape: a signed JSON POST with the phone numbers,
    the sign name, the template code and its parameters; the answer's ``Code`` is ``OK`` on
    success, with ``BizId`` the provider's message id."""

    channel = "sms"

    def __init__(self) -> None:
        self.url = settings.SMS_GATEWAY_URL
        self.key_id = settings.SMS_ACCESS_KEY_ID
        self.secret = settings.SMS_ACCESS_KEY_SECRET
        self.sign_name = settings.SMS_SIGN_NAME
        self.templates = settings.SMS_TEMPLATES

    def send(self, message: OutboundMessage) -> str:
        template = self.templates.get(message.kind)
        if not template:
            raise SendError("template_missing", permanent=True)
        payload = {
            "PhoneNumbers": message.to,
            "SignName": self.sign_name,
            "TemplateCode": template,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False),
            "OutId": message.reference,
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        timestamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        nonce = uuid.uuid4().hex
        signature = sms_signature(secret=self.secret, method="POST",
                                  path=parse.urlsplit(self.url).path or "/",
                                  timestamp=timestamp, nonce=nonce, body=body)
        answer = _post_json(self.url, payload, body=body, headers={
            "X-Sms-Access-Key-Id": self.key_id, "X-Sms-Timestamp": timestamp,
            "X-Sms-Nonce": nonce, "X-Sms-Signature-Method": "HMAC-SHA256",
            "X-Sms-Signature": signature,
        })
        code = str(answer.get("Code", ""))
        if code.upper() != "OK":
            raise SendError(f"gateway:{code or 'no_code'}", permanent=code in SMS_PERMANENT_CODES)
        return str(answer.get("BizId") or answer.get("RequestId") or "")


# -- e-mail over SMTP --------------------------------------------------------------------------

class EmailSender:
    """Django's SMTP backend with the EMAIL_* settings (named here, so a test's in-memory
    EMAIL_BACKEND does not swallow the channel)."""

    channel = "email"

    def send(self, message: OutboundMessage) -> str:
        connection = EmailBackend(timeout=settings.EMAIL_TIMEOUT or _timeout(),
                                  fail_silently=False)
        email = EmailMessage(subject=message.subject, body=message.body,
                             from_email=settings.DEFAULT_FROM_EMAIL, to=[message.to],
                             connection=connection)
        message_id = email.message()["Message-ID"]
        email.extra_headers["Message-ID"] = message_id
        try:
            sent = email.send()
        except smtplib.SMTPRecipientsRefused:
            raise SendError("smtp_recipient_refused", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"smtp_{exc.smtp_code}", permanent=exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError):
            raise SendError("smtp_unreachable") from None
        if not sent:
            raise SendError("smtp_not_sent")
        return str(message_id).strip("<>")[:100]


# -- WeChat subscription messages --------------------------------------------------------------

# Answers meaning the access token is no good: fetch a new one next time.
WECHAT_TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# The user has not subscribed (or refused), a bad openid or template: a retry cannot help.
WECHAT_PERMANENT_ERRORS = frozenset({40003, 40037, 43101, 47003})


class WeChatSender:
    """``/cgi-bin/message/subscribe/send`` with an access token from ``/cgi-bin/token``, cached
    until shortly before it expires."""

    channel = "wechat"
    CACHE_PREFIX = "notifications:wechat-token:"

    def __init__(self) -> None:
        self.base = settings.WECHAT_API_BASE.rstrip("/")
        self.app_id = settings.WECHAT_APP_ID
        self.secret = settings.WECHAT_APP_SECRET
        self.templates = settings.WECHAT_TEMPLATES
        self.fields = settings.WECHAT_TEMPLATE_FIELDS
        self.page = settings.WECHAT_PAGE

    @property
    def cache_key(self) -> str:
        return self.CACHE_PREFIX + self.app_id

    def access_token(self) -> str:
        token = cache.get(self.cache_key)
        if token:
            return token
        query = parse.urlencode({"grant_type": "client_credential", "appid": self.app_id,
                                 "secret": self.secret})
        answer = _open(request.Request(f"{self.base}/cgi-bin/token?{query}"))  # noqa: S310
        token = answer.get("access_token")
        if not token:
            raise SendError(f"wechat_token:{answer.get('errcode', 'none')}")
        expires_in = int(answer.get("expires_in") or 7200)
        cache.set(self.cache_key, token, timeout=max(expires_in - 300, 60))
        return token

    def send(self, message: OutboundMessage) -> str:
        template = self.templates.get(message.kind)
        if not template:
            raise SendError("template_missing", permanent=True)
        fields = self.fields.get(message.kind, {})
        data = {fields.get(name, name): {"value": value} for name, value in message.params.items()}
        token = self.access_token()
        answer = _post_json(
            f"{self.base}/cgi-bin/message/subscribe/send?" + parse.urlencode({"access_token": token}),
            {"touser": message.to, "template_id": template, "page": self.page, "data": data})
        errcode = int(answer.get("errcode") or 0)
        if errcode in WECHAT_TOKEN_ERRORS:
            cache.delete(self.cache_key)
        if errcode:
            raise SendError(f"wechat:{errcode}", permanent=errcode in WECHAT_PERMANENT_ERRORS)
        return str(answer.get("msgid", ""))


DEFAULT_SENDERS = {
    "sms": "unionaid.notifications.senders.ConsoleSender",
    "email": "unionaid.notifications.senders.ConsoleSender",
    "wechat": "unionaid.notifications.senders.ConsoleSender",
}


def sender_for(channel: str) -> Sender:
    """The configured sender of ``channel`` (settings.NOTIFICATION_SENDERS)."""
    paths = {**DEFAULT_SENDERS, **getattr(settings, "NOTIFICATION_SENDERS", {})}
    sender = import_string(paths[channel])()
    return sender
