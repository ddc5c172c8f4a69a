"""Disbursement batches: gather reserved disbursements, export the bank transfer file,
confirm payment. A disbursement is in at most one batch; confirming twice pays once.

Maker-checker (四眼原则): whoever created a batch (制单) may not confirm it; another holder of
funds.confirm (the cashier) checks the bank's receipt and confirms. Downloading the bank file is
not a decision: the cashier who exported it (the file with accounts in clear comes from a holder
of funds.confirm) may still confirm, so one finance officer and one cashier can pay a batch.
The batch records its first exporter (``exported_by``); every export is journaled
(``funds.batch_export``).

A batch never confirmed can be voided (作废) by finance: its grants go back to waiting for
payment (still reserved: batching moved no money, so voiding moves none) and may be put in a
new batch."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

import xlsxwriter
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.audit.services import atomic_audited, audit_record
from unionaid.core import masking
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.core.spreadsheets import safe_cell, safe_row
from unionaid.funds.models import (
    Account,
    BatchStatus,
    Disbursement,
    DisbursementBatch,
    DisbursementStatus,
    EntryKind,
    FundingSource,
)
from unionaid.funds.selectors import waiting_without_account
from unionaid.funds.services.budgets import require_unit_perm
from unionaid.funds.services.ledger import (
    CENT,
    ZERO,
    Leg,
    lock_budgets,
    post,
)
from unionaid.funds.services.notices import missing_account_notify
from unionaid.funds.subjects import subject_for
from unionaid.org.models import OrgUnit

EXPORT_HEADERS = ["序号", "收款人姓名", "收款账号", "金额（元）", "附言"]
FORMATS = ("xlsx", "csv")


def batch_create(*, actor, org_unit: OrgUnit, funding_source: FundingSource,
                 disbursement_ids: Iterable[int] | None = None) -> DisbursementBatch:
    """A draft batch of reserved disbursements from budgets of ``funding_source`` in the
    unit's subtree (and the actor's funds.manage scope): all of them, or ``disbursement_ids``.

    Grants whose worker has no bank account are left out (or, chosen by id, refused: Conflict
    ``no_bank_account``); the cadres who can register the account are told
    (``notices.missing_account_notify``), also when the batch is refused for that reason — in
    a transaction of its own then, after the refusal's has been rolled back, when called on its
    own as the page and the API do."""
    try:
        batch = _batch_create(actor=actor, org_unit=org_unit, funding_source=funding_source,
                              disbursement_ids=disbursement_ids)
    except ServiceError as exc:
        if exc.code in ("nothing_to_batch", "no_bank_account"):
            with transaction.atomic():
                _tell_missing(actor, org_unit, funding_source, disbursement_ids)
        raise
    with transaction.atomic():
        _tell_missing(actor, org_unit, funding_source, disbursement_ids)
    return batch


def _tell_missing(actor, org_unit, funding_source, disbursement_ids) -> None:
    left_out = waiting_without_account(user=actor, org_unit=org_unit,
                                       funding_source=funding_source)
    if disbursement_ids is not None:
        left_out = left_out.filter(pk__in={int(pk) for pk in disbursement_ids})
    missing_account_notify(actor=actor, disbursements=left_out)


@atomic_audited
def _batch_create(*, actor, org_unit: OrgUnit, funding_source: FundingSource,
                  disbursement_ids: Iterable[int] | None = None) -> DisbursementBatch:
    require_unit_perm(actor, "funds.manage", org_unit)
    candidates = (
        Disbursement.objects.select_for_update(of=("self",))
        .filter(budget__funding_source=funding_source,
                budget__org_unit__path__startswith=org_unit.path)
        .filter(access_for(actor).scope_q("funds.manage", unit_field="budget__org_unit"))
        .order_by("pk")
    )
    no_account = Q(member__bank_account="")  # nowhere to send the money to
    if disbursement_ids is not None:
        wanted = {int(pk) for pk in disbursement_ids}
        rows = list(candidates.filter(pk__in=wanted))
        if len(rows) != len(wanted) or any(
            d.status != DisbursementStatus.RESERVED for d in rows
        ):
            raise Conflict(_("所选款项中有的不存在、不属于本单位该经费口径，或已列入其他批次。"),
                           code="not_batchable")
        missing = Disbursement.objects.filter(pk__in=wanted).filter(no_account).count()
        if missing:
            raise Conflict(_("所选款项中有 %(n)s 笔的职工未登记银行账号，请先补登账号再列入批次。")
                           % {"n": missing}, code="no_bank_account")
    else:
        reserved = candidates.filter(status=DisbursementStatus.RESERVED)
        rows = list(reserved.exclude(no_account))
        if not rows and reserved.filter(no_account).exists():
            raise ServiceError(
                _("没有可列入批次的待发放款项：待发放的职工都未登记银行账号，请先补登账号。"),
                code="nothing_to_batch")
    if not rows:
        raise ServiceError(_("没有可列入批次的待发放款项。"), code="nothing_to_batch")
    batch = DisbursementBatch.objects.create(
        org_unit=org_unit, funding_source=funding_source, created_by=actor,
        total=sum((d.amount for d in rows), ZERO),
    )
    ids = [d.pk for d in rows]
    updated = Disbursement.objects.filter(pk__in=ids, status=DisbursementStatus.RESERVED).update(
        status=DisbursementStatus.IN_BATCH, batch=batch
    )
    if updated != len(ids):  # unreachable with the row locks; the last guard against two batches
        raise Conflict(_("所选款项已被列入其他批次，请刷新后重试。"), code="not_batchable")
    audit_record(actor=actor, action="funds.batch_create", target=batch,
                 org_unit_path=org_unit.path,
                 changes={"count": len(ids), "total": str(batch.total), "disbursements": ids})
    return batch


def _rows(batch: DisbursementBatch, *, clear: bool) -> list[list[str]]:
    rows = []
    disbursements = (batch.disbursements.select_related("member").order_by("pk"))
    for n, d in enumerate(disbursements, start=1):
        account = d.member.bank_account or ""
        shown = account if clear else masking.mask_bank_account(account)
        rows.append([str(n), safe_cell(d.member.name), shown or _("（未登记）"),
                     f"{d.amount:.2f}", f"UA{batch.pk}-{d.pk} 工会帮扶"])
    return rows


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADERS)
    writer.writerows(safe_row(row) for row in rows)
    return out.getvalue().encode("utf-8-sig")  # BOM: Excel opens Chinese CSV correctly


def _xlsx(rows: list[list[str]], batch: DisbursementBatch) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet(_("转账明细"))
    bold, money = book.add_format({"bold": True}), book.add_format({"num_format": "0.00"})
    text = book.add_format({"num_format": "@"})
    sheet.write_row(0, 0, EXPORT_HEADERS, bold)
    for r, row in enumerate(rows, start=1):
        sheet.write_number(r, 0, int(row[0]))
        sheet.write_string(r, 1, row[1])
        sheet.write_string(r, 2, row[2], text)  # a bank account is text, never a number
        sheet.write_number(r, 3, Decimal(row[3]), money)
        sheet.write_string(r, 4, row[4])
    sheet.write_string(len(rows) + 1, 2, _("合计"), bold)
    sheet.write_number(len(rows) + 1, 3, batch.total, money)
    sheet.set_column(1, 1, 12)
    sheet.set_column(2, 2, 24)
    sheet.set_column(3, 3, 14)
    sheet.set_column(4, 4, 22)
    book.close()
    return buf.getvalue()


@atomic_audited
def batch_export(*, actor, batch: DisbursementBatch, fmt: str = "xlsx") -> tuple[str, bytes]:
    """The bank transfer file (name, account, amount, reference). Accounts are in clear only
    for holders of funds.confirm for the batch's unit; every export is journaled."""
    if fmt not in FORMATS:
        raise ServiceError(_("不支持的文件格式。"), code="validation_error")
    access = access_for(actor)
    unit = OrgUnit.objects.get(pk=batch.org_unit_id)
    clear = access.covers_unit("funds.confirm", unit)
    if not clear and not access.covers_unit("funds.manage", unit):
        raise PermissionDenied(_("您无权导出该批次。"))
    batch = DisbursementBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == BatchStatus.VOIDED:
        raise Conflict(_("该批次已作废，不能导出银行文件。"), code="batch_voided")
    rows = _rows(batch, clear=clear)
    content = _csv(rows) if fmt == "csv" else _xlsx(rows, batch)
    if batch.status == BatchStatus.DRAFT:
        batch.status, batch.exported_at = BatchStatus.EXPORTED, timezone.now()
        batch.exported_by = actor
        batch.save(update_fields=["status", "exported_at", "exported_by"])
    audit_record(actor=actor, action="funds.batch_export", target=batch, org_unit_path=unit.path,
                 changes={"format": fmt, "accounts_in_clear": clear, "rows": len(rows),
                          "total": str(batch.total)})
    stamp = timezone.localtime().strftime("%Y%m%d")
    return f"batch-{batch.pk}-{stamp}.{fmt}", content


def batch_confirm_refusal(*, batch: DisbursementBatch, user) -> str | None:
    """Why ``user`` may not confirm ``batch`` under the maker-checker rule (they created it), or
    None if they may as far as that rule goes (the funds.confirm permission is checked apart).
    Exporting the bank file does not count: it is a download, not a decision."""
    pk = getattr(user, "pk", None)
    if pk is None:
        return None
    if pk == batch.created_by_id:
        return _("制单人不能确认本批次发放，请由另一位财务人员（出纳）确认。")
    return None


class _MakerRefused(Exception):
    def __init__(self, batch: DisbursementBatch, unit: OrgUnit, message: str):
        super().__init__(message)
        self.batch, self.unit, self.message = batch, unit, message


def batch_confirm(*, actor, batch: DisbursementBatch) -> DisbursementBatch:
    """Mark every disbursement of the batch paid (PAY entries: reserved −X, paid +X).
    Idempotent: confirming a confirmed batch changes nothing.

    The batch's creator may not confirm it (PermissionDenied ``same_person``); the refusal changes nothing and is journaled
    (``outcome="denied"``) after the confirmation's transaction has been rolled back, so the
    entry stays — when called on its own, as the page and the API do; called inside a caller's
    transaction, the denial entry shares that transaction's fate."""
    try:
        return _batch_confirm(actor=actor, batch=batch)
    except _MakerRefused as refused:
        with transaction.atomic():
            audit_record(actor=actor, action="funds.batch_confirm", outcome="denied",
                         target=refused.batch, org_unit_path=refused.unit.path,
                         changes={"reason": "same_person",
                                  "created_by": refused.batch.created_by_id,
                                  "exported_by": refused.batch.exported_by_id})
        raise PermissionDenied(refused.message, code="same_person") from None


@atomic_audited
def _batch_confirm(*, actor, batch: DisbursementBatch) -> DisbursementBatch:
    unit = OrgUnit.objects.get(pk=batch.org_unit_id)
    require_unit_perm(actor, "funds.confirm", unit)
    budget_ids = set(batch.disbursements.values_list("budget_id", flat=True))
    budgets = lock_budgets(budget_ids)  # budgets before the batch's rows: the one lock order
    batch = DisbursementBatch.objects.select_for_update().get(pk=batch.pk)
    # Before the idempotent answer: the maker never gets "confirmed" back, even for a batch
    # someone else has confirmed meanwhile.
    refusal = batch_confirm_refusal(batch=batch, user=actor)
    if refusal:
        raise _MakerRefused(batch, unit, refusal)
    if batch.status == BatchStatus.CONFIRMED:
        return batch
    if batch.status == BatchStatus.VOIDED:
        raise Conflict(_("该批次已作废，不能确认发放。"), code="batch_voided")
    if batch.status != BatchStatus.EXPORTED:
        raise Conflict(_("请先导出银行转账文件，再确认发放。"), code="not_exported")
    rows = list(Disbursement.objects.select_for_update()
                .filter(batch=batch, status=DisbursementStatus.IN_BATCH).order_by("pk"))
    if not rows:
        raise Conflict(_("该批次没有待确认的款项。"), code="nothing_to_confirm")
    legs = []
    for d in rows:
        budget = budgets[d.budget_id]
        legs += [Leg(budget, Account.RESERVED, -d.amount, d, d.subject_kind, d.subject_id),
                 Leg(budget, Account.PAID, d.amount, d, d.subject_kind, d.subject_id)]
    txn = post(kind=EntryKind.PAY, actor=actor, legs=legs, memo=f"批次{batch.pk}")
    now = timezone.now()
    Disbursement.objects.filter(pk__in=[d.pk for d in rows]).update(
        status=DisbursementStatus.PAID, paid_at=now
    )
    batch.status, batch.confirmed_at, batch.confirmed_by = BatchStatus.CONFIRMED, now, actor
    batch.total = (Disbursement.objects.filter(batch=batch).aggregate(s=Sum("amount"))["s"]
                   or ZERO).quantize(CENT)  # SQLite sums decimals in binary floating point
    batch.save(update_fields=["status", "confirmed_at", "confirmed_by", "total"])
    for d in rows:
        d.status, d.paid_at = DisbursementStatus.PAID, now
        subject_for(d.subject_kind).on_paid(disbursement=d, actor=actor)
    audit_record(actor=actor, action="funds.batch_confirm", target=batch, org_unit_path=unit.path,
                 changes={"count": len(rows), "total": str(batch.total), "txn": str(txn),
                          "disbursements": [d.pk for d in rows]})
    return batch


@atomic_audited
def batch_void(*, actor, batch: DisbursementBatch, reason: str) -> DisbursementBatch:
    """Void (作废) a batch never confirmed, e.g. one stuck because nobody may confirm it or whose
    bank file the bank refused: its disbursements go back to waiting for payment (reserved, in
    no batch) and may be put in a new batch. No money moves: putting a disbursement in a batch
    posted no ledger entry (the money stayed reserved), so taking it out posts none either.

    Needs funds.manage for the batch's unit and a reason. Idempotent: voiding a voided batch
    returns it and journals nothing; a confirmed batch is refused (Conflict ``confirmed``: undo
    a payment by reversing it). Journaled with the disbursements it gave back."""
    unit = OrgUnit.objects.get(pk=batch.org_unit_id)
    require_unit_perm(actor, "funds.manage", unit)
    reason = (reason or "").strip()
    if not reason:
        message = _("请填写原因。")
        raise ServiceError(message, code="validation_error", fields={"reason": message})
    # The one lock order: budgets, then the batch, then its disbursements (as confirming does).
    lock_budgets(set(batch.disbursements.values_list("budget_id", flat=True)))
    batch = DisbursementBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == BatchStatus.VOIDED:
        return batch
    if batch.status == BatchStatus.CONFIRMED:
        raise Conflict(_("该批次已确认发放，不能作废；发放有误的款项请逐笔冲正。"), code="confirmed")
    ids = list(Disbursement.objects.select_for_update()
               .filter(batch=batch, status=DisbursementStatus.IN_BATCH)
               .order_by("pk").values_list("pk", flat=True))
    Disbursement.objects.filter(pk__in=ids).update(status=DisbursementStatus.RESERVED,
                                                   batch=None)
    previous = batch.status
    batch.status, batch.voided_at, batch.voided_by = BatchStatus.VOIDED, timezone.now(), actor
    batch.void_reason = reason[:200]
    batch.save(update_fields=["status", "voided_at", "voided_by", "void_reason"])
    audit_record(actor=actor, action="funds.batch_void", target=batch, org_unit_path=unit.path,
                 changes={"reason": batch.void_reason, "previous_status": previous,
                          "count": len(ids), "total": str(batch.total), "disbursements": ids})
    return batch
