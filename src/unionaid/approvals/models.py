from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ApprovalFlow(models.Model):
    """A flow for one kind of subject (``subject_kind``, "<app>.<thing>" as its subject was
    registered) and optionally one key (e.g. an item code; "" = any key) in an org unit. Units
    below inherit it unless they define their own for the same kind and key."""

    subject_kind = models.CharField(_("业务类型"), max_length=50)
    subject_key = models.CharField(_("业务编码"), max_length=50, blank=True)
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("单位"))
    name = models.CharField(_("名称"), max_length=100)
    is_active = models.BooleanField(_("启用"), default=True)
    # By default one person decides at most one step of a case (as holder, named person or
    # delegate); a very small union may allow the same person at several steps, journaled.
    allow_same_decider = models.BooleanField(_("允许同一人办理多个节点"), default=False)

    class Meta:
        verbose_name = _("审批流程")
        constraints = [
            models.UniqueConstraint(fields=["subject_kind", "subject_key", "org_unit"],
                                    name="approvalflow_unique_per_unit"),
        ]

    def __str__(self) -> str:
        return self.name


class FlowVersion(models.Model):
    """An immutable version of a flow's steps. Cases keep the version they started with."""

    flow = models.ForeignKey(ApprovalFlow, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("修改说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("流程版本")
        constraints = [
            models.UniqueConstraint(fields=["flow", "number"], name="flowversion_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.flow} v{self.number}"


class AssigneeKind(models.TextChoices):
    POSITION = "position", _("岗位（相对申请人单位）")
    USER = "user", _("指定人员（节点到人）")


class ApprovalStep(models.Model):
    """One step of a flow version.

    ``POSITION``: the post named ``position_name`` in the applicant's ancestor unit at depth
    ``unit_depth`` (1 = 路局, 2 = 站段, 3 = 车间 … in the demo), whoever holds it now.
    ``USER``: a named person (节点到人), who holds it through ``user_position``: when they leave
    that post, their open tasks move to the post's new holder.
    ``skip_condition`` is a safe expression over the case facts (e.g. ``amount <= 2000``); when
    true the step is skipped and the skip is recorded.
    """

    version = models.ForeignKey(FlowVersion, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("节点名称"), max_length=60)
    assignee_kind = models.CharField(max_length=10, choices=AssigneeKind.choices,
                                     default=AssigneeKind.POSITION)
    unit_depth = models.PositiveSmallIntegerField(_("单位层级"), null=True, blank=True)
    position_name = models.CharField(_("岗位名称"), max_length=60, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    user_position = models.ForeignKey("accounts.Position", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    skip_condition = models.CharField(_("跳过条件"), max_length=200, blank=True)
    due_days = models.PositiveSmallIntegerField(_("办理时限（天）"), default=3)
    allow_batch = models.BooleanField(_("允许批量审批"), default=False)
    is_public_notice = models.BooleanField(_("公示节点"), default=False)
    notice_working_days = models.PositiveSmallIntegerField(default=0)
    skippable_by_fast_track = models.BooleanField(_("特事特办可跳过"), default=False)

    class Meta:
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "order"], name="flowstep_unique_order"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class CaseStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("审批中")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已驳回")
    RETURNED = "returned", _("已退回补充材料")
    WITHDRAWN = "withdrawn", _("已撤回")


class ApprovalCase(models.Model):
    """One subject going through one flow version."""

    subject_kind = models.CharField(max_length=50)
    subject_id = models.BigIntegerField()
    flow_version = models.ForeignKey(FlowVersion, on_delete=models.PROTECT, related_name="cases")
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    applicant = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=CaseStatus.choices,
                              default=CaseStatus.IN_PROGRESS)
    current_order = models.PositiveSmallIntegerField(default=0)
    facts = models.JSONField(default=dict, blank=True)
    fast_track = models.BooleanField(_("特事特办"), default=False)
    fast_track_reason = models.CharField(max_length=200, blank=True)
    fast_track_reviewed_at = models.DateTimeField(null=True, blank=True)
    fast_track_reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                               on_delete=models.PROTECT, related_name="+")
    fast_track_review_comment = models.CharField(_("事后审核意见"), max_length=500, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("审批事项")
        indexes = [
            models.Index(fields=["subject_kind", "subject_id"], name="case_subject_idx"),
            # The few fast-tracked cases still owing their review (the to-do page lists them).
            models.Index(fields=["started_at", "id"], name="case_fast_track_review_idx",
                         condition=models.Q(fast_track=True, fast_track_reviewed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind}#{self.subject_id}"


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("待办")
    # A decided step's state, not the button that decides it: English says "Approved", not
    # "Approve" (the same Chinese word, told apart by the message context).
    APPROVED = "approved", pgettext_lazy("decided", "同意")
    REJECTED = "rejected", pgettext_lazy("decided", "驳回")
    RETURNED = "returned", pgettext_lazy("decided", "退回补充材料")
    SKIPPED = "skipped", _("已跳过")
    CANCELLED = "cancelled", _("已取消")


class SkipKind(models.TextChoices):
    CONDITION = "condition", _("满足跳过条件")
    LEVEL = "level", _("层级不适用")
    FAST_TRACK = "fast_track", _("特事特办")


class ApprovalTask(models.Model):
    """One step of one case. Only the case's current step has a pending task (strict order).
    A skipped step is kept as a SKIPPED task whose ``comment`` holds the reason."""

    case = models.ForeignKey(ApprovalCase, on_delete=models.PROTECT, related_name="tasks")
    step = models.ForeignKey(ApprovalStep, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=TaskStatus.choices,
                              default=TaskStatus.PENDING)
    assigned_position = models.ForeignKey("accounts.Position", null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    assigned_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_as = models.CharField(_("以何岗位办理"), max_length=200, blank=True)
    on_behalf_of = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    comment = models.CharField(_("意见"), max_length=500, blank=True)
    skip_kind = models.CharField(max_length=12, choices=SkipKind.choices, blank=True)

    class Meta:
        verbose_name = _("待办")
        indexes = [
            models.Index(fields=["assigned_position", "status", "created_at"],
                         name="task_position_todo_idx"),
            models.Index(fields=["assigned_user", "status", "created_at"],
                         name="task_user_todo_idx"),
            models.Index(fields=["case", "order"], name="task_case_order_idx"),
            models.Index(fields=["status", "due_at"], name="task_status_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case} step {self.order}"


class Delegation(models.Model):
    """While ``from_user`` is away, ``to_user`` may decide their tasks (recorded as on behalf)."""

    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="delegations_given")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="delegations_received")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("委托代办")
        indexes = [models.Index(fields=["to_user", "ends_at"], name="delegation_to_idx"),
                   models.Index(fields=["from_user", "ends_at"], name="delegation_from_idx")]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user}"


class WorkdayOverride(models.Model):
    """An admin's correction to the Chinese working-day calendar (chinese-calendar supplies
    the statutory holidays and 调休 days): a local holiday, or a day the calendar does not
    know yet. Public-notice periods count working days through ``approvals.calendar``."""

    day = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    note = models.CharField(_("说明"), max_length=100, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("工作日调整")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}: {'workday' if self.is_workday else 'holiday'}"
