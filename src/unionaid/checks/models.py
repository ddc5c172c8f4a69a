"""The auditor's checks: what the registered checks found (``Finding``), what the auditors said
about it (``FindingNote``), each run (``CheckRun``), and the samples of cases drawn for review
(``Sample``, ``SampledCase``).

A finding belongs to one org unit (the smallest subtree holding every record it concerns), so a
station auditor sees only findings wholly inside their subtree. Findings are never deleted: one
that a later run no longer finds is marked resolved, and comes back (with its explanation) if it
is found again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class FindingStatus(models.TextChoices):
    OPEN = "open", _("待核实")
    EXPLAINED = "explained", _("已说明")
    RESOLVED = "resolved", _("已消除")


class Finding(models.Model):
    """One suspicious item found by one check.

    ``fingerprint`` is the check's stable name for it (re-running never duplicates);
    ``records`` the typed references it concerns, as the check gave them and the engine does
    not interpret: ``[{"kind": "funds.disbursement", "id": 12, "label": "发放#12",
    "url": "/funds/trace/12/"}]``; ``evidence`` a short ``{label: value}`` table (masked values
    only, never a clear ID number or account).
    """

    check_key = models.CharField(_("核查项"), max_length=60)
    fingerprint = models.CharField(max_length=128)
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("单位"))
    member = models.ForeignKey("members.Member", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    summary = models.CharField(_("摘要"), max_length=300)
    amount = models.DecimalField(_("涉及金额"), max_digits=14, decimal_places=2, null=True,
                                 blank=True)
    evidence = models.JSONField(_("依据"), default=dict, blank=True)
    records = models.JSONField(_("相关记录"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=FindingStatus.choices,
                              default=FindingStatus.OPEN)
    first_seen_at = models.DateTimeField(_("首次发现"))
    last_seen_at = models.DateTimeField(_("最近发现"))
    resolved_at = models.DateTimeField(_("消除时间"), null=True, blank=True)
    explanation = models.TextField(_("说明"), blank=True)
    explained_at = models.DateTimeField(_("说明时间"), null=True, blank=True)
    explained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("核查疑点")
        constraints = [
            models.UniqueConstraint(fields=["check_key", "fingerprint"],
                                    name="finding_unique_fingerprint"),
        ]
        indexes = [
            models.Index(fields=["check_key", "status"], name="finding_check_status_idx"),
            models.Index(fields=["member"], name="finding_member_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.check_key}#{self.pk}"


class NoteKind(models.TextChoices):
    EXPLAIN = "explain", _("说明")
    REOPEN = "reopen", _("重新打开")


class FindingNote(models.Model):
    """Each explanation and each reopening of a finding, kept in order (also journaled)."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="notes")
    kind = models.CharField(max_length=10, choices=NoteKind.choices)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.finding_id} {self.kind}"


class CheckRun(models.Model):
    """One run of one check over a part of the tree (``scope_path`` "" = the whole tree)."""

    check_key = models.CharField(max_length=60)
    scope_path = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    found = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["check_key", "-started_at"], name="checkrun_key_idx")]

    def __str__(self) -> str:
        return f"{self.check_key} {self.started_at:%Y-%m-%d %H:%M}"


class SampleRule(models.TextChoices):
    RANDOM = "random", _("随机抽取一定比例")
    ABOVE_AMOUNT = "above_amount", _("金额达到某数的全部案例")
    ITEM = "item", _("某一帮扶项目的全部案例")


class Sample(models.Model):
    """Cases drawn for review (抽查): the rule, its parameters, the seed (the same rule, seed and
    data draw the same cases), who drew it and when."""

    population = models.CharField(_("案例来源"), max_length=60)
    rule = models.CharField(_("抽取规则"), max_length=20, choices=SampleRule.choices)
    params = models.JSONField(_("规则参数"), default=dict, blank=True)
    seed = models.BigIntegerField(_("随机种子"))
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("单位"))
    drawn_at = models.DateTimeField(_("抽取时间"))
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    population_size = models.PositiveIntegerField(_("符合条件的案例数"), default=0)

    class Meta:
        verbose_name = _("抽查样本")

    def __str__(self) -> str:
        return f"样本{self.pk}"


class ReviewOutcome(models.TextChoices):
    PENDING = "pending", _("待审查")
    OK = "ok", _("无问题")
    ISSUE = "issue", _("发现问题")


class SampledCase(models.Model):
    """One case of a sample, with its reviewer, outcome and note."""

    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="cases")
    subject_kind = models.CharField(max_length=60)
    subject_id = models.BigIntegerField()
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    url = models.CharField(max_length=200, blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("审查结果"), max_length=10, choices=ReviewOutcome.choices,
                               default=ReviewOutcome.PENDING)
    note = models.TextField(_("审查意见"), blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sample", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "subject_kind", "subject_id"],
                                    name="sampledcase_unique_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind}#{self.subject_id}"
