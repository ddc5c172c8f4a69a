"""Reads of budgets, the ledger, disbursements and batches, always through the access layer;
and the auditor's payment trace (every read journaled)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Min, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from unionaid.accounts.access import access_for
from unionaid.audit.models import AuditEvent
from unionaid.audit.scoped import get_in_scope, parse_pk, scoped_getter
from unionaid.audit.services import audit_record
from unionaid.core import masking
from unionaid.core.errors import NotFound
from unionaid.core.lookups import prefix_q
from unionaid.funds import subjects
from unionaid.funds.models import (
    BatchStatus,
    Budget,
    Disbursement,
    DisbursementBatch,
    DisbursementStatus,
    LedgerEntry,
)
from unionaid.members.selectors import id_number_hash
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import units_visible_to

FUNDS_PERMS = ("funds.view", "funds.manage", "funds.confirm")


def _funds_q(user, unit_field: str) -> Q:
    access = access_for(user)
    q = Q(pk__in=[])
    for perm in FUNDS_PERMS:
        part = access.scope_q(perm, unit_field=unit_field)
        if not part:  # an "all data" grant: Q() matches everything (and q | Q() would not)
            return part
        q |= part
    return q


def budgets_visible_to(*, user) -> QuerySet[Budget]:
    return (Budget.objects.filter(_funds_q(user, "org_unit"))
            .select_related("org_unit", "funding_source", "parent__org_unit"))


@scoped_getter
def budget_get_for_user(*, user, pk) -> Budget:
    return get_in_scope(
        user=user, pk=pk, perm="funds.view", scope=_funds_q(user, "org_unit"),
        queryset=Budget.objects.select_related("org_unit", "funding_source", "parent__org_unit"),
        target_type="funds.budget",
    )


def entries_for_budget(*, budget: Budget) -> QuerySet[LedgerEntry]:
    """The budget's ledger, newest first (callers got ``budget`` from a scoped selector)."""
    return (LedgerEntry.objects.filter(budget=budget)
            .select_related("created_by", "disbursement__member").order_by("-id"))


def disbursements_visible_to(*, user) -> QuerySet[Disbursement]:
    return (Disbursement.objects.filter(_funds_q(user, "budget__org_unit"))
            .select_related("member", "budget__org_unit", "budget__funding_source", "batch",
                            "repaid_by"))


@scoped_getter
def disbursement_get_for_user(*, user, pk) -> Disbursement:
    return get_in_scope(
        user=user, pk=pk, perm="funds.view", scope=_funds_q(user, "budget__org_unit"),
        queryset=Disbursement.objects.select_related(
            "member", "budget__org_unit", "budget__funding_source", "batch", "repaid_by"),
        target_type="funds.disbursement",
    )


def batches_visible_to(*, user) -> QuerySet[DisbursementBatch]:
    return (DisbursementBatch.objects.filter(_funds_q(user, "org_unit"))
            .select_related("org_unit", "funding_source", "created_by", "exported_by",
                            "confirmed_by"))


@scoped_getter
def batch_get_for_user(*, user, pk) -> DisbursementBatch:
    return get_in_scope(
        user=user, pk=pk, perm="funds.view", scope=_funds_q(user, "org_unit"),
        queryset=DisbursementBatch.objects.select_related(
            "org_unit", "funding_source", "created_by", "exported_by", "confirmed_by",
            "voided_by"),
        target_type="funds.disbursementbatch",
    )


def batch_rows(*, batch: DisbursementBatch) -> QuerySet[Disbursement]:
    """The disbursements of a batch (callers got ``batch`` from a scoped selector); for a voided
    batch, the ones it gave back, as its journal entry lists them."""
    qs = Disbursement.objects.select_related("member", "budget__org_unit").order_by("pk")
    if batch.status != BatchStatus.VOIDED:
        return qs.filter(batch=batch)
    event = (AuditEvent.objects.filter(target_type="funds.disbursementbatch",
                                       target_id=str(batch.pk), action="funds.batch_void",
                                       outcome="ok").order_by("-id").first())
    return qs.filter(pk__in=(event.changes.get("disbursements") or []) if event else [])


def waiting_without_account(*, user, org_unit: OrgUnit | None = None,
                            funding_source=None) -> QuerySet[Disbursement]:
    """Disbursements waiting for payment (reserved) in ``user``'s funds.manage scope whose
    worker has no bank account on file: no batch takes them. Optionally only those a batch of
    ``org_unit`` and ``funding_source`` would have taken."""
    qs = (Disbursement.objects
          .filter(status=DisbursementStatus.RESERVED, member__bank_account="")
          .filter(access_for(user).scope_q("funds.manage", unit_field="budget__org_unit")))
    if org_unit is not None:
        qs = qs.filter(budget__org_unit__path__startswith=org_unit.path)
    if funding_source is not None:
        qs = qs.filter(budget__funding_source=funding_source)
    return qs.select_related("member__org_unit", "budget__org_unit").order_by("pk")


def left_out_rows(*, disbursements) -> list[dict]:
    """Rows for the batch form's "left out" list: masked name, the item (from the subject
    registered for the kind), amount and the worker's unit."""
    rows = list(disbursements)
    labels: dict[tuple[str, int], str] = {}
    for kind in {d.subject_kind for d in rows}:
        subject = subjects.subject_or_none(kind)
        if subject is not None:
            ids = [d.subject_id for d in rows if d.subject_kind == kind]
            labels.update({(kind, sid): label
                           for sid, label in subject.item_labels(subject_ids=ids).items()})
    return [{"disbursement": d, "name": masking.mask_name(d.member.name),
             "item": labels.get((d.subject_kind, d.subject_id), ""), "amount": d.amount,
             "unit": d.member.org_unit.name} for d in rows]


# -- the finance to-dos on the home page ----------------------------------------------------

TODO_CAP = 99  # counted this far ("99+"): enough to say "there is work"


@dataclass(frozen=True)
class FundsTodo:
    key: str
    label: str
    count: int
    url: str
    icon: str


def _capped(qs) -> int:
    return qs.order_by()[: TODO_CAP + 1].count()


def funds_todos(*, user) -> list[FundsTodo]:
    """What waits on ``user`` in the finance office, non-empty only: for a cashier
    (funds.confirm) the batches in scope waiting to be exported and confirmed that they may
    confirm (not made by them); for a finance officer (funds.manage) the grants waiting for
    payment (reserved, in no batch yet). Counts stop at ``TODO_CAP + 1``."""
    access = access_for(user)
    todos = []
    if access.has_perm("funds.confirm"):
        n = _capped(DisbursementBatch.objects
                    .filter(access.scope_q("funds.confirm", unit_field="org_unit"))
                    .filter(status__in=(BatchStatus.DRAFT, BatchStatus.EXPORTED))
                    .exclude(created_by_id=user.pk))
        if n:
            todos.append(FundsTodo("batches", _("待确认发放批次"), n,
                                   reverse("funds:batch-list") + "?status=waiting",
                                   "bi-bank"))
    if access.has_perm("funds.manage"):
        n = _capped(Disbursement.objects
                    .filter(access.scope_q("funds.manage", unit_field="budget__org_unit"))
                    .filter(status=DisbursementStatus.RESERVED))
        if n:
            todos.append(FundsTodo("reserved", _("待发放款项"), n,
                                   reverse("funds:disbursement-list") + "?status=reserved",
                                   "bi-cash-stack"))
    return todos


def units_for_funds(*, user, perm: str = "funds.manage") -> QuerySet[OrgUnit]:
    """Open units the user may manage money for (for forms)."""
    return units_visible_to(user=user, perm=perm).filter(is_closed=False).order_by("path")


def child_units_for(*, budget: Budget) -> QuerySet[OrgUnit]:
    """Open units below the budget's unit: where it may allocate down."""
    return OrgUnit.objects.filter(is_closed=False, path__startswith=budget.org_unit.path,
                                  depth__gt=budget.org_unit.depth).order_by("path")


# -- the auditor's payment trace ------------------------------------------------------------

def _journal(*, user, action: str, target_id, outcome: str = "ok", **changes) -> None:
    with transaction.atomic():
        audit_record(actor=user, action=action, outcome=outcome,
                     target_type="funds.disbursement", target_id=target_id, changes=changes)


def _budget_lineage(budget: Budget) -> list[Budget]:
    """The budget and the budgets it was allocated down from (a few rows, tree depth)."""
    lineage, seen, current = [budget], {budget.pk}, budget
    while current.parent_id and current.parent_id not in seen and len(lineage) < 10:
        current = Budget.objects.select_related("org_unit", "funding_source").get(
            pk=current.parent_id)
        lineage.append(current)
        seen.add(current.pk)
    return lineage


def _chain(disbursement: Disbursement, scope: Q) -> list[Disbursement]:
    """Every disbursement of the same subject in ``scope``, oldest first: the original
    payment, its reversal, and each re-payment (重新发放) after it (a few rows)."""
    return list(
        Disbursement.objects.filter(scope)
        .filter(subject_kind=disbursement.subject_kind, subject_id=disbursement.subject_id)
        .select_related("batch__created_by", "batch__exported_by", "batch__confirmed_by",
                        "batch__org_unit", "repaid_by")
        .order_by("pk"))


# The words the trace shows for the journal's action codes (never the codes themselves).
ACTION_LABELS = {
    "funds.allocate": _("拨入预算"),
    "funds.allocate_down": _("下拨预算"),
    "funds.reserve": _("核定预留"),
    "funds.release": _("释放预留"),
    "funds.batch_create": _("生成发放批次"),
    "funds.batch_export": _("导出银行文件"),
    "funds.batch_confirm": _("确认发放"),
    "funds.batch_void": _("作废发放批次"),
    "funds.reverse": _("冲正"),
    "funds.repay": _("重新发放"),
    "funds.close": _("终止发放"),
    "funds.missing_account_notify": _("通知补登银行账号"),
    "funds.source_create": _("新增经费口径"),
    "funds.source_update": _("修改经费口径"),
    "funds.trace_view": _("查看资金追溯"),
    "funds.trace_search": _("查找发放记录"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, _("其他操作")))


def _person(event: AuditEvent) -> dict:
    """Who did it, as people read it: the display name (the login name only when the user is
    gone) and the posts they held then."""
    name = event.actor.display_name if event.actor_id and event.actor else event.actor_label
    return {"name": name or "—", "posts": event.actor_positions}


VOIDS_SCANNED = 500  # voided batches are rare: the trace reads this many void entries at most


def _voided_batches(chain: list[Disbursement]) -> set[str]:
    """The voided batches these payments were once in (a void takes them out of the batch;
    its journal entry lists them), so that the trace still shows those batches' history."""
    if not chain:
        return set()
    ids = {d.pk for d in chain}
    since = min(d.reserved_at for d in chain)
    voids = (AuditEvent.objects.filter(action="funds.batch_void", outcome="ok",
                                       occurred_at__gte=since)
             .order_by("id").values_list("target_id", "changes")[:VOIDS_SCANNED])
    return {target for target, changes in voids
            if ids & set((changes or {}).get("disbursements") or [])}


def _events(chain: list[Disbursement]) -> list[AuditEvent]:
    """The journal of the money movements of these payments and their batches (not the
    reads), refused confirmations included; each with ``label`` (the action in words) and
    ``person`` (display name and posts)."""
    q = Q(target_type="funds.disbursement", target_id__in=[str(d.pk) for d in chain])
    batches = sorted({str(d.batch_id) for d in chain if d.batch_id} | _voided_batches(chain))
    if batches:
        q |= Q(target_type="funds.disbursementbatch", target_id__in=batches)
    events = list(AuditEvent.objects.filter(q, action__startswith="funds.")
                  .exclude(action="funds.trace_view").select_related("actor")
                  .order_by("id")[:200])
    for event in events:
        event.label = action_label(event.action)
        event.person = _person(event)
    return events


def _batch_people(batch: DisbursementBatch | None, events: list[AuditEvent]) -> dict:
    """Who made, first exported and confirmed the batch, with their posts then (from the
    journal's entries; the name alone when an entry is missing)."""
    if batch is None:
        return {}
    found: dict[str, dict] = {}
    for event in events:
        if event.target_type != "funds.disbursementbatch" or event.target_id != str(batch.pk):
            continue
        if event.outcome != "ok":
            continue
        key = {"funds.batch_create": "created", "funds.batch_export": "exported",
               "funds.batch_confirm": "confirmed", "funds.batch_void": "voided"}.get(event.action)
        if key and key not in found:
            found[key] = event.person
    for key, user in (("created", batch.created_by), ("exported", batch.exported_by),
                      ("confirmed", batch.confirmed_by)):
        if key not in found and user is not None:
            found[key] = {"name": user.display_name, "posts": ""}
    return found


def payment_trace(*, user, disbursement_id) -> dict:
    """One payment's whole chain for an auditor (trace.view): application, materials, each
    decision, the budget it came from, the ledger entries, the batch and its confirmation.
    What it shows about the subject (application, materials, decisions) comes from the
    subject registered for the disbursement's kind (``funds.subjects``): ``summary``, or None
    with ``subject_known`` False when no domain registered the kind.
    ``history`` lists every disbursement of the same subject in order (a payment, its
    reversal, its re-payment …); ``entries`` and ``events`` cover all of them.

    Out of the user's trace.view scope looks like "not found"; every read, and every refused
    read, is journaled.
    """
    pk = parse_pk(disbursement_id)
    scope = access_for(user).scope_q("trace.view", unit_field="budget__org_unit",
                                     self_field="member_id")
    disbursement = (
        Disbursement.objects.filter(scope)
        .select_related("member__org_unit", "budget__org_unit", "budget__funding_source",
                        "batch__created_by", "batch__exported_by", "batch__confirmed_by",
                        "batch__org_unit")
        .filter(pk=pk).first()
    )
    if disbursement is None:
        if Disbursement.objects.filter(pk=pk).exists():
            _journal(user=user, action="access.denied", target_id=pk, outcome="denied",
                     attempted="trace.view")
        raise NotFound()
    subject = subjects.subject_or_none(disbursement.subject_kind)
    summary = subject.trace_summary(disbursement=disbursement, user=user) if subject else None
    chain = _chain(disbursement, scope)
    events = _events(chain)
    trace = {
        "disbursement": disbursement,
        "member": disbursement.member,
        "subject_known": subject is not None,
        "summary": summary,
        # the subject's record (an application …): the key keeps the API field's name
        "application": summary.record if summary else None,
        "materials": summary.materials if summary else [],
        "decisions": summary.decisions if summary else [],
        "budgets": _budget_lineage(disbursement.budget),
        "history": chain,
        "entries": list(LedgerEntry.objects.filter(disbursement__in=[d.pk for d in chain])
                        .select_related("created_by").order_by("id")),
        "batch": disbursement.batch,
        "confirmation": (
            {"by": disbursement.batch.confirmed_by, "at": disbursement.batch.confirmed_at}
            if disbursement.batch and disbursement.batch.confirmed_at else None
        ),
        "events": events,
        "batch_people": _batch_people(disbursement.batch, events),
    }
    _journal(user=user, action="funds.trace_view", target_id=pk)
    return trace


def trace_find(*, user, kind: str, number: int) -> int | None:
    """The disbursement id for a disbursement number, or for a subject's number when ``kind``
    is a registered subject's ``search_key`` (e.g. an application: its newest disbursement, the
    trace page lists the earlier ones), within trace.view. An unknown ``kind`` finds nothing."""
    qs = Disbursement.objects.filter(
        access_for(user).scope_q("trace.view", unit_field="budget__org_unit",
                                 self_field="member_id"))
    if kind == "disbursement":
        qs = qs.filter(pk=number)
    else:
        kinds = [s.kind for s in subjects.subjects() if s.search_key and s.search_key == kind]
        if not kinds:
            return None
        qs = qs.filter(subject_kind=kinds[0], subject_id=number).order_by("-pk")
    return qs.values_list("pk", flat=True).first()


def subject_payment(*, subject_kind: str, subject_id: int) -> dict | None:
    """How the money of one subject was paid, for the payee's own pages: the date, the amount
    and the account as its last 4 digits (``****1234``); ``None`` if nothing is paid. A re-payment
    after a reversal is the payment shown. The caller got the subject through its own scoped
    getter; nothing here is more than the payee may see."""
    paid = (Disbursement.objects.filter(subject_kind=subject_kind, subject_id=subject_id,
                                        status=DisbursementStatus.PAID)
            .select_related("member").order_by("-paid_at", "-pk").first())
    if paid is None:
        return None
    return {"paid_at": paid.paid_at, "amount": paid.amount,
            "account_tail": masking.bank_account_tail(paid.member.bank_account)}


def first_payment_dates(*, subject_kind: str, subject_ids) -> dict[int, object]:
    """subject id -> when its money was first paid, for the subjects ``subject_ids`` (a list or
    a ``values("…")`` subquery) that have a payment (for conversion figures)."""
    return dict(Disbursement.objects.filter(
        subject_kind=subject_kind, subject_id__in=subject_ids, paid_at__isnull=False)
        .values("subject_id").annotate(first=Min("paid_at")).values_list("subject_id", "first"))


TRACE_FOUND_MAX = 50  # the search lists this many payments; narrow it down for more


def trace_search(*, user, name: str = "", id_number: str = "", batch: int | None = None,
                 date_from=None, date_to=None) -> list[Disbursement]:
    """Payments in ``user``'s trace.view scope by the worker's name (prefix), full ID number
    (through its keyed hash: the number itself is never compared or stored), batch number
    and a range of the day the money was reserved or paid; newest first, at most
    ``TRACE_FOUND_MAX + 1`` (the caller says when there are more). Journaled, the ID number
    masked."""
    qs = Disbursement.objects.filter(
        access_for(user).scope_q("trace.view", unit_field="budget__org_unit",
                                 self_field="member_id"))
    if name:
        qs = qs.filter(prefix_q("member__name", name))
    if id_number:
        qs = qs.filter(member__id_number_hash=id_number_hash(id_number))
    if batch:
        qs = qs.filter(batch_id=batch)
    if date_from or date_to:
        reserved, paid = Q(), Q(paid_at__isnull=False)
        if date_from:
            reserved &= Q(reserved_at__date__gte=date_from)
            paid &= Q(paid_at__date__gte=date_from)
        if date_to:
            reserved &= Q(reserved_at__date__lte=date_to)
            paid &= Q(paid_at__date__lte=date_to)
        qs = qs.filter(reserved | paid)
    rows = list(qs.select_related("member__org_unit", "budget__org_unit",
                                  "budget__funding_source", "batch")
                .order_by("-pk")[: TRACE_FOUND_MAX + 1])
    _journal(user=user, action="funds.trace_search", target_id="",
             criteria={"name": masking.mask_name(name) if name else "",
                       "id_number": masking.mask_id_number(id_number) if id_number else "",
                       "batch": batch, "date_from": str(date_from or ""),
                       "date_to": str(date_to or "")},
             found=len(rows))
    return rows
