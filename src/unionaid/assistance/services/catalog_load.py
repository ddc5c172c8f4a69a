"""Load the default catalog (``catalog_data``). Idempotent: what exists is left as the union
edited it, unless ``update`` asks to restore the defaults."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from unionaid.assistance import catalog_data
from unionaid.assistance.models import AnnualCap, AssistanceCategory, AssistanceItem
from unionaid.assistance.services.catalog import (
    annual_cap_save,
    category_save,
    item_save,
    require_catalog,
)
from unionaid.audit.services import audit_record
from unionaid.funds.models import FundingSource
from unionaid.funds.services import funding_source_save

FIRST_CAPS_FROM = dt.date(2000, 1, 1)


def _funding_source(*, actor, code: str, name: str):
    source = FundingSource.objects.filter(code=code).first()
    if source is not None:
        return source
    if actor is not None:
        return funding_source_save(actor=actor, code=code, name=name)
    # The system itself (the load_catalog command run by an operator): no user to check.
    source = FundingSource.objects.create(code=code, name=name)
    audit_record(actor=None, action="funds.source_create", target=source,
                 changes={"code": code, "name": name, "by": "load_catalog"})
    return source


@transaction.atomic
def catalog_load_defaults(*, actor=None, update: bool = False) -> dict[str, int]:
    """Create the default categories, funding sources, items and yearly caps that are missing.
    Returns counts: created, updated, unchanged items."""
    require_catalog(actor)
    categories = {}
    for row in catalog_data.CATEGORIES:
        category = AssistanceCategory.objects.filter(code=row["code"]).first()
        if category is None or update:
            category = category_save(actor=actor, category=category, **row)
        categories[row["code"]] = category
    sources = {row["code"]: _funding_source(actor=actor, **row)
               for row in catalog_data.FUNDING_SOURCES}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = {i.code: i for i in AssistanceItem.objects.filter(
        code__in=[row["code"] for row in catalog_data.ITEMS])}
    for row in catalog_data.ITEMS:
        item = existing.get(row["code"])
        if item is not None and not update:
            counts["unchanged"] += 1
            continue
        fields = {**row, "category": categories[row["category"]],
                  "funding_source": sources[row["funding_source"]]}
        item_save(actor=actor, item=item, **fields)
        counts["updated" if item else "created"] += 1
    if not AnnualCap.objects.exists():
        for row in catalog_data.ANNUAL_CAPS:
            category = categories[row["category"]] if row["category"] else None
            # The first caps of a new catalog: in force from the start (nothing was decided
            # before them), so checks of any date see them.
            annual_cap_save(actor=actor, category=category, per_person=row["per_person"],
                            per_household=row["per_household"], effective_from=FIRST_CAPS_FROM,
                            initial=True)
    return counts
