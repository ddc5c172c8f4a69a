"""Messages leave the system: SMS through a local fake of the gateway, e-mail through a local
SMTP server, WeChat subscription messages through a local fake of its API; retries with
back-off, failure for good, quiet hours, channel preferences, no personal data in the text."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from unionaid.core.errors import ServiceError
from unionaid.core.synthetic import SyntheticPeople
from unionaid.core.testing.sms_gateway import expected_signature
from unionaid.notifications import deliveries, kinds
from unionaid.notifications.models import Channel, ChannelPreference, Delivery, DeliveryStatus
from unionaid.notifications.senders import ConsoleSender
from unionaid.notifications.services import notify, preference_save, public_title, send_code

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI)
NIGHT = dt.datetime(2026, 12, 7, 23, 30, tzinfo=SHANGHAI)

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone():
    return SyntheticPeople(seed=11).phone()


def test_a_code_goes_through_the_gateway_signed_and_shaped_like_the_cloud_api(
        sms_gateway, phone, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_code(phone, "482913", "activation")
    assert sms_gateway.last_code_for(phone) == "482913"
    request = sms_gateway.requests[-1]
    assert request.method == "POST"
    assert request.path == "/sms/send"
    assert request.json == {"PhoneNumbers": phone, "SignName": "测试工会",
                            "TemplateCode": "SMS_TEST_CODE",
                            "TemplateParam": '{"code": "482913"}',
                            "OutId": str(Delivery.objects.get().pk)}
    assert request.headers["x-sms-access-key-id"] == "test-key-id"
    assert request.headers["x-sms-signature-method"] == "HMAC-SHA256"
    assert request.headers["x-sms-signature"] == expected_signature("test-secret", request)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1
    assert delivery.provider_message_id == "biz-000001"
    assert delivery.urgent
    assert delivery.sent_at is not None
    assert delivery.recipient_masked == phone[:3] + "****" + phone[-4:]
    assert delivery.payload == ""  # a sent code is not kept


def test_a_wrong_secret_is_refused_by_the_gateway_and_recorded(sms_gateway, settings, phone):
    settings.SMS_ACCESS_KEY_SECRET = "not-the-secret"
    send_code(phone, "482913", "activation")
    assert deliveries.deliveries_send_due() == 0
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.last_error == "gateway:SignatureDoesNotMatch"
    assert sms_gateway.last_code_for(phone) is None


def test_it_retries_with_back_off_after_a_500_then_sends(sms_gateway, settings, phone):
    settings.NOTIFICATION_RETRY_SECONDS = 60
    sms_gateway.fail_next(2)
    send_code(phone, "111222", "activation")
    t0 = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
    Delivery.objects.update(next_attempt_at=t0)

    with time_machine.travel(t0, tick=False):
        assert deliveries.deliveries_send_due(now=t0) == 0
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("queued", 1, "http_500")
    assert delivery.next_attempt_at == t0 + dt.timedelta(seconds=60)
    # not yet due: nothing is sent
    assert deliveries.deliveries_send_due(now=t0 + dt.timedelta(seconds=30)) == 0
    assert len(sms_gateway.requests) == 1

    t1 = t0 + dt.timedelta(seconds=60)
    with time_machine.travel(t1, tick=False):
        assert deliveries.deliveries_send_due(now=t1) == 0
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.next_attempt_at == t1 + dt.timedelta(seconds=120)

    t2 = t1 + dt.timedelta(seconds=120)
    assert deliveries.deliveries_send_due(now=t2) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 3
    assert sms_gateway.last_code_for(phone) == "111222"


def test_it_fails_for_good_after_the_last_attempt(sms_gateway, settings, phone):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    sms_gateway.fail_next(10)
    send_code(phone, "111222", "activation")
    now = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
    for _ in range(5):
        Delivery.objects.filter(status="queued").update(next_attempt_at=now)
        deliveries.deliveries_send_due(now=now)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert delivery.next_attempt_at is None
    assert delivery.last_error == "http_500"
    assert len(sms_gateway.requests) == 3


def test_an_answer_no_retry_can_fix_fails_at_once(sms_gateway, phone):
    sms_gateway.reject_next("isv.MOBILE_NUMBER_ILLEGAL")
    send_code(phone, "111222", "activation")
    deliveries.deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert delivery.last_error == "gateway:isv.MOBILE_NUMBER_ILLEGAL"


def test_back_off_doubles_and_is_capped():
    assert [deliveries.backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert deliveries.backoff(40) == deliveries.MAX_BACKOFF


def test_quiet_hours_defer_a_notice_to_seven_but_a_code_goes_at_once(settings):
    settings.NOTIFICATION_QUIET_HOURS = "22:00-07:00"
    seven = dt.datetime(2026, 12, 8, 7, 0, tzinfo=SHANGHAI)
    assert deliveries.first_attempt_at(urgent=False, now=NIGHT) == seven
    early = dt.datetime(2026, 12, 8, 5, 0, tzinfo=SHANGHAI)
    assert deliveries.first_attempt_at(urgent=False, now=early) == seven
    assert deliveries.first_attempt_at(urgent=False, now=NOON) == NOON
    assert deliveries.first_attempt_at(urgent=True, now=NIGHT) == NIGHT


def test_at_night_a_notice_waits_and_a_code_is_sent(sms_gateway, settings, worker, phone):
    settings.NOTIFICATION_QUIET_HOURS = "22:00-07:00"
    preference_save(actor=worker, sms=True, wechat=False, email=False)
    note = notify(recipient=worker, title="帮扶申请已核准")
    notice = Delivery.objects.get(notification=note)
    deliveries.delivery_create(channel=Channel.SMS, to=phone, kind="code",
                               params={"code": "654321"}, now=NIGHT)
    Delivery.objects.filter(pk=notice.pk).update(
        next_attempt_at=deliveries.first_attempt_at(urgent=False, now=NIGHT))

    assert deliveries.deliveries_send_due(now=NIGHT) == 1
    assert sms_gateway.last_code_for(phone) == "654321"
    notice.refresh_from_db()
    assert notice.status == DeliveryStatus.QUEUED
    assert notice.attempts == 0
    morning = dt.datetime(2026, 12, 8, 7, 0, tzinfo=SHANGHAI)
    assert notice.next_attempt_at == morning
    assert deliveries.deliveries_send_due(now=morning) == 1
    notice.refresh_from_db()
    assert notice.status == DeliveryStatus.SENT


def test_a_notice_created_in_quiet_hours_is_not_enqueued(settings, worker,
                                                       django_capture_on_commit_callbacks):
    settings.NOTIFICATION_QUIET_HOURS = "22:00-07:00"
    preference_save(actor=worker, sms=True, wechat=False, email=False)
    with time_machine.travel(NIGHT, tick=False), \
            django_capture_on_commit_callbacks() as callbacks:
        notify(recipient=worker, title="帮扶申请已核准")
    assert callbacks == []
    assert Delivery.objects.get().next_attempt_at == dt.datetime(2026, 12, 8, 7, 0,
                                                                 tzinfo=SHANGHAI)


def test_a_notification_goes_only_to_the_channels_the_user_chose(
        sms_gateway, smtp_server, wechat_api, worker, personas,
        django_capture_on_commit_callbacks):
    worker.email = "worker@example.org"
    worker.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=personas.team_cadre, title="没有选择的人")
        preference_save(actor=worker, sms=False, wechat=False, email=True)
        notify(recipient=worker, title="帮扶申请已核准", body="金额 5,000.00 元。")
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["email"]
    assert sms_gateway.requests == []
    assert wechat_api.requests == []
    assert len(smtp_server.messages) == 1


def test_an_email_arrives_at_the_smtp_server_saying_only_to_log_in(
        smtp_server, worker, django_capture_on_commit_callbacks):
    preference_save(actor=worker, sms=False, wechat=False, email=True,
                    email_address="worker@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=worker, title="帮扶申请已核准", body="金额 5,000.00 元。",
               link="/me/applications/7/")
    [mail] = smtp_server.messages
    assert mail["To"] == "worker@example.org"
    assert mail["From"] == "unionaid@test.invalid"
    assert mail["Subject"] == "您有一条新消息"
    content = mail.get_content()
    assert "登录" in content
    assert "/me/applications/7/" in content
    assert "金额" not in content
    assert "帮扶申请已核准" not in content
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.recipient_masked == "w***@example.org"
    assert delivery.provider_message_id
    assert delivery.provider_message_id in mail["Message-ID"]


def test_a_refused_mailbox_fails_at_once(smtp_server, worker):
    preference_save(actor=worker, sms=False, wechat=False, email=True,
                    email_address="worker@example.org")
    smtp_server.refuse_next()
    notify(recipient=worker, title="帮扶申请已核准")
    Delivery.objects.update(next_attempt_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    deliveries.deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "smtp_recipient_refused"


def _bind_wechat(user, openid="oTestOpenid0001"):
    ChannelPreference.objects.update_or_create(user=user, defaults={"wechat_openid": openid})


def test_wechat_fetches_a_token_once_and_sends_the_subscription_message(
        wechat_api, worker, django_capture_on_commit_callbacks):
    _bind_wechat(worker)
    preference_save(actor=worker, sms=False, wechat=True, email=False)
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=worker, title="帮扶申请已核准")
        notify(recipient=worker, title="帮扶款已发放")
    assert wechat_api.tokens_issued == 1
    assert [r.path for r in wechat_api.requests] == [
        "/cgi-bin/token", "/cgi-bin/message/subscribe/send", "/cgi-bin/message/subscribe/send"]
    first = wechat_api.sent[0]
    assert first["touser"] == "oTestOpenid0001"
    assert first["template_id"] == "TPL-NOTICE"
    assert first["page"] == "pages/inbox/index"
    assert first["data"]["thing1"] == {"value": "您有一条新消息"}
    assert set(first["data"]) == {"thing1", "time2"}
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert Delivery.objects.first().recipient_masked == "oTes***"


def test_wechat_fetches_a_new_token_after_the_old_one_expired(wechat_api, worker):
    _bind_wechat(worker)
    preference_save(actor=worker, sms=False, wechat=True, email=False)
    notify(recipient=worker, title="帮扶申请已核准")
    deliveries.deliveries_send_due()
    wechat_api.expire_tokens()
    notify(recipient=worker, title="帮扶款已发放")
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    deliveries.deliveries_send_due(now=now)  # 42001: the token is dropped, retried later
    assert Delivery.objects.filter(last_error="wechat:42001").count() == 1
    deliveries.deliveries_send_due(now=now + dt.timedelta(hours=1))
    assert wechat_api.tokens_issued == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_params_that_look_like_an_id_number_or_phone_are_refused(phone):
    id_number = SyntheticPeople(seed=3).id_number()
    for params in ({"title": id_number}, {"title": f"职工{phone}的申请"}, {"title": phone},
                   {"title": f"一个很长很长很长很长很长的标题，证件号{id_number}"}):
        with pytest.raises(kinds.UnsafeMessage):
            kinds.template_params("notice", params)
    with pytest.raises(kinds.UnsafeMessage):
        deliveries.delivery_create(channel=Channel.SMS, to=phone, kind="notice",
                                   params={"title": f"请联系{phone}"})
    assert not Delivery.objects.exists()
    # the code template declares its six digits; an unknown parameter is refused too
    assert kinds.template_params("code", {"code": "123456"}) == {"code": "123456"}
    with pytest.raises(ServiceError):
        kinds.template_params("code", {"code": "123456", "name": "x"})


def test_a_notification_whose_public_title_holds_a_phone_stays_in_the_inbox_only(
        worker, phone, caplog):
    preference_save(actor=worker, sms=True, wechat=False, email=False)
    with caplog.at_level(logging.WARNING):
        note = notify(recipient=worker, title=f"请回电 {phone}：您的申请")
    assert note.pk
    assert not Delivery.objects.exists()
    assert phone not in caplog.text
    # past the colon (or without one) the phone never leaves: the public wording goes instead
    notify(recipient=worker, title=f"请回电 {phone}")
    notify(recipient=worker, title=f"新的待办：请回电 {phone}")
    titles = [json.loads(d.payload)["params"]["title"] for d in Delivery.objects.order_by("pk")]
    assert titles == ["您有一条新消息", "新的待办"]


def test_the_public_title_is_the_head_before_the_first_colon_or_a_generic_line():
    assert public_title("新的待办：大病救助 · 张三") == "新的待办"
    assert public_title("定时任务运行失败: 备份") == "定时任务运行失败"
    assert public_title("公示开始：困难职工建档 · 李四：补") == "公示开始"
    assert public_title("帮扶申请已核准") == "您有一条新消息"
    assert public_title("：张三") == "您有一条新消息"
    assert public_title("") == "您有一条新消息"


def test_a_notice_naming_a_worker_sends_neither_the_name_nor_the_body_on_any_channel(
        sms_gateway, smtp_server, wechat_api, worker, django_capture_on_commit_callbacks):
    name = SyntheticPeople(seed=5).name()
    body = f"{name}的大病救助申请，金额 5,000.00 元，请办理审批节点“初审”。"
    _bind_wechat(worker)
    preference_save(actor=worker, sms=True, wechat=True, email=True,
                    email_address="worker@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        note = notify(recipient=worker, title=f"新的待办：大病救助 · {name}", body=body,
                      link="/approvals/tasks/9/")
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 3
    # SMS: the template's parameters only, the public head of the title and the time
    [sms] = [r for r in sms_gateway.requests if r.path == "/sms/send"]
    sms_params = json.loads(sms.json["TemplateParam"])
    assert sms_params["title"] == "新的待办"
    assert set(sms_params) == {"title", "time"}
    # WeChat
    [sent] = wechat_api.sent
    assert sent["data"]["thing1"] == {"value": "新的待办"}
    # e-mail: the head as subject, a pointer to the system as text
    [mail] = smtp_server.messages
    assert mail["Subject"] == "新的待办"
    content = mail.get_content()
    assert "/approvals/tasks/9/" in content
    for leaked in (name, "大病救助", "5,000.00", "初审"):
        assert leaked not in json.dumps(sms.json, ensure_ascii=False)
        assert leaked not in json.dumps(sent, ensure_ascii=False)
        assert leaked not in content
        assert leaked not in mail["Subject"]
    # the inbox keeps it all
    note.refresh_from_db()
    assert name in note.title
    assert note.body == body


def test_a_bad_phone_or_code_is_refused_by_send_code():
    with pytest.raises(ServiceError) as exc:
        send_code("12345", "123456", "activation")
    assert exc.value.code == "phone_invalid"
    with pytest.raises(ServiceError) as exc:
        send_code(SyntheticPeople(seed=2).phone(), "12ab", "activation")
    assert exc.value.code == "code_invalid"
    assert not Delivery.objects.exists()


def test_the_recipient_and_text_are_stored_encrypted_and_logs_never_show_the_phone(
        sms_gateway, phone, caplog):
    sms_gateway.fail_next(1)
    with caplog.at_level(logging.INFO):
        send_code(phone, "482913", "activation")
        deliveries.deliveries_send_due()
    raw = Delivery.objects.values_list("recipient", "payload").query
    with connection.cursor() as cursor:
        cursor.execute(*raw.sql_with_params())
        stored_recipient, stored_payload = cursor.fetchone()
    assert phone not in stored_recipient
    assert "482913" not in stored_payload
    assert json.loads(Delivery.objects.get().payload)["params"] == {"code": "482913"}
    assert "failed" in caplog.text
    assert phone not in caplog.text
    assert "482913" not in caplog.text


def test_a_console_channel_logs_instead_of_sending(settings, phone):
    ConsoleSender.outbox.clear()
    send_code(phone, "482913", "activation")
    assert deliveries.deliveries_send_due() == 1
    assert ConsoleSender.outbox[-1].params == {"code": "482913"}


def test_a_claimed_delivery_is_not_sent_twice_and_is_due_again_after_the_lease(settings, phone):
    settings.NOTIFICATION_SENDERS = {"sms": "unionaid.notifications.senders.ConsoleSender"}
    ConsoleSender.outbox.clear()
    send_code(phone, "482913", "activation")
    delivery = Delivery.objects.get()
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    # a worker claimed it and died before reporting back
    Delivery.objects.filter(pk=delivery.pk).update(attempts=1,
                                                   next_attempt_at=now + deliveries.LEASE)
    assert deliveries.delivery_send(delivery.pk, now=now) is False
    assert ConsoleSender.outbox == []
    assert deliveries.delivery_send(delivery.pk, now=now + deliveries.LEASE) is True
    assert deliveries.delivery_send(delivery.pk, now=now + deliveries.LEASE) is False
    assert len(ConsoleSender.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 2


class MeanwhileSender(ConsoleSender):
    """The console sender, running ``meanwhile`` (callables) while a message is on the wire."""

    meanwhile: list = []

    def send(self, message):
        for call in self.meanwhile:
            call()
        return super().send(message)


def test_a_late_claim_in_a_long_batch_gets_a_lease_from_the_real_clock(settings, phone):
    settings.NOTIFICATION_SENDERS = {"sms": "unionaid.notifications.senders.ConsoleSender"}
    ConsoleSender.outbox.clear()
    real = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)
    tick = real - dt.timedelta(minutes=20)  # the batch started 20 minutes ago
    with time_machine.travel(real, tick=False):
        send_code(phone, "482913", "activation")
        delivery = Delivery.objects.get()
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=tick)

        leased, again = [], []

        def meanwhile():
            # while this send is under way, another worker tries the same row
            delivery.refresh_from_db()
            leased.append(delivery.next_attempt_at)
            again.append(deliveries.delivery_send(delivery.pk))

        settings.NOTIFICATION_SENDERS = {"sms": f"{__name__}.MeanwhileSender"}
        MeanwhileSender.meanwhile = [meanwhile]
        try:
            assert deliveries.delivery_send(delivery.pk, now=tick) is True
        finally:
            MeanwhileSender.meanwhile = []
    assert leased == [real + deliveries.LEASE]
    assert again == [False]
    assert len(ConsoleSender.outbox) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)


def test_a_retry_is_timed_from_the_failure_not_from_the_batch_tick(
        sms_gateway, settings, phone):
    settings.NOTIFICATION_RETRY_SECONDS = 60
    sms_gateway.fail_next(1)
    real = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)
    tick = real - dt.timedelta(minutes=20)
    with time_machine.travel(real, tick=False):
        send_code(phone, "111222", "activation")
        Delivery.objects.update(next_attempt_at=tick)
        assert deliveries.deliveries_send_due(now=tick) == 0
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 1)
    assert delivery.next_attempt_at == real + dt.timedelta(seconds=60)


def test_a_send_whose_claim_was_taken_over_does_not_overwrite_the_new_claim(settings, phone):
    settings.NOTIFICATION_SENDERS = {"sms": "unionaid.notifications.senders.ConsoleSender"}
    send_code(phone, "482913", "activation")
    delivery = Delivery.objects.get()
    # our claim (attempt 1) ran past its lease and another worker claimed attempt 2
    Delivery.objects.filter(pk=delivery.pk).update(attempts=1)
    delivery.refresh_from_db()
    Delivery.objects.filter(pk=delivery.pk).update(attempts=2)
    assert deliveries._ours(delivery).update(status=DeliveryStatus.SENT) == 0
    deliveries._record_failure(delivery, deliveries.SendError("http_500"))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.QUEUED, 2, "")


def test_the_command_sends_what_is_due(sms_gateway, phone):
    send_code(phone, "482913", "activation")
    out = io.StringIO()
    call_command("deliveries_send", stdout=out)
    assert "Sent 1 messages." in out.getvalue()
    assert sms_gateway.last_code_for(phone) == "482913"
