"""The assistance facts the statistics count (``stats.registry``): applications (帮扶申请) and
payments (帮扶资金发放).

* ``applications`` — every submitted application (drafts are not counted), in the month it was
  submitted, under its unit: cases; people; amount approved (decided and standing: approved,
  paid, payment reversed); amount paid (paid now); average days from submission to payment
  (applications paid now, to the payment's day).
* ``payments`` — every disbursement of an application that is paid now (a reversed one counts
  no more; its re-payment is a row of its own), in the month paid, under the application's
  unit: payments, people, amount paid. Its total is the net money paid out of the ledger for
  applications (Σ budgets' ``paid``).

Dimensions: category and item (by id, as the application list filters) and funding source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from unionaid.assistance.models import (
    Application,
    ApplicationStatus,
    AssistanceCategory,
    AssistanceItem,
)
from unionaid.assistance.services.applications import SUBJECT_KIND
from unionaid.funds.models import Disbursement, DisbursementStatus, FundingSource
from unionaid.stats.registry import Dimension, Fact, FactRow, Measure, register_fact

APPROVED = (ApplicationStatus.APPROVED, ApplicationStatus.PAID,
            ApplicationStatus.PAYMENT_REVERSED)
CHUNK = 2000


def _category_labels(values) -> dict[str, str]:
    ids = [int(v) for v in values if v.isdigit()]
    return {str(pk): name for pk, name in
            AssistanceCategory.objects.filter(pk__in=ids).values_list("pk", "name")}


def _item_labels(values) -> dict[str, str]:
    ids = [int(v) for v in values if v.isdigit()]
    return {str(pk): name for pk, name in
            AssistanceItem.objects.filter(pk__in=ids).values_list("pk", "name")}


def _source_labels(values) -> dict[str, str]:
    return dict(FundingSource.objects.filter(code__in=list(values)).values_list("code", "name"))


DIMENSIONS = (
    Dimension("category", _("帮扶类别"), _category_labels),
    Dimension("item", _("帮扶项目"), _item_labels),
    Dimension("funding_source", _("经费口径"), _source_labels),
)


def _chunks(qs) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(qs.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _list_url(params: dict) -> str | None:
    """The application list filtered as the figure is: by unit, category and item (the list
    has no month, sex … filter, so other figures link nowhere)."""
    if set(params) - {"org_unit", "category", "item"}:
        return None
    query = {"unit": params.get("org_unit"), "category": params.get("category"),
             "item": params.get("item")}
    return reverse("assistance:application-list") + "?" + urlencode(
        {k: v for k, v in query.items() if v})


# -- applications --------------------------------------------------------------------------------

def _paid_on(application_ids: list[int]) -> dict[int, dt.datetime]:
    return dict(Disbursement.objects.filter(
        subject_kind=SUBJECT_KIND, subject_id__in=application_ids,
        status=DisbursementStatus.PAID).values_list("subject_id", "paid_at"))


def application_rows(ids: list[int]) -> dict[int, list[FactRow]]:
    apps = (Application.objects.filter(pk__in=ids, submitted_at__isnull=False)
            .exclude(status=ApplicationStatus.DRAFT)
            .values("pk", "org_unit_id", "member_id", "submitted_at", "status", "amount",
                    "item_id", "item__category_id", "item__funding_source__code"))
    apps = list(apps)
    paid = _paid_on([a["pk"] for a in apps if a["status"] == ApplicationStatus.PAID])
    out: dict[int, list[FactRow]] = {}
    for a in apps:
        submitted = timezone.localdate(a["submitted_at"])
        values = {"n1": 1}
        if a["status"] in APPROVED:
            values["a1"] = a["amount"]
        paid_at = paid.get(a["pk"]) if a["status"] == ApplicationStatus.PAID else None
        if paid_at is not None:
            values["a2"] = a["amount"]
            values["n2"] = max((timezone.localdate(paid_at) - submitted).days, 0)
            values["n3"] = 1
        out[a["pk"]] = [FactRow(
            source_id=a["pk"], org_unit_id=a["org_unit_id"], on=submitted,
            member_id=a["member_id"], values=values,
            dims={"category": str(a["item__category_id"]), "item": str(a["item_id"]),
                  "funding_source": a["item__funding_source__code"]})]
    return out


def applications_changed(since: dt.datetime) -> list[int]:
    ids = set(Application.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    # a payment's day moves the days-to-payment figure
    ids |= set(Disbursement.objects.filter(subject_kind=SUBJECT_KIND).filter(
        Q(paid_at__gte=since) | Q(reversed_at__gte=since)).values_list("subject_id", flat=True))
    return sorted(ids)


APPLICATIONS = Fact(
    key="applications", label=_("帮扶申请"), dimensions=DIMENSIONS,
    measures=(
        Measure("cases", _("申请件数"), column="n1"),
        Measure("people", _("人数"), kind="people"),
        Measure("amount_approved", _("核准金额"), column="a1", money=True),
        Measure("amount_paid", _("已发放金额"), column="a2", money=True),
        Measure("average_days", _("申请至发放平均天数"), kind="average", column="n2",
                denominator="n3"),
    ),
    changed=applications_changed, rows=application_rows,
    all_ids=lambda: _chunks(Application.objects.all()), list_url=_list_url, order=10,
)


# -- payments ------------------------------------------------------------------------------------

def payment_rows(ids: list[int]) -> dict[int, list[FactRow]]:
    paid = list(Disbursement.objects.filter(
        pk__in=ids, subject_kind=SUBJECT_KIND, status=DisbursementStatus.PAID,
        paid_at__isnull=False).values("pk", "subject_id", "member_id", "amount", "paid_at",
                                      "budget__funding_source__code"))
    apps = {a["pk"]: a for a in Application.objects.filter(
        pk__in={d["subject_id"] for d in paid}).values("pk", "org_unit_id", "item_id",
                                                        "item__category_id")}
    out: dict[int, list[FactRow]] = {}
    for d in paid:
        app = apps.get(d["subject_id"])
        if app is None:
            continue
        out[d["pk"]] = [FactRow(
            source_id=d["pk"], org_unit_id=app["org_unit_id"],
            on=timezone.localdate(d["paid_at"]), member_id=d["member_id"],
            values={"n1": 1, "a1": d["amount"]},
            dims={"category": str(app["item__category_id"]), "item": str(app["item_id"]),
                  "funding_source": d["budget__funding_source__code"]})]
    return out


def payments_changed(since: dt.datetime) -> list[int]:
    return list(Disbursement.objects.filter(subject_kind=SUBJECT_KIND).filter(
        Q(reserved_at__gte=since) | Q(paid_at__gte=since) | Q(reversed_at__gte=since)
        | Q(released_at__gte=since) | Q(closed_at__gte=since)).values_list("pk", flat=True))


def _payment_list_url(params: dict) -> str | None:
    return None  # the per-payment list is the 帮扶资金发放台账 (ledgers), not a page yet


PAYMENTS = Fact(
    key="payments", label=_("帮扶资金发放"), dimensions=DIMENSIONS,
    measures=(
        Measure("payments", _("发放笔数"), column="n1"),
        Measure("people", _("人数"), kind="people"),
        Measure("amount_paid", _("发放金额"), column="a1", money=True),
    ),
    changed=payments_changed, rows=payment_rows,
    all_ids=lambda: _chunks(Disbursement.objects.filter(subject_kind=SUBJECT_KIND)),
    list_url=_payment_list_url, order=20,
)


def register() -> None:
    register_fact(APPLICATIONS)
    register_fact(PAYMENTS)
