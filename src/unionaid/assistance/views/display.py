"""What an application's pages show (the application page and an approver's task page): its
facts in words, the amount with its calculation, the materials, the approval timeline and the
money. Reads only, through the selectors of assistance, approvals and funds."""

from __future__ import annotations

from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.approvals.models import ApprovalCase, TaskStatus
from unionaid.approvals.selectors import case_timeline
from unionaid.assistance.models import Application
from unionaid.assistance.selectors import applications_visible_to
from unionaid.assistance.services.applications import SUBJECT_KIND
from unionaid.funds.selectors import FUNDS_PERMS, disbursements_visible_to


def fact_rows(definitions, values: dict) -> list[tuple[str, str]]:
    """(label, value in words) for each fact the item asks for, in the item's order."""
    rows = []
    for fact in definitions or []:
        value = (values or {}).get(fact["name"])
        if fact.get("type") == "bool":
            text = _("是") if value else _("否")
        elif value in (None, ""):
            text = "—"
        elif fact.get("type") == "money":
            text = _("%(v)s 元") % {"v": value}
        else:
            text = str(value)
        rows.append((fact.get("label") or fact["name"], text))
    return rows


def material_rows(item, attachments) -> list[dict]:
    """The item's materials with the files uploaded for each; extra files come last."""
    by_material: dict[str, list] = {}
    for attachment in attachments:
        by_material.setdefault(attachment.material, []).append(attachment)
    rows = []
    for entry in item.required_materials or []:
        entry = entry if isinstance(entry, dict) else {"name": entry, "required": True}
        rows.append({"name": entry["name"], "required": entry.get("required", True),
                     "files": by_material.pop(entry["name"], [])})
    for name, files in by_material.items():
        rows.append({"name": name, "required": False, "files": files})
    return rows


def _disbursement(user, application):
    access = access_for(user)
    if not any(access.has_perm(p) for p in FUNDS_PERMS):
        return None
    # The newest: after a reversal and re-payment (重新发放), the one that pays now.
    return (disbursements_visible_to(user=user)
            .filter(subject_kind=SUBJECT_KIND, subject_id=application.pk)
            .order_by("-pk").first())


def application_for_case(*, user, case):
    """(application, materials visible?) for an approver's task page. The caller got ``case``
    through ``task_get_for_user``, so the user may decide or view it; a named approver (节点到人)
    outside the ``assistance.view`` scope still sees the facts they decide on, not the files."""
    related = ("member", "item__category", "item__funding_source", "org_unit", "case")
    visible = (applications_visible_to(user=user).select_related(*related)
               .prefetch_related("attachments").filter(pk=case.subject_id).first())
    if visible is not None:
        return visible, True
    application = (Application.objects.select_related(*related).prefetch_related("attachments")
                   .filter(pk=case.subject_id).first())
    return application, False


def task_panel(*, user, case) -> tuple[str, dict] | None:
    """An approver's task page shows the application (the approval engine calls this through
    the subject assistance registers): templates/assistance/_application_panels.html with its
    context, or None when the application is gone (the page shows the case's facts)."""
    application, materials_visible = application_for_case(user=user, case=case)
    if application is None:
        return None
    panels = application_panels(user=user, application=application)
    panels.pop("timeline")  # the task page shows the timeline of the task's own case
    return "assistance/_application_panels.html", {
        **panels, "application": application, "materials_visible": materials_visible}


def application_panels(*, user, application) -> dict:
    """Context for templates/assistance/_application_panels.html."""
    case = application.case
    # the applicant (a staff user looking at their own case) sees approvers' posts, not names
    timeline = case_timeline(case=case, include_upcoming=True, viewer=user) if case else []
    earlier = []  # rounds before a "return for more material" and resubmission
    if case is not None:
        earlier = [{"case": old, "timeline": case_timeline(case=old, viewer=user)} for old in
                   ApprovalCase.objects.filter(subject_kind=SUBJECT_KIND,
                                               subject_id=application.pk)
                   .exclude(pk=case.pk).order_by("started_at", "pk")]
    pending = next((row for row in timeline if row["status"] == TaskStatus.PENDING), None)
    attachments = sorted(application.attachments.all(), key=lambda a: a.pk)
    return {
        "item": application.item,
        "member": application.member,
        "fact_rows": fact_rows(application.item.facts, application.facts),
        "material_rows": material_rows(application.item, attachments),
        "case": case,
        "timeline": timeline,
        "earlier_rounds": earlier,
        "pending_task_id": pending["task_id"] if pending else None,
        "disbursement": _disbursement(user, application),
        "can_trace": access_for(user).has_perm("trace.view"),
        "materials_visible": True,
    }
