from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AssistanceCategory(models.Model):
    """助困 living / 助医 medical / 助学 education, plus any a union adds."""

    code = models.SlugField(_("编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("帮扶类别")

    def __str__(self) -> str:
        return self.name


class AssistanceItem(models.Model):
    """One entry of the catalog (帮扶项目 / 救助标准). Rules are data an admin edits:

    * ``facts``: what the application must state, e.g.
      ``[{"name": "self_paid", "label": "自付医疗费用", "type": "money"},
         {"name": "case", "label": "情形", "type": "choice", "choices": ["本科新生", "专科新生"]}]``
    * ``eligibility``: list of ``{"rule": "<safe expression>", "message": "<Chinese refusal>"}``
      over the member and the facts (``membership_active``, ``hardship_category``,
      ``household_size``, ``grants_this_year`` …), evaluated with simpleeval — never ``eval``;
    * ``amount_rule``: ``{"kind": "fixed", "amount": 500}`` |
      ``{"kind": "share", "fact": "self_paid", "deductible": 2000, "rate": 0.5, "ceiling": 8000}`` |
      ``{"kind": "table", "fact": "case", "rows": {"本科新生": 5000, "专科新生": 4000}}``;
    * ``per_person_cap`` / ``per_household_cap``: yearly caps for this item (None = none); caps
      across items live in ``AnnualCap``.
    """

    code = models.SlugField(_("项目编码"), max_length=40, unique=True)
    name = models.CharField(_("项目名称"), max_length=100)
    category = models.ForeignKey(AssistanceCategory, on_delete=models.PROTECT,
                                 related_name="items", verbose_name=_("类别"))
    funding_source = models.ForeignKey("funds.FundingSource", on_delete=models.PROTECT,
                                       related_name="+", verbose_name=_("经费口径"))
    description = models.TextField(_("说明"), blank=True)
    facts = models.JSONField(_("申请需填写"), default=list, blank=True)
    eligibility = models.JSONField(_("申请条件"), default=list, blank=True)
    amount_rule = models.JSONField(_("金额规则"), default=dict)
    per_person_cap = models.DecimalField(_("每人每年上限"), max_digits=12, decimal_places=2,
                                         null=True, blank=True)
    per_household_cap = models.DecimalField(_("每户每年上限"), max_digits=12, decimal_places=2,
                                            null=True, blank=True)
    required_materials = models.JSONField(_("所需材料"), default=list, blank=True)
    valid_from = models.DateField(_("有效期自"), null=True, blank=True)
    valid_to = models.DateField(_("有效期至"), null=True, blank=True)
    period_kind = models.CharField(_("申请周期"), max_length=10, default="year",
                                   choices=[("year", _("每年一次")), ("case", _("每次事项"))])
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category__order", "code"]
        verbose_name = _("帮扶项目")

    def __str__(self) -> str:
        return self.name


class AnnualCap(models.Model):
    """A yearly cap across items: per person and per household, for one category or all.

    Caps are versioned: each row is in force from ``effective_from`` until the next row of the
    same scope (category, or all items) takes over. A change is a new row, so the decisions made
    under the old cap keep the cap they were made under, and the history stays readable. A row
    with neither amount lifts the cap from its date. Rows are never edited once in force
    (``services.annual_cap_save``); the catalog is one for the whole union, so caps are too.
    """

    category = models.ForeignKey(AssistanceCategory, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    per_person = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    per_household = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    effective_from = models.DateField(_("生效日期"), default=dt.date(2000, 1, 1))
    created_at = models.DateTimeField(auto_now_add=True, null=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("年度帮扶上限")
        ordering = ["category_id", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["category", "effective_from"],
                                    condition=Q(category__isnull=False),
                                    name="annualcap_one_per_category_day"),
            models.UniqueConstraint(fields=["effective_from"], condition=Q(category__isnull=True),
                                    name="annualcap_one_for_all_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.category or '全部'} {self.effective_from}"


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    IN_REVIEW = "in_review", _("审批中")
    RETURNED = "returned", pgettext_lazy("decided", "退回补充材料")
    APPROVED = "approved", _("已核准待发放")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")
    PAID = "paid", _("已发放")
    # The payment was reversed (冲正, e.g. the bank returned it): the decision stands and the
    # money may be paid again (重新发放), which makes the application APPROVED once more.
    PAYMENT_REVERSED = "reversed", _("发放已冲正")
    # The finance office cancelled the reserved money before it was paid (释放预留, e.g. the
    # worker left or the grant was found to be a duplicate): no money goes out, nothing counts
    # against the caps, and the worker may apply again.
    CANCELLED = "cancelled", _("已取消发放")


# Ended without money going out: they don't block a new application for the same period.
ENDED_STATUSES = (ApplicationStatus.WITHDRAWN, ApplicationStatus.REJECTED,
                  ApplicationStatus.CANCELLED)
OPEN_STATUSES = (ApplicationStatus.DRAFT, ApplicationStatus.IN_REVIEW, ApplicationStatus.RETURNED,
                 ApplicationStatus.APPROVED, ApplicationStatus.PAID,
                 ApplicationStatus.PAYMENT_REVERSED)


class Application(models.Model):
    """A request for one item for one member; filed by the member or on their behalf (代办)."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT,
                               related_name="applications", verbose_name=_("职工"))
    item = models.ForeignKey(AssistanceItem, on_delete=models.PROTECT,
                             related_name="applications", verbose_name=_("帮扶项目"))
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("申请周期"), max_length=20)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    on_behalf = models.BooleanField(_("代办"), default=False)
    facts = models.JSONField(_("申请事实"), default=dict, blank=True)
    reason = models.TextField(_("申请理由"), blank=True)
    amount = models.DecimalField(_("核定金额"), max_digits=12, decimal_places=2, default=0)
    calculation = models.JSONField(_("计算过程"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.DRAFT)
    fast_track = models.BooleanField(_("特事特办"), default=False)
    fast_track_reason = models.CharField(max_length=200, blank=True)
    case = models.OneToOneField("approvals.ApprovalCase", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("帮扶申请")
        constraints = [
            # Duplicate guard: one live application per member, item and period.
            models.UniqueConstraint(
                fields=["member", "item", "period"],
                condition=~Q(status__in=["withdrawn", "rejected", "cancelled"]),  # ENDED_STATUSES
                name="application_one_live_per_member_item_period",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="application_member_idx"),
            models.Index(fields=["org_unit", "status"], name="application_unit_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.item}"


class Attachment(models.Model):
    """A document photo or scan, stored outside the web root; served by a checked view."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT,
                                    related_name="attachments")
    material = models.CharField(_("材料名称"), max_length=60)
    original_name = models.CharField(max_length=200)
    storage_path = models.CharField(max_length=300)
    thumbnail_path = models.CharField(max_length=300, blank=True)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("申请材料")

    def __str__(self) -> str:
        return self.material
