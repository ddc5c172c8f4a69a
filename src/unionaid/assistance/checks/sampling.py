"""The cases a sample may draw from: paid applications (one case per application, its latest
payment), for the auditor's sampling (``checks.services.sample_draw``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from unionaid.assistance.checks.common import paid_rows, who
from unionaid.assistance.models import AssistanceItem
from unionaid.assistance.services.applications import SUBJECT_KIND
from unionaid.checks.registry import Case


def paid_cases(*, paths, date_from=None, date_to=None, min_amount=None, item=None) -> list[Case]:
    """Paid applications under ``paths`` whose payment fell in the period, of at least
    ``min_amount`` and of the item code ``item`` when given, by application id."""
    latest = {}
    for row in paid_rows(paths=paths):
        day = timezone.localdate(row.paid_at)
        if (date_from and day < date_from) or (date_to and day > date_to):
            continue
        if item and row.application.item.code != item:
            continue
        latest[row.application.pk] = row
    cases = []
    for app_id in sorted(latest):
        row = latest[app_id]
        total = row.amount
        if min_amount is not None and total < min_amount:
            continue
        app = row.application
        cases.append(Case(subject_kind=SUBJECT_KIND, subject_id=app.pk,
                          unit_path=app.org_unit.path, member_id=app.member_id,
                          label=f"申请#{app.pk} · {who(app.member)} · {app.item.name}",
                          amount=total,
                          url=reverse("funds:trace-detail", args=[row.disbursement_id])))
    return cases


def item_choices() -> list[tuple[str, str]]:
    return list(AssistanceItem.objects.order_by("code").values_list("code", "name"))
