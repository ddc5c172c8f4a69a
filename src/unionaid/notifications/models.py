from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from unionaid.core.fields import EncryptedTextField


class Notification(models.Model):
    """A message to a user (staff or a worker's own login), shown in the app."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications")
    title = models.CharField(_("标题"), max_length=100)
    body = models.CharField(_("内容"), max_length=500, blank=True)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"],
                                name="notification_inbox_idx")]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    """Where a message goes besides the in-app inbox, which always gets it."""

    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信订阅消息")
    EMAIL = "email", _("电子邮件")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class ChannelPreference(models.Model):
    """Which outbound channels a user wants, and their own addresses for them (encrypted).

    No row means the in-app inbox only. A worker's phone defaults to the roster's (the members
    app registers that source, ``notifications.contacts``)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="channel_preference")
    sms = models.BooleanField(_("短信"), default=False)
    wechat = models.BooleanField(_("微信订阅消息"), default=False)
    email = models.BooleanField(_("电子邮件"), default=False)
    phone = EncryptedTextField(_("接收短信的手机号"), blank=True)
    email_address = EncryptedTextField(_("接收邮件的地址"), blank=True)
    # Set when the user signs in to the union's mini-program (WeChat gives the openid there).
    wechat_openid = EncryptedTextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preference {self.user_id}"


class Delivery(models.Model):
    """One message on one outbound channel: queued, then sent or, after retries, failed.

    The recipient address and the message (template params, e-mail subject and body) are kept
    encrypted; pages show ``recipient_masked``. ``last_error`` is a short code, never a quote
    of the gateway's answer in full (it could repeat the phone)."""

    notification = models.ForeignKey(Notification, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("消息类型"), max_length=20)
    purpose = models.CharField(max_length=40, blank=True)
    recipient = EncryptedTextField()
    recipient_masked = models.CharField(_("接收方"), max_length=64)
    payload = EncryptedTextField(blank=True)
    urgent = models.BooleanField(_("紧急"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
            models.Index(fields=["-created_at"], name="delivery_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} {self.status}"
