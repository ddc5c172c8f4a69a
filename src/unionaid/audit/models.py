from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
