"""Pytest fixtures for outbound messages, shared by the whole suite (``src/conftest.py`` loads
this module as a plugin).

``sms_gateway``: a running ``SmsGatewayFake`` with the SMS settings pointed at it (sender,
endpoint, keys, sign name, templates). ``smtp_server``: a running ``LocalSmtpServer`` with the
e-mail sender and EMAIL_HOST/PORT pointed at it. ``wechat_api``: a running ``WeChatApiFake``
with the WeChat settings pointed at it. Each also clears quiet hours, so a test's messages go
out whatever the hour it runs at (tests of quiet hours set them back).
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from unionaid.core.testing.sms_gateway import SmsGatewayFake
from unionaid.core.testing.smtp import LocalSmtpServer
from unionaid.core.testing.wechat_api import WeChatApiFake

SENDERS = "unionaid.notifications.senders"


def _senders(settings, **channels) -> None:
    settings.NOTIFICATION_SENDERS = {**getattr(settings, "NOTIFICATION_SENDERS", {}),
                                     **{k: f"{SENDERS}.{v}" for k, v in channels.items()}}
    settings.NOTIFICATION_QUIET_HOURS = ""


@pytest.fixture
def sms_gateway(settings):
    with SmsGatewayFake() as gateway:
        settings.SMS_GATEWAY_URL = gateway.url + "/sms/send"
        settings.SMS_ACCESS_KEY_ID = gateway.key_id
        settings.SMS_ACCESS_KEY_SECRET = gateway.secret
        settings.SMS_SIGN_NAME = "测试工会"
        settings.SMS_TEMPLATES = {"notice": "SMS_TEST_NOTICE", "code": "SMS_TEST_CODE"}
        settings.NOTIFICATION_HTTP_TIMEOUT = 5
        _senders(settings, sms="SmsHttpSender")
        yield gateway


@pytest.fixture
def smtp_server(settings):
    with LocalSmtpServer() as server:
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        settings.DEFAULT_FROM_EMAIL = "unionaid@test.invalid"
        _senders(settings, email="EmailSender")
        yield server


@pytest.fixture
def wechat_api(settings):
    with WeChatApiFake() as api:
        settings.WECHAT_API_BASE = api.url
        settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = api.app_id, api.secret
        settings.WECHAT_TEMPLATES = {"notice": "TPL-NOTICE"}
        settings.WECHAT_TEMPLATE_FIELDS = {"notice": {"title": "thing1", "time": "time2"}}
        settings.NOTIFICATION_HTTP_TIMEOUT = 5
        _senders(settings, wechat="WeChatSender")
        cache.clear()
        yield api
        cache.clear()
