"""Writes of the assistance app (the catalog and applications). See the submodules."""

from unionaid.assistance.services.applications import (
    SUBJECT_KIND,
    application_create_draft,
    application_precheck,
    application_resubmit,
    application_submit,
    application_update_draft,
    application_withdraw,
    attachment_add,
    attachment_remove,
    case_facts,
)
from unionaid.assistance.services.catalog import (
    annual_cap_save,
    calculate_amount,
    category_save,
    check_eligibility,
    item_save,
    items_by_fit,
)
from unionaid.assistance.services.outcomes import (
    application_case_approved,
    application_case_rejected,
    application_case_returned,
    application_mark_paid,
    disbursement_paid,
    disbursement_reversed,
)

__all__ = [
    "SUBJECT_KIND",
    "annual_cap_save",
    "application_case_approved",
    "application_case_rejected",
    "application_case_returned",
    "application_create_draft",
    "application_mark_paid",
    "application_precheck",
    "application_resubmit",
    "application_submit",
    "application_update_draft",
    "application_withdraw",
    "attachment_add",
    "attachment_remove",
    "calculate_amount",
    "case_facts",
    "category_save",
    "check_eligibility",
    "disbursement_paid",
    "disbursement_reversed",
    "item_save",
    "items_by_fit",
]
