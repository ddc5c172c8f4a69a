"""The user's own choice of channels (/notifications/preferences/) and the system admin's list
of deliveries with retry (/notifications/deliveries/)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import verified_login
from unionaid.audit.models import AuditEvent
from unionaid.notifications import deliveries
from unionaid.notifications.models import ChannelPreference, Delivery, DeliveryStatus
from unionaid.notifications.services import send_code

pytestmark = pytest.mark.django_db
URL = "/notifications/preferences/"


def test_a_worker_chooses_sms_and_the_roster_phone_is_used_masked(client, worker):
    client.force_login(worker)
    phone = worker.member.phone
    page = client.get(URL).content.decode()
    assert phone[:3] + "****" + phone[-4:] in page
    assert phone not in page
    response = client.post(URL, {"sms": "on"})
    assert response.status_code == 302
    preference = ChannelPreference.objects.get(user=worker)
    assert (preference.sms, preference.email, preference.wechat) == (True, False, False)
    assert preference.phone == ""  # the roster's stays where it is
    assert AuditEvent.objects.filter(action="notification.preference_change").exists()


def test_email_without_an_address_is_refused_in_chinese(client, personas):
    client.force_login(personas.team_cadre)
    response = client.post(URL, {"email": "on"})
    assert response.status_code == 200
    assert "要接收邮件，请填写邮箱地址。" in response.content.decode()
    assert not ChannelPreference.objects.filter(user=personas.team_cadre, email=True).exists()


def test_a_bad_phone_is_refused_and_nothing_is_saved(client, personas):
    client.force_login(personas.team_cadre)
    response = client.post(URL, {"sms": "on", "phone": "12345"})
    assert response.status_code == 200
    assert "手机号格式不正确" in response.content.decode()
    assert not ChannelPreference.objects.filter(user=personas.team_cadre).exists()


def test_wechat_needs_a_bound_openid(client, personas):
    client.force_login(personas.team_cadre)
    response = client.post(URL, {"wechat": "on"})
    assert "请先在工会微信小程序中登录" in response.content.decode()
    ChannelPreference.objects.create(user=personas.team_cadre, wechat_openid="oBound0000001")
    assert client.post(URL, {"wechat": "on"}).status_code == 302
    assert ChannelPreference.objects.get(user=personas.team_cadre).wechat


def test_the_page_needs_a_login(client, db):
    assert client.get(URL).status_code == 302


@pytest.fixture
def failed(settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    settings.NOTIFICATION_SENDERS = {"sms": "unionaid.notifications.senders.SmsHttpSender"}
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/nowhere"  # discard port: refused at once
    settings.SMS_TEMPLATES = {"code": "SMS_TEST_CODE"}
    settings.NOTIFICATION_HTTP_TIMEOUT = 1
    phone = "13800000000"
    send_code(phone, "123456", "activation")
    deliveries.deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    return delivery


def test_the_system_admin_sees_deliveries_masked_and_retries_a_failed_one(
        client, personas, failed, sms_gateway, django_capture_on_commit_callbacks):
    verified_login(client, personas.bureau_admin)
    page = client.get(reverse("notifications:deliveries") + "?status=failed").content.decode()
    assert "138****0000" in page
    assert "13800000000" not in page
    assert "network" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notifications:delivery-retry", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.SENT  # queued, and sent by the task on commit
    assert sms_gateway.last_code_for("13800000000") == "123456"
    assert AuditEvent.objects.filter(action="notification.delivery_retry",
                                     actor=personas.bureau_admin).exists()


def test_only_a_failed_delivery_can_be_retried(client, personas, failed, sms_gateway):
    verified_login(client, personas.bureau_admin)
    Delivery.objects.update(status=DeliveryStatus.SENT)
    client.post(reverse("notifications:delivery-retry", args=[failed.pk]))
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.SENT
    assert sms_gateway.requests == []
    assert client.post(reverse("notifications:delivery-retry", args=[99999])).status_code == 404


def test_the_deliveries_page_is_not_there_without_system_config(client, personas, worker,
                                                                 failed):
    for user in (personas.station_cadre, personas.security_admin, worker):
        verified_login(client, user)
        assert client.get(reverse("notifications:deliveries")).status_code == 404
        assert client.post(reverse("notifications:delivery-retry",
                                   args=[failed.pk])).status_code == 404
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED


def test_the_worker_finds_the_channel_page_on_their_portal_home(client, worker):
    client.force_login(worker)
    page = client.get(reverse("portal:home")).content.decode()
    assert 'id="portal-preferences"' in page
    assert URL in page
