"""Reads of the assistance app. Applications and their materials are personal data: every query
goes through ``applications_visible_to`` (scope of ``assistance.view``; a worker sees only their
own). Out of scope looks exactly like "not found", and the attempt is journaled."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.assistance import caps, storage
from unionaid.assistance.facts import year_bounds
from unionaid.assistance.models import (
    AnnualCap,
    Application,
    ApplicationStatus,
    AssistanceCategory,
    AssistanceItem,
    Attachment,
)
from unionaid.assistance.services.catalog import calculate_amount, check_eligibility
from unionaid.audit.scoped import get_in_scope, parse_pk, scoped_getter
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, NotFound
from unionaid.members.selectors import identifier_q


def applications_visible_to(*, user, perm: str = "assistance.view") -> QuerySet[Application]:
    access = access_for(user)
    return (Application.objects
            .filter(access.scope_q(perm, unit_field="org_unit", self_field="member_id"))
            .select_related("member", "item__category", "org_unit"))


def application_list(*, user, status: str | None = None, item=None, unit=None,
                     query: str = "", identifiers: bool = False) -> QuerySet[Application]:
    """The applications ``user`` may see, newest first, with simple filters. ``query``: the
    member's name (start) or the item's name; with ``identifiers`` (a search that came in a
    POST body) also the member's full ID number or phone."""
    qs = applications_visible_to(user=user)
    if status:
        qs = qs.filter(status=status)
    if item is not None:
        qs = qs.filter(item=item)
    if unit is not None:
        qs = qs.filter(org_unit__path__startswith=unit.path)
    query = (query or "").strip()
    by_identifier = identifier_q(query, member_field="member") if identifiers else None
    if by_identifier is not None:
        qs = qs.filter(by_identifier)
    elif query:
        qs = qs.filter(Q(member__name__startswith=query) | Q(item__name__contains=query))
    return qs.order_by("-created_at", "-pk")


@scoped_getter
def application_get_for_user(*, user, pk, perm: str = "assistance.view") -> Application:
    return get_in_scope(
        user=user, pk=pk, perm=perm, self_field="member_id",
        queryset=(Application.objects
                  .select_related("member", "item__category", "org_unit",
                                  "item__funding_source", "filed_by", "case")
                  .prefetch_related("attachments")),
        target_type="assistance.application", log_read="member_id",
    )


def attachment_open_for_user(*, user, pk, thumbnail: bool = False):
    """(binary file handle, content type, download file name) of a material ``user`` may see.

    Staff reads are journaled (materials are ID cards, diagnoses, payslips); the worker reading
    their own is not. The caller closes the handle (e.g. FileResponse does).
    """
    attachment = get_in_scope(
        user=user, pk=pk, perm="assistance.view",
        queryset=Attachment.objects.select_related("application__org_unit"),
        scope=Q(application__in=applications_visible_to(user=user)),
        target_type="assistance.attachment",
    )
    path = attachment.thumbnail_path if thumbnail else attachment.storage_path
    if not path:
        raise NotFound()
    try:
        handle = storage.open_private(path)
    except (FileNotFoundError, OSError):
        raise NotFound() from None
    application = attachment.application
    if getattr(user, "member_id", None) != application.member_id:
        with transaction.atomic():
            audit_record(actor=user, action="attachment.view", target=application,
                         org_unit_path=application.org_unit.path,
                         changes={"attachment": attachment.pk, "thumbnail": thumbnail})
    content_type = "image/jpeg" if thumbnail else attachment.content_type
    extension = storage.ALLOWED.get(content_type, "bin")
    stem = attachment.original_name.rsplit(".", 1)[0] or attachment.material
    return handle, content_type, f"{stem}{'_thumb' if thumbnail else ''}.{extension}"


def catalog_items(*, include_inactive: bool = False, category=None,
                  query: str = "") -> QuerySet[AssistanceItem]:
    """The catalog for lists (hundreds of items: one query with its joins)."""
    qs = AssistanceItem.objects.select_related("category", "funding_source")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if category is not None:
        qs = qs.filter(category=category)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(name__contains=query) | Q(code__startswith=query.lower()))
    return qs.order_by("category__order", "category__code", "code")


def items_available_to(member, *, day=None) -> QuerySet[AssistanceItem]:
    """Items open for applications today (active, within validity). Eligibility is checked
    per application (it needs the facts the worker states)."""
    day = day or timezone.localdate()
    return (catalog_items()
            .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day))
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day)))


def item_estimate(*, item: AssistanceItem, member, facts: dict) -> dict:
    """What applying for ``item`` with ``facts`` would give ``member`` now, without writing:
    the amount after the yearly caps with its calculation lines, and the Chinese reasons why
    the member would be refused (eligibility, a cap used up). Invalid facts raise ServiceError."""
    amount, steps = calculate_amount(item=item, facts=facts)
    problems = check_eligibility(item=item, member=member, facts=facts)
    if amount > 0:
        try:
            amount, cap_steps = caps.apply_caps(application=Application(member=member, item=item),
                                                amount=amount, year=timezone.localdate().year)
            steps = [*steps, *cap_steps]
        except Conflict as exc:
            problems.append(exc.message)
            amount = Decimal("0.00")
    else:
        problems.append(_("按本项目标准计算的金额为 0 元，不符合申请条件。"))
    return {"amount": amount, "calculation": steps, "problems": problems,
            "eligible": not problems}


def item_get(*, pk) -> AssistanceItem:
    item = AssistanceItem.objects.select_related("category", "funding_source").filter(
        pk=parse_pk(pk)).first()
    if item is None:
        raise NotFound()
    return item


def item_by_code(code: str) -> AssistanceItem | None:
    """The catalog item of ``code`` (active or not), or None (for other domains' rules)."""
    return AssistanceItem.objects.filter(code=(code or "").strip()).first()


def paid_applications(*, ids) -> QuerySet[Application]:
    """Of the applications ``ids`` (a list or a ``values("…")`` subquery), the paid ones: for
    figures counted in the database (no scope: the caller's ids are in its user's scope)."""
    return Application.objects.filter(pk__in=ids, status=ApplicationStatus.PAID)


# -- the member page's summary ----------------------------------------------------------------

# Decided in the member's favour: approved, paid, or paid and reversed (the decision stands and
# the money may be paid again).
SUMMARY_GRANTED = (ApplicationStatus.APPROVED, ApplicationStatus.PAID,
                   ApplicationStatus.PAYMENT_REVERSED)
# Submitted and not decided yet (returned for material is still on its way).
SUMMARY_IN_REVIEW = (ApplicationStatus.IN_REVIEW, ApplicationStatus.RETURNED)
SUMMARY_ROWS = 5


def member_summary_for_user(*, user, member, year: int | None = None) -> dict | None:
    """The assistance part of the member page's 帮扶概况, for ``year`` (this year by default;
    an application belongs to the year it was submitted in, as for the yearly caps):

    ``granted_count``/``granted_total`` (approved or paid), ``in_review`` (open applications
    under review, whatever the year) and ``rows``: the newest of those applications (at most
    ``SUMMARY_ROWS``, ``more`` when there are others), each to be linked on its own.

    ``can_apply``: whether ``user`` may file on the member's behalf (代办, ``assistance.apply``
    over the member's unit), for the member page's 代办申请 button.

    ``None`` when ``user`` lacks ``assistance.view`` over the member (their unit, or the worker
    themself). Two queries, whatever the member's history."""
    access = access_for(user)
    if not (access.covers_unit("assistance.view", member.org_unit)
            or (access.member_id == member.pk and access.has_perm("assistance.view"))):
        return None
    year = year or timezone.localdate().year
    start, end = year_bounds(year)
    granted = Q(status__in=SUMMARY_GRANTED, submitted_at__gte=start, submitted_at__lt=end)
    in_review = Q(status__in=SUMMARY_IN_REVIEW)
    mine = applications_visible_to(user=user).filter(member_id=member.pk)
    totals = mine.order_by().aggregate(
        granted_count=Count("pk", filter=granted), granted_total=Sum("amount", filter=granted),
        in_review=Count("pk", filter=in_review))
    rows = list(mine.filter(granted | in_review)
                .order_by("-submitted_at", "-pk")[:SUMMARY_ROWS + 1])
    return {"year": year, "granted_count": totals["granted_count"],
            "granted_total": totals["granted_total"] or Decimal("0"),
            "in_review": totals["in_review"], "rows": rows[:SUMMARY_ROWS],
            "more": len(rows) > SUMMARY_ROWS,
            "can_apply": access.covers_unit("assistance.apply", member.org_unit)}


def annual_cap_overview(*, day: dt.date | None = None) -> dict:
    """The yearly caps across items for the cap page: for each scope (all items, then each
    category) the version in force on ``day`` and the versions scheduled after it, and the
    whole history, newest first (one query each)."""
    day = day or timezone.localdate()
    versions = list(AnnualCap.objects.select_related("category", "created_by")
                    .order_by("-effective_from", "category_id"))
    scopes = [None, *AssistanceCategory.objects.order_by("order", "code")]
    rows = []
    for category in scopes:
        mine = [v for v in versions if v.category_id == (category.pk if category else None)]
        current = next((v for v in mine if v.effective_from <= day), None)
        if current is not None and current.per_person is None and current.per_household is None:
            current = None
        rows.append({"category": category, "current": current,
                     "scheduled": sorted((v for v in mine if v.effective_from > day),
                                         key=lambda v: v.effective_from)})
    return {"rows": rows, "history": versions}
