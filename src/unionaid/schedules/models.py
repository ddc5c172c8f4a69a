"""The stored schedule of each registered job, and its runs.

A ``Schedule`` row holds what an admin may change (the expression, on/off) and a pending "run
now". A ``ScheduleRun`` is one run: a scheduled slot, or a run asked for by hand. Two
constraints make the scheduler safe with several processes: one run per (job, slot) — the
process whose INSERT wins runs the slot, the others skip it — and at most one run of a job
"running" at a time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from unionaid.schedules import registry


class Schedule(models.Model):
    key = models.CharField(_("任务"), max_length=registry.KEY_MAX_LENGTH, unique=True)
    expression = models.CharField(_("时间表达式"), max_length=100)
    enabled = models.BooleanField(_("启用"), default=True)
    # Slots at or before this moment are never run: set when the row is made, when the
    # expression changes and when the job is switched back on (no burst of "missed" slots).
    not_before = models.DateTimeField()
    run_requested_at = models.DateTimeField(null=True, blank=True)
    run_requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                         null=True, blank=True, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("修改人"))
    updated_at = models.DateTimeField(_("修改时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("定时任务")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.label

    @property
    def job(self) -> registry.Job | None:
        return registry.job_or_none(self.key)

    @property
    def label(self) -> str:
        job = self.job
        return str(job.label) if job else self.key


class RunTrigger(models.TextChoices):
    SCHEDULED = "scheduled", _("按时")
    MANUAL = "manual", _("手动")


class RunOutcome(models.TextChoices):
    RUNNING = "running", _("运行中")
    OK = "ok", _("成功")
    FAILED = "failed", _("失败")


class ScheduleRun(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    # The slot this run is for (local wall time of the expression, stored in UTC); for a run
    # asked for by hand, the moment it was asked for.
    slot = models.DateTimeField(_("计划时间"))
    trigger = models.CharField(_("触发方式"), max_length=10, choices=RunTrigger.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=pgettext_lazy("schedule run", "申请人"))
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("用时（毫秒）"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=RunOutcome.choices,
                               default=RunOutcome.RUNNING)
    summary = models.CharField(_("摘要"), max_length=200, blank=True)  # never personal data
    error = models.CharField(_("失败原因"), max_length=200, blank=True)  # never personal data
    host = models.CharField(_("主机"), max_length=100, blank=True)
    pid = models.PositiveIntegerField(_("进程号"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="+",
                                        verbose_name=_("确认人"))

    class Meta:
        verbose_name = _("定时任务运行记录")
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "slot"], name="schedulerun_once_per_slot"),
            models.UniqueConstraint(fields=["schedule"], condition=models.Q(outcome="running"),
                                    name="schedulerun_one_running"),
        ]
        indexes = [
            models.Index(fields=["schedule", "-started_at"], name="schedulerun_recent_idx"),
            models.Index(fields=["outcome", "acknowledged_at"], name="schedulerun_todo_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id}@{self.slot:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        return None if self.duration_ms is None else self.duration_ms / 1000
