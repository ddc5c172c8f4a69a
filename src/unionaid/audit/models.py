from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

OUTCOME_LABELS = {"ok": _("成功"), "denied": _("拒绝"), "failed": _("失败")}


def target_type_label(target_type: str) -> str:
    """The name people read for a journaled object type (``members.member`` → 职工), from the
    model's verbose name; the code itself for types that name no model."""
    app_label, _dot, model_name = (target_type or "").partition(".")
    try:
        return str(apps.get_model(app_label, model_name)._meta.verbose_name)
    except (LookupError, ValueError):
        return target_type


class AuditEvent(models.Model):
    """One append-only entry of the audit journal.

    Each event carries the hash of the previous one, so editing or deleting a row breaks the chain
    (``unionaid audit verify``). On PostgreSQL a trigger also refuses UPDATE and DELETE.
    Sensitive values are never stored in clear: ``changes`` holds masked values only.
    """

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", db_constraint=False,
    )
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    actor_positions = models.CharField(_("所任岗位"), max_length=500, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    outcome = models.CharField(_("结果"), max_length=16, default="ok")
    target_type = models.CharField(_("对象类型"), max_length=64, blank=True, db_index=True)
    target_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    target_label = models.CharField(_("对象"), max_length=200, blank=True)
    org_unit_path = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS.get(self.outcome, self.outcome))

    @property
    def target_type_label(self) -> str:
        return target_type_label(self.target_type)


class ReadChannel(models.TextChoices):
    PAGE = "page", _("页面")
    API = "api", _("接口")
    OTHER = "other", _("其他")


class ReadEvent(models.Model):
    """One read of a member's personal data (member page, household profile, application,
    hardship record): who looked at whom, when, through what.

    A plain append-only table beside the journal, not part of its hash chain: writing one is a
    single INSERT and never waits for the chain's lock, so reads are not serialised.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    actor_id = models.BigIntegerField(_("查看人ID"), null=True, blank=True)
    actor_label = models.CharField(_("查看人"), max_length=150, blank=True)
    member_id = models.BigIntegerField(_("职工ID"), null=True, blank=True)
    target_type = models.CharField(_("对象类型"), max_length=64)
    target_id = models.CharField(_("对象ID"), max_length=64)
    channel = models.CharField(_("途径"), max_length=8, choices=ReadChannel.choices)
    path = models.CharField(_("地址"), max_length=255, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    org_unit_path = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["member_id", "-id"], name="audit_read_member_idx"),
            models.Index(fields=["actor_id", "-id"], name="audit_read_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.target_type}#{self.target_id}"

    @property
    def target_type_label(self) -> str:
        return target_type_label(self.target_type)
