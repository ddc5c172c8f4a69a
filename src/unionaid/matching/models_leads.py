"""Lead rules and leads (线索, "the policy finds the worker").

A ``LeadRule`` is data an admin edits: which lists it reads (source kinds), a condition over the
matched record's facts and the member's facts (``core.rules``, never ``eval``), and what it
proposes — an application for a catalog item, a visit, an enrolment in the hardship archive, or
a review of an archived household. Each ``Lead`` is one proposal for one member with its
evidence: the match and record it came from and an encrypted snapshot of the facts it used (so
an accepted lead still shows its proof after the list is purged). ``evidence_key`` is a keyed
hash of the rule, the list's kind, the external person and the record's distinguishing facts:
a lead is raised once per (rule, member, evidence), however often the same list is imported.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from unionaid.core.fields import EncryptedTextField

# keyed-hash purpose of Lead.evidence_key
EVIDENCE_PURPOSE = "matching.lead"


class LeadAction(models.TextChoices):
    APPLICATION = "application", _("帮扶申请")
    VISIT = "visit", _("入户走访")
    ENROLMENT = "enrolment", _("建档")
    REVIEW = "review", _("档案复核")


class ReviewKind(models.TextChoices):
    RECHECK = "recheck", _("复核家庭情况")
    CLOSE = "close", _("销档（死亡）")


class LeadRule(models.Model):
    """One rule turning matches into leads; edited under ``matching.config``."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    # SourceKind values; empty = every kind of list
    source_kinds = models.JSONField(_("适用的数据类别"), default=list, blank=True)
    condition = models.CharField(_("条件"), max_length=300, default="True")
    action = models.CharField(_("线索类型"), max_length=12, choices=LeadAction.choices)
    # application: the catalog item, its facts as expressions, the amount, the material the
    # matched record stands for
    item_code = models.CharField(_("帮扶项目编码"), max_length=40, blank=True)
    item_facts = models.JSONField(_("申请事项取值"), default=dict, blank=True)
    amount_expression = models.CharField(_("金额表达式"), max_length=300, blank=True)
    material = models.CharField(_("代替的证明材料"), max_length=60, blank=True)
    # review: re-check the household, or close the file
    review_kind = models.CharField(_("复核方式"), max_length=10, choices=ReviewKind.choices,
                                   blank=True)
    # visit / review follow-ups: due this many days after acceptance
    due_days = models.PositiveSmallIntegerField(_("办理期限（天）"), default=14)
    is_active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("线索规则")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def action_label(self) -> str:
        return LeadAction(self.action).label


class LeadStatus(models.TextChoices):
    RAISED = "raised", _("待处理")
    ACCEPTED = "accepted", _("已采纳")
    DISMISSED = "dismissed", _("已排除")


class Lead(models.Model):
    """A proposal for one member, with its evidence; accepted (it started an application, a
    visit, an enrolment or a review: ``target_kind`` + ``target_id``) or dismissed with a
    reason. Seen by the cadres whose scope covers the member's unit."""

    rule = models.ForeignKey(LeadRule, on_delete=models.PROTECT, related_name="leads",
                             verbose_name=_("线索规则"))
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("职工"))
    match = models.ForeignKey("matching.Match", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="leads")
    record = models.ForeignKey("matching.ExternalRecord", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    dataset = models.ForeignKey("matching.Dataset", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="leads")
    evidence_key = models.CharField(max_length=64)
    # JSON: list, kind, row, sheet, facts used, the match's reason and score (personal data)
    evidence = EncryptedTextField(_("依据"), blank=True, db_column="evidence_enc")
    # when the list was loaded: the start of "days from data to money"
    data_at = models.DateTimeField(_("数据时间"), null=True, blank=True)
    amount = models.DecimalField(_("预计金额"), max_digits=12, decimal_places=2, null=True,
                                 blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=LeadStatus.choices,
                              default=LeadStatus.RAISED)
    dismiss_reason = models.CharField(_("排除原因"), max_length=300, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField(_("采纳时间"), null=True, blank=True)
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    dismissed_at = models.DateTimeField(_("排除时间"), null=True, blank=True)
    target_kind = models.CharField(max_length=40, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("线索")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["rule", "member", "evidence_key"],
                                               name="lead_rule_member_evidence_uniq")]
        indexes = [models.Index(fields=["status", "-created_at"], name="lead_status_idx"),
                   models.Index(fields=["target_kind", "target_id"], name="lead_target_idx")]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.member_id}"

    @property
    def status_label(self) -> str:
        return LeadStatus(self.status).label

    @property
    def evidence_data(self) -> dict:
        try:
            data = json.loads(self.evidence or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
