"""Background exports: one row per export a user asked to run outside the web request.

The file is written under PRIVATE_MEDIA_ROOT/exports/jobs/ by the task and kept until
``expires_at`` (24 hours after it was finished); ``unionaid exports_cleanup`` deletes it then.
``params`` holds what the export was asked for (unit id and name, period, a name prefix, reveal)
and never an ID number or phone: a query that looks like one is refused. ``scope_roots`` holds the
parts of the tree the file may contain, taken from the requester's grants when it was asked for;
the download requires the requester to cover them all still.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from unionaid.exports import kinds


def validate_kind(value: str) -> None:
    """A job's kind must be registered (``exports.kinds``): the model lists no clients."""
    if kinds.kind_or_none(value) is None:
        raise ValidationError(_("不支持的导出内容。"), code="unknown_kind")


class ExportJobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ExportJob(models.Model):
    kind = models.CharField(_("导出内容"), max_length=20, validators=[validate_kind])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=pgettext_lazy("export job", "申请人"),
    )
    params = models.JSONField(_("导出条件"), default=dict, blank=True)
    # [{"perm", "scope", "unit_id", "unit_path"}, ...]: see services.scope_roots
    scope_roots = models.JSONField(default=list, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ExportJobStatus.choices, default=ExportJobStatus.QUEUED
    )
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    total = models.PositiveIntegerField(_("总行数"), default=0)  # 0 while unknown
    revealed_count = models.PositiveIntegerField(_("完整号码行数"), default=0)
    file_path = models.CharField(max_length=500, blank=True)  # relative to PRIVATE_MEDIA_ROOT
    file_name = models.CharField(_("文件名"), max_length=255, blank=True)
    error_message = models.CharField(_("失败原因"), max_length=500, blank=True)
    created_at = models.DateTimeField(pgettext_lazy("export job", "申请时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    downloaded_at = models.DateTimeField(_("下载时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("过期时间"))

    class Meta:
        verbose_name = _("后台导出任务")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="exportjob_user_idx"),
            models.Index(fields=["expires_at"], name="exportjob_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind_title} #{self.pk}"

    @property
    def kind_title(self) -> str:
        """The registered kind's title (the stored value for a kind no longer registered)."""
        export_kind = kinds.kind_or_none(self.kind)
        return str(export_kind.title) if export_kind else self.kind

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportJobStatus.DONE, ExportJobStatus.FAILED)

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_downloadable(self) -> bool:
        return self.status == ExportJobStatus.DONE and bool(self.file_path) and not self.is_expired

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.is_finished else 0
        return min(100, self.row_count * 100 // self.total)
