"""The hardship archive (困难职工档案) and what its rules read.

* ``DibaoStandard``: the local minimum-living-allowance line (低保标准, yuan per person per
  month) for a region and year. A region is an org unit's subtree (a unit stands for where its
  workers live); a member's line is the one of the nearest ancestor unit that has one for the
  year.
* ``CategoryRules``: the multipliers and thresholds that differ by province, per org unit
  subtree (nearest ancestor wins, a root-level row is the default).
* ``HardshipRecord``: one enrolment of one member (建档); enrolment and exit each go through an
  approval flow (subject kinds ``archive.enrolment`` and ``archive.exit``) with a public-notice
  step. A new enrolment after an exit is a new record pointing at the previous one, so history
  is kept. One household holds at most one open record (checked under lock in the service; a
  partial unique constraint guarantees it per member).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DibaoStandard(models.Model):
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("适用单位（地区）"))
    region = models.CharField(_("地区"), max_length=60)
    year = models.PositiveSmallIntegerField(_("年度"))
    monthly_amount = models.DecimalField(_("低保标准（元/人·月）"), max_digits=8, decimal_places=2)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("低保标准")
        ordering = ["-year", "region"]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "year"], name="dibao_unit_year"),
            models.CheckConstraint(condition=Q(monthly_amount__gt=0), name="dibao_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year}: {self.monthly_amount}"


class CategoryRules(models.Model):
    """How the category is computed in a unit's subtree. Defaults follow the ACFTU guidance:
    below the line → 深度困难, below 2× the line → 相对困难, a sudden loss above 80 % of a
    year's household income → 意外致困."""

    org_unit = models.OneToOneField("org.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("适用单位"))
    deep_multiplier = models.DecimalField(_("深度困难：低于低保标准的倍数"), max_digits=4,
                                          decimal_places=2, default=Decimal("1.00"))
    relative_multiplier = models.DecimalField(_("相对困难：低于低保标准的倍数"), max_digits=4,
                                              decimal_places=2, default=Decimal("2.00"))
    sudden_ratio = models.DecimalField(_("意外致困：支出占家庭年收入比例"), max_digits=4,
                                       decimal_places=2, default=Decimal("0.80"))
    edge_multiplier = models.DecimalField(_("边缘困难：低于低保标准的倍数"), max_digits=4,
                                          decimal_places=2, default=Decimal("2.50"))
    max_homes = models.PositiveSmallIntegerField(_("住房超过此套数须复核"), default=1)
    private_school_fee_limit = models.DecimalField(
        _("子女择校/私立学费超过此年额须复核（元）"), max_digits=10, decimal_places=2,
        default=Decimal("20000"))
    recheck_months = models.PositiveSmallIntegerField(_("复核周期（月）"), default=12)
    follow_up_months = models.PositiveSmallIntegerField(_("脱困后回访期（月）"), default=6)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("困难类别认定规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(relative_multiplier__gte=models.F("deep_multiplier"))
                & Q(deep_multiplier__gt=0) & Q(sudden_ratio__gt=0),
                name="rules_multipliers_order"),
        ]

    def __str__(self) -> str:
        return f"rules@{self.org_unit_id}"


class HardshipCategory(models.TextChoices):
    DEEP = "deep", _("深度困难")
    RELATIVE = "relative", _("相对困难")
    SUDDEN = "sudden", _("意外致困")


class RecordStatus(models.TextChoices):
    PENDING = "pending", _("建档审批中")      # enrolment case in progress (incl. public notice)
    RETURNED = "returned", _("退回补充")
    ACTIVE = "active", _("在档")
    EXITING = "exiting", _("脱困审批中")      # exit case in progress
    EXITED = "exited", _("已解困脱困")
    CLOSED = "closed", _("已销档")            # retirement, transfer, death
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_STATUSES = (RecordStatus.PENDING, RecordStatus.RETURNED, RecordStatus.ACTIVE,
                 RecordStatus.EXITING)


class CloseReason(models.TextChoices):
    RETIREMENT = "retirement", _("退休")
    TRANSFER = "transfer", _("调离/转出")
    DEATH = "death", _("死亡")
    OTHER = "other", _("其他")


class HardshipRecord(models.Model):
    """One enrolment of a member in the archive (困难职工档案), from application to exit."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT,
                               related_name="hardship_records", verbose_name=_("职工"))
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=10, choices=RecordStatus.choices,
                              default=RecordStatus.PENDING)
    category = models.CharField(_("困难类别"), max_length=10, choices=HardshipCategory.choices)
    computed_category = models.CharField(_("测算类别"), max_length=10, blank=True,
                                         choices=HardshipCategory.choices)
    profile = models.ForeignKey("visits.HouseholdProfile", on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("依据的家庭情况"))
    # The calculation as it was when the category was decided: inputs, the line, each step.
    calculation = models.JSONField(_("认定测算"), default=dict)
    per_capita_monthly = models.DecimalField(_("人均月收入"), max_digits=10, decimal_places=2)
    dibao_standard = models.DecimalField(_("低保标准"), max_digits=8, decimal_places=2)
    review_flags = models.JSONField(_("须复核情形"), default=list, blank=True)
    causes = models.CharField(_("致困原因"), max_length=200, blank=True)
    reason = models.TextField(_("申请理由"), blank=True)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("上一次建档"))
    applied_at = models.DateTimeField(auto_now_add=True)
    enrolled_on = models.DateField(_("建档日期"), null=True, blank=True)
    next_recheck_on = models.DateField(_("下次复核日期"), null=True, blank=True)
    last_recheck_on = models.DateField(_("上次复核日期"), null=True, blank=True)
    exit_reason = models.CharField(_("脱困原因"), max_length=300, blank=True)
    exit_applied_at = models.DateTimeField(null=True, blank=True)
    exited_on = models.DateField(_("脱困日期"), null=True, blank=True)
    follow_up_until = models.DateField(_("回访截止"), null=True, blank=True)
    close_reason = models.CharField(_("销档原因"), max_length=12, choices=CloseReason.choices,
                                    blank=True)
    closed_on = models.DateField(_("销档日期"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("困难职工档案")
        ordering = ["-applied_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status__in=["pending", "returned", "active", "exiting"]),
                name="archive_one_open_record_per_member"),
        ]
        indexes = [
            models.Index(fields=["org_unit", "status", "category"], name="archive_unit_status_idx"),
            models.Index(fields=["status", "next_recheck_on"], name="archive_recheck_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}:{self.get_category_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Objection(models.Model):
    """An objection raised during a public notice (公示期异议), and how it was resolved. While an
    objection is unresolved the notice step cannot be approved."""

    record = models.ForeignKey(HardshipRecord, on_delete=models.PROTECT, related_name="objections")
    case = models.ForeignKey("approvals.ApprovalCase", on_delete=models.PROTECT, related_name="+")
    raised_by_label = models.CharField(_("异议人"), max_length=60, blank=True)
    content = models.TextField(_("异议内容"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    resolution = models.TextField(_("核实处理结果"), blank=True)
    upheld = models.BooleanField(_("异议成立"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("公示异议")
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"objection {self.pk} on {self.record_id}"


class Recheck(models.Model):
    """A yearly re-check (年度复核) of an active record against a fresh profile."""

    record = models.ForeignKey(HardshipRecord, on_delete=models.PROTECT, related_name="rechecks")
    profile = models.ForeignKey("visits.HouseholdProfile", on_delete=models.PROTECT,
                                related_name="+")
    checked_on = models.DateField(_("复核日期"))
    computed_category = models.CharField(_("测算类别"), max_length=10, blank=True,
                                         choices=HardshipCategory.choices)
    calculation = models.JSONField(default=dict)
    outcome = models.CharField(_("复核结论"), max_length=12, choices=[
        ("keep", _("维持")), ("change", _("调整类别")), ("exit", _("建议脱困"))])
    note = models.CharField(_("说明"), max_length=300, blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("年度复核")
        ordering = ["-checked_on", "-id"]

    def __str__(self) -> str:
        return f"recheck {self.record_id}@{self.checked_on}"


class WatchKind(models.TextChoices):
    EDGE = "edge", _("边缘困难职工")
    GIG = "gig", _("新就业形态劳动者")
    MODEL_WORKER = "model_worker", _("困难劳模")
    FIRM_DIFFICULTY = "firm_difficulty", _("困难企业职工")
    OTHER = "other", _("其他重点关注")


class WatchSource(models.TextChoices):
    RULE = "rule", _("按规则")
    MANUAL = "manual", _("手工添加")


class WatchEntry(models.Model):
    """A member on a watch list (动态管理清单). Rule entries are refreshed by
    ``archive.services.watch.watchlists_refresh``; manual ones stay until removed."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("清单"), max_length=16, choices=WatchKind.choices)
    source = models.CharField(_("来源"), max_length=8, choices=WatchSource.choices)
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("动态管理清单")
        constraints = [models.UniqueConstraint(
            fields=["member", "kind"], condition=Q(removed_at__isnull=True),
            name="watch_one_active_entry")]
        indexes = [models.Index(fields=["org_unit", "kind"], name="watch_unit_kind_idx")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.member_id}"


class DifficultUnit(models.Model):
    """A unit (enterprise) marked as in difficulty; its members feed the firm-difficulty list."""

    org_unit = models.OneToOneField("org.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("单位"))
    since = models.DateField(_("认定日期"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")

    class Meta:
        verbose_name = _("困难企业")

    def __str__(self) -> str:
        return f"difficult unit {self.org_unit_id}"
