"""Reads for the worker's own pages. Everything starts from the assistance selectors (scope of
``assistance.view``: a worker's self-only grant) and is then narrowed to the user's own member
record, so a staff user who is also a member sees only their own applications here too."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from unionaid.approvals.models import ApprovalCase, ApprovalTask, SkipKind, TaskStatus
from unionaid.approvals.selectors import case_timeline
from unionaid.assistance.amounts import yuan
from unionaid.assistance.models import Application, ApplicationStatus, AssistanceItem, Attachment
from unionaid.assistance.selectors import (
    application_get_for_user,
    applications_visible_to,
    items_available_to,
)
from unionaid.assistance.services import SUBJECT_KIND
from unionaid.assistance.services.catalog import OTHER_MATERIAL
from unionaid.audit.scoped import get_in_scope, parse_pk
from unionaid.core.errors import NotFound
from unionaid.funds.selectors import subject_payment

# How each timeline row looks on the phone (CSS class suffix and icon).
STATES = {
    TaskStatus.APPROVED: ("done", "bi-check-circle-fill"),
    TaskStatus.PENDING: ("current", "bi-hourglass-split"),
    TaskStatus.SKIPPED: ("skipped", "bi-skip-forward-circle"),
    TaskStatus.RETURNED: ("returned", "bi-arrow-return-left"),
    TaskStatus.REJECTED: ("rejected", "bi-x-circle-fill"),
    TaskStatus.CANCELLED: ("cancelled", "bi-slash-circle"),
    "upcoming": ("upcoming", "bi-circle"),
}


def _member_id(user) -> int:
    member_id = getattr(user, "member_id", None)
    if not member_id:
        raise NotFound()
    return member_id


def my_applications(*, user) -> QuerySet[Application]:
    """The user's own applications, newest first."""
    return (applications_visible_to(user=user).filter(member_id=_member_id(user))
            .order_by("-created_at", "-pk"))


def my_application_get(*, user, pk) -> Application:
    """One of the user's own applications, or NotFound (another worker's id is journaled)."""
    member_id = _member_id(user)
    application = application_get_for_user(user=user, pk=pk)
    if application.member_id != member_id:
        raise NotFound()
    return application


def my_items(*, user) -> QuerySet[AssistanceItem]:
    """Items the user may apply for today, in catalog order (category, code)."""
    _member_id(user)
    return items_available_to(user.member)


def my_item_get(*, user, pk) -> AssistanceItem:
    item = my_items(user=user).filter(pk=parse_pk(pk)).first()
    if item is None:
        raise NotFound()
    return item


def my_attachment_get(*, user, pk) -> Attachment:
    """A material of one of the user's own applications (for removal from a draft)."""
    return get_in_scope(
        user=user, pk=pk, perm="portal.attachment",
        queryset=Attachment.objects.select_related("application"),
        scope=Q(application__in=my_applications(user=user)), target_type="assistance.attachment",
    )


def materials(item: AssistanceItem) -> list[dict]:
    """The item's materials as ``{"name", "required"}`` (the catalog allows plain names)."""
    return [m if isinstance(m, dict) else {"name": m, "required": True}
            for m in item.required_materials or []]


def material_choices(item: AssistanceItem) -> list[str]:
    return [m["name"] for m in materials(item)] + [OTHER_MATERIAL]


def material_checklist(application: Application) -> list[dict]:
    """Each material the item asks for, with the files uploaded for it."""
    files: dict[str, list[Attachment]] = {}
    for attachment in application.attachments.all():
        files.setdefault(attachment.material, []).append(attachment)
    rows = [{**m, "files": files.pop(m["name"], [])} for m in materials(application.item)]
    rows += [{"name": name, "required": False, "files": found} for name, found in files.items()]
    return rows


def next_material(checklist: list[dict], last: str = "") -> str:
    """The material the upload form offers: the next required one still missing, then an
    optional one, else the one just uploaded — never back to the top after each upload."""
    missing = [row for row in checklist if not row["files"]]
    ordered = [r for r in missing if r["required"]] + [r for r in missing if not r["required"]]
    return ordered[0]["name"] if ordered else last


def facts_display(application: Application) -> list[tuple[str, str]]:
    """(label, value as shown) of each fact the item asks for, in the item's order."""
    rows = []
    for fact in application.item.facts or []:
        value = (application.facts or {}).get(fact["name"])
        if value is None or value == "":
            shown = "—"
        elif fact["type"] == "bool":
            shown = _("是") if value else _("否")
        elif fact["type"] == "money":
            shown = _("%(amount)s 元") % {"amount": yuan(value)}
        else:
            shown = str(value)
        rows.append((fact["label"], shown))
    return rows


def _pending_post_labels(task_ids: list[int]) -> dict[int, str]:
    """Whom a pending task waits for, as a post only ("甲车务段·帮扶干事"): a worker is not
    told the name of a named approver (节点到人), only the post they approve in."""
    labels = {}
    tasks = (ApprovalTask.objects.filter(pk__in=task_ids)
             .select_related("assigned_position__org_unit", "step__user_position__org_unit"))
    for task in tasks:
        if task.assigned_position_id:
            labels[task.pk] = str(task.assigned_position)
        elif task.step.user_position_id:
            labels[task.pk] = str(task.step.user_position)
        else:
            labels[task.pk] = _("指定审批人")
    return labels


def timeline(case: ApprovalCase) -> list[dict]:
    """The "进度查询" of one case: every step in order with its state, when, as which post,
    the comment or skip reason; the current step marked "办理中"; steps to come "未开始" —
    except those the approval engine will skip on the case's facts (``will_skip``): the worker
    is not told of a review that will not happen."""
    rows = [row for row in case_timeline(case=case, include_upcoming=True)
            if not row["will_skip"]]
    pending = [r["task_id"] for r in rows if r["status"] == TaskStatus.PENDING]
    posts = _pending_post_labels(pending) if pending else {}
    out = []
    for row in rows:
        state, icon = STATES.get(row["status"], ("upcoming", "bi-circle"))
        label = row["status_label"]
        post = row["decided_as"]
        comment = row["comment"]
        if row["status"] == TaskStatus.PENDING:
            label, post = _("办理中"), posts.get(row["task_id"], "")
        elif row["status"] == TaskStatus.SKIPPED and row["skip_kind"] in SkipKind.values:
            # The kind of skip, not the rule text ("amount <= 2000") meant for admins.
            comment = str(SkipKind(row["skip_kind"]).label)
        out.append({
            "order": row["order"], "step": row["step"], "state": state, "icon": icon,
            "label": label, "post": post, "at": row["decided_at"],
            "comment": comment, "since": row["created_at"] if state == "current" else None,
            "due_at": row["due_at"] if state == "current" else None,
            "is_overdue": row["is_overdue"],
        })
    return out


def application_rounds(application: Application) -> list[dict]:
    """Every approval round of the application (a returned one is resubmitted on a new case),
    newest first, each with its timeline."""
    cases = list(ApprovalCase.objects.filter(subject_kind=SUBJECT_KIND,
                                             subject_id=application.pk)
                 .select_related("flow_version").order_by("-started_at", "-pk"))
    return [{"case": case, "number": len(cases) - i, "steps": timeline(case)}
            for i, case in enumerate(cases)]


def return_comment(application: Application) -> str:
    """The comment of the step that returned the application for more material."""
    if not application.case_id:
        return ""
    task = (ApprovalTask.objects.filter(case_id=application.case_id,
                                        status=TaskStatus.RETURNED)
            .order_by("-decided_at", "-pk").first())
    return task.comment if task else ""


def payment(application: Application) -> dict | None:
    """When and to which account (its last 4 digits) the application's money was paid, as the
    funds ledger knows it; None until it is paid."""
    if application.status != ApplicationStatus.PAID:
        return None
    return subject_payment(subject_kind=SUBJECT_KIND, subject_id=application.pk)
