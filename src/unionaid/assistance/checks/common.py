"""What the assistance checks share: the paid applications (one row per payment), the item's
largest amount for one case, membership status over time (from the journal), references."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from unionaid.assistance.models import Application, AssistanceItem
from unionaid.assistance.services.applications import SUBJECT_KIND
from unionaid.audit.models import AuditEvent
from unionaid.checks.registry import Ref
from unionaid.core import masking
from unionaid.funds.models import Disbursement, DisbursementStatus


def paths_q(paths: list[str] | None, field: str = "org_unit") -> Q:
    """Records whose unit (``field``) is inside one of the subtrees ``paths`` (None = all)."""
    if paths is None:
        return Q()
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__path__startswith": path})
    return q


@dataclass(frozen=True)
class Paid:
    """One paid disbursement of an application, with what the checks need about it."""

    disbursement_id: int
    amount: Decimal
    paid_at: dt.datetime
    batch_id: int | None
    application: Application


def paid_rows(*, paths: list[str] | None) -> list[Paid]:
    """Every paid disbursement (status paid) of an application whose unit is under ``paths``,
    oldest payment first. Two queries (applications, then their payments)."""
    payments = Disbursement.objects.filter(subject_kind=SUBJECT_KIND,
                                           status=DisbursementStatus.PAID, paid_at__isnull=False)
    in_scope = Application.objects.filter(paths_q(paths))
    apps = {a.pk: a for a in in_scope.filter(pk__in=payments.values("subject_id"))
            .select_related("member__org_unit", "item__category", "org_unit")}
    return [Paid(disbursement_id=d.pk, amount=d.amount, paid_at=d.paid_at, batch_id=d.batch_id,
                 application=apps[d.subject_id])
            for d in payments.filter(subject_id__in=in_scope.values("pk")).order_by("paid_at", "pk")
            if d.subject_id in apps]


def item_max(item: AssistanceItem) -> Decimal | None:
    """The most one case of ``item`` can get by its amount rule (the fixed amount, the
    ceiling, the table's largest row); None when the rule has no upper bound."""
    rule = item.amount_rule or {}
    kind = rule.get("kind")
    try:
        if kind == "fixed":
            return Decimal(str(rule["amount"]))
        if kind == "table" and rule.get("rows"):
            return max(Decimal(str(v)) for v in rule["rows"].values())
        if rule.get("ceiling") is not None:
            return Decimal(str(rule["ceiling"]))
    except (KeyError, ArithmeticError, ValueError):
        return None
    return None


def who(member) -> str:
    return masking.mask_name(member.name)


def yuan(amount) -> str:
    return f"{Decimal(amount):,.2f}"


def local(when: dt.datetime | None) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M") if when else "—"


def member_ref(member) -> Ref:
    return Ref("members.member", member.pk, who(member),
               reverse("members:member-detail", args=[member.pk]))


def payment_ref(disbursement_id: int) -> Ref:
    return Ref("funds.disbursement", disbursement_id, f"发放#{disbursement_id}",
               reverse("funds:trace-detail", args=[disbursement_id]))


def application_ref(app: Application) -> Ref:
    return Ref("assistance.application", app.pk, f"申请#{app.pk} · {app.item.name}")


def status_history(member_ids) -> dict[int, list[tuple[dt.datetime, str, str]]]:
    """member id -> the membership-status changes the journal holds for them, oldest first:
    (when, before, after)."""
    history: dict[int, list] = {}
    events = (AuditEvent.objects.filter(action="member.update", target_type="members.member",
                                        target_id__in=[str(m) for m in member_ids])
              .order_by("occurred_at", "pk").values_list("target_id", "occurred_at", "changes"))
    for target, when, changes in events:
        change = (changes or {}).get("membership_status")
        if isinstance(change, dict):
            history.setdefault(int(target), []).append(
                (when, change.get("before"), change.get("after")))
    return history


def status_at(member, history: list[tuple[dt.datetime, str, str]], when: dt.datetime) -> str:
    """The member's membership status at ``when``: the last change before it, else the status
    before the first change after it, else the status they have now."""
    before = [after for at, _b, after in history if at <= when]
    if before:
        return before[-1]
    later = [b for at, b, _a in history if at > when]
    return later[0] if later else member.membership_status


def status_since(member, history: list[tuple[dt.datetime, str, str]]) -> dt.datetime:
    """Since when the member has had their current status: the journal's last change to it,
    else since the record was made."""
    changes = [at for at, _b, after in history if after == member.membership_status]
    return changes[-1] if changes else member.created_at
