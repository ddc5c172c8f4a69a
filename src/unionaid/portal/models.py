"""How workers get in: one-time codes (SMS or printed) and the attempts the rate limits count.

Codes are stored only as keyed hashes. An SMS code row may name no member: a request that
matches nobody on the roster still gets a (decoy) code row, so that both answers do the same
work and look the same (no membership oracle)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from unionaid.core.fields import EncryptedTextField


class CodePurpose(models.TextChoices):
    ACTIVATE = "activate", _("开通账号（短信）")
    LOGIN = "login", _("验证码登录（短信）")
    PRINTED = "printed", _("开通账号（打印激活码）")


class LoginCode(models.Model):
    """A one-time code: sent by SMS (6 digits, minutes) or printed by a cadre (days)."""

    purpose = models.CharField(_("用途"), max_length=10, choices=CodePurpose.choices)
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("职工"),
    )
    code_hash = models.CharField(max_length=64, db_index=True)
    # An SMS code in clear only for its sending task (encrypted; wiped once handed over).
    code_enc = EncryptedTextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("打印人"),
    )

    class Meta:
        verbose_name = _("一次性验证码")
        indexes = [models.Index(fields=["member", "purpose"], name="logincode_member_idx")]

    def __str__(self) -> str:
        return f"{self.purpose}:{self.pk}"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


class AttemptAction(models.TextChoices):
    SEND = "send", _("发送验证码")
    VERIFY = "verify", _("核对验证码")
    PRINTED = "printed", _("核对激活码")


class LoginAttempt(models.Model):
    """One try at a code (sending or checking), counted by the rate limits per phone, per ID
    number and per client address. Phones and ID numbers only as the roster's keyed hashes."""

    action = models.CharField(max_length=10, choices=AttemptAction.choices)
    phone_hash = models.CharField(max_length=64, blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16)

    class Meta:
        verbose_name = _("登录尝试")
        indexes = [
            models.Index(fields=["action", "phone_hash", "at"], name="loginattempt_phone_idx"),
            models.Index(fields=["action", "id_number_hash", "at"], name="loginattempt_id_idx"),
            models.Index(fields=["action", "ip", "at"], name="loginattempt_ip_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action}:{self.outcome}"
