"""Money. Every movement is a balanced set of append-only LedgerEntry rows (one ``txn``);
Budget's balance columns are a cache of the entries, updated in the same transaction under a row
lock, and can be recomputed from the entries at any time (``funds.services.ledger_recompute``)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class FundingSource(models.Model):
    """经费口径: which budget pays (工会经费, 送温暖专项, 上级补助, 社会捐赠 …)."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)

    class Meta:
        ordering = ["code"]
        verbose_name = _("经费口径")

    def __str__(self) -> str:
        return self.name


HALF_CENT = Decimal("0.005")
BALANCE_SUM = F("available") + F("reserved") + F("paid") + F("allocated_down")


class Budget(models.Model):
    """Money a unit may spend from one funding source in one year.

    Balances (yuan, Decimal): ``available`` can be reserved; ``reserved`` is committed by final
    approvals and not yet paid; ``paid`` has left. ``allocated`` = what was put in (from above or
    allocated down). The CHECK constraints are the last guard against going below zero.
    """

    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("单位"))
    funding_source = models.ForeignKey(FundingSource, on_delete=models.PROTECT,
                                       related_name="budgets", verbose_name=_("经费口径"))
    year = models.PositiveSmallIntegerField(_("年度"))
    allocated = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    available = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    reserved = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    paid = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Moved on to child units' budgets (allocate down).
    allocated_down = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")

    class Meta:
        verbose_name = _("预算")
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "funding_source", "year"],
                                    name="budget_unique_unit_source_year"),
            models.CheckConstraint(condition=Q(available__gte=0), name="budget_available_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="budget_reserved_gte_0"),
            models.CheckConstraint(condition=Q(paid__gte=0), name="budget_paid_gte_0"),
            models.CheckConstraint(condition=Q(allocated_down__gte=0),
                                   name="budget_allocated_down_gte_0"),
            # allocated = available + reserved + paid + allocated_down, to the cent (the
            # half-cent tolerance only absorbs SQLite's binary floating point).
            models.CheckConstraint(
                condition=Q(allocated__gt=BALANCE_SUM - HALF_CENT)
                & Q(allocated__lt=BALANCE_SUM + HALF_CENT),
                name="budget_columns_balance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.org_unit} {self.funding_source} {self.year}"


class Account(models.TextChoices):
    """The ledger's accounts, per budget. A transaction's entries sum to zero."""

    SOURCE = "source", _("经费来源")  # money entering the budget (allocated from outside/above)
    AVAILABLE = "available", _("可用额度")
    RESERVED = "reserved", _("已核定待发")
    PAID = "paid", _("已发放")
    ALLOCATED_DOWN = "allocated_down", _("下拨")


class EntryKind(models.TextChoices):
    ALLOCATE = "allocate", _("拨入")
    ALLOCATE_DOWN = "allocate_down", _("下拨")
    RESERVE = "reserve", _("核定预留")
    RELEASE = "release", _("释放预留")
    PAY = "pay", _("发放")
    REVERSE = "reverse", _("冲正")


class LedgerEntry(models.Model):
    """One append-only movement. Corrections are new entries (``reverse``), never edits."""

    txn = models.UUIDField(db_index=True)
    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="entries")
    account = models.CharField(max_length=20, choices=Account.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)  # signed
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    subject_kind = models.CharField(max_length=50, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    disbursement = models.ForeignKey("funds.Disbursement", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="entries")
    reverses_txn = models.UUIDField(null=True, blank=True)
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("资金流水")
        indexes = [
            models.Index(fields=["subject_kind", "subject_id"], name="entry_subject_idx"),
            models.Index(fields=["budget", "-id"], name="entry_budget_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_0"),
        ]

    def __str__(self) -> str:
        return f"{self.txn} {self.account} {self.amount}"


class DisbursementStatus(models.TextChoices):
    RESERVED = "reserved", _("待发放")
    IN_BATCH = "in_batch", _("已列入批次")
    PAID = "paid", _("已发放")
    REVERSED = "reversed", _("已冲正")
    RELEASED = "released", _("已释放预留")


# A disbursement in one of these holds no money for its subject any more.
NOT_LIVE_STATUSES = (DisbursementStatus.REVERSED, DisbursementStatus.RELEASED)


class Disbursement(models.Model):
    """Money for one approved subject (an application). At most one *live* disbursement
    (reserved, in a batch or paid) per subject: paying the same approval twice is impossible
    (a partial unique constraint + the state machine).

    A reversed payment may be paid again (重新发放): a new row that ``repays`` the reversed one,
    so the old row keeps its batch, payment and reversal for the auditor. A subject's rows form
    one chain; the newest is its current one. Or it is closed (终止发放: ``closed_at``) when the
    money will never be paid again; it then stays reversed and can no longer be paid again.
    """

    subject_kind = models.CharField(max_length=50)
    subject_id = models.BigIntegerField()
    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="disbursements")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=12, choices=DisbursementStatus.choices,
                              default=DisbursementStatus.RESERVED)
    batch = models.ForeignKey("funds.DisbursementBatch", null=True, blank=True,
                              on_delete=models.PROTECT, related_name="disbursements")
    reserved_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_reason = models.CharField(max_length=200, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    # The reversed disbursement this one pays again (重新发放); at most one re-payment each.
    repays = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="repaid_by")
    # Closed without re-payment (终止发放): a reversed payment that will never be paid again.
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("发放")
        constraints = [
            models.UniqueConstraint(fields=["subject_kind", "subject_id"],
                                    condition=~Q(status__in=NOT_LIVE_STATUSES),
                                    name="disbursement_one_live_per_subject"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_amount_gt_0"),
        ]
        indexes = [
            models.Index(fields=["status", "budget"], name="disbursement_status_idx"),
            models.Index(fields=["subject_kind", "subject_id"], name="disbursement_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind}#{self.subject_id} {self.amount}"

    @property
    def repayment(self) -> Disbursement | None:
        """The re-payment (重新发放) of this reversed disbursement, if there is one."""
        return getattr(self, "repaid_by", None)

    @property
    def awaits_repayment(self) -> bool:
        """Reversed, not closed (终止发放) and not (or no longer: its re-payment was released)
        being paid again: it may be paid again or closed."""
        if self.status != DisbursementStatus.REVERSED or self.closed_at is not None:
            return False
        repayment = self.repayment
        return repayment is None or repayment.status == DisbursementStatus.RELEASED


class BatchStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    EXPORTED = "exported", _("已导出银行文件")
    CONFIRMED = "confirmed", _("已确认发放")
    VOIDED = "voided", _("已作废")


class DisbursementBatch(models.Model):
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    funding_source = models.ForeignKey(FundingSource, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=BatchStatus.choices,
                              default=BatchStatus.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    exported_at = models.DateTimeField(null=True, blank=True)
    # Who first exported the bank file: like the creator, they may not confirm (四眼原则).
    exported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Voided (作废) before confirmation: its disbursements went back to waiting for payment
    # (the journal's ``funds.batch_void`` entry lists them).
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    void_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("发放批次")

    def __str__(self) -> str:
        return f"批次{self.pk}"
