"""Objections raised during a public notice (公示期异议) and their resolution.

An objection can be recorded only while the record's case (enrolment or exit) waits at a
public-notice step. Until every objection on the case is resolved, no step of it can be
approved (``before_approve`` in ``archive.approval_subject``); an objection found to be true
(``upheld``) means the case must be rejected.

Who: ``archive.manage`` over the record's unit, or whoever may decide the case's current task
(the notice step's post holder, who receives objections).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.approvals import assignees
from unionaid.approvals.models import ApprovalCase, ApprovalTask, CaseStatus, TaskStatus
from unionaid.archive.models import HardshipRecord, Objection, RecordStatus
from unionaid.archive.services.common import (
    ENROLMENT_KIND,
    EXIT_KIND,
    MANAGE,
    audit,
    lock_record_with_cases,
    require_manage,
)
from unionaid.audit.services import atomic_audited
from unionaid.core.errors import Conflict, ServiceError

MAX_CONTENT = 2000


def current_case(record: HardshipRecord) -> ApprovalCase | None:
    """The case in progress for the record: its enrolment while PENDING, its exit while
    EXITING."""
    kind = {RecordStatus.PENDING: ENROLMENT_KIND, RecordStatus.EXITING: EXIT_KIND}.get(
        record.status)
    if kind is None:
        return None
    return (ApprovalCase.objects.filter(subject_kind=kind, subject_id=record.pk,
                                        status=CaseStatus.IN_PROGRESS)
            .select_related("org_unit").first())


def current_task(case: ApprovalCase | None) -> ApprovalTask | None:
    if case is None:
        return None
    return (ApprovalTask.objects.filter(case=case, status=TaskStatus.PENDING,
                                        order=case.current_order)
            .select_related("step", "assigned_position__org_unit", "assigned_user").first())


def notice_task(record: HardshipRecord) -> ApprovalTask | None:
    """The pending public-notice task of the record's current case, if it is at one."""
    task = current_task(current_case(record))
    return task if task is not None and task.step.is_public_notice else None


def _require_handler(actor, record: HardshipRecord, task: ApprovalTask | None) -> None:
    if task is not None and not access_for(actor).covers_unit(MANAGE, record.org_unit) \
            and assignees.authority(actor, task) is not None:
        return
    require_manage(actor, record.org_unit)


@atomic_audited
def objection_record(*, actor, record: HardshipRecord, raised_by_label: str = "",
                     content: str) -> Objection:
    """Record an objection to the record's case during its public notice. The case is locked
    before the record, as the approval engine does (the objection row references the case),
    so an approval of the notice either sees this objection or comes first and refuses it."""
    record, _cases = lock_record_with_cases(record)
    task = notice_task(record)
    _require_handler(actor, record, task)
    content = (content or "").strip()
    if not content:
        raise ServiceError(_("请填写异议内容。"), code="validation_error",
                           fields={"content": _("请填写异议内容。")})
    if task is None:
        raise Conflict(_("只能在公示期内登记异议；该档案当前不在公示阶段。"), code="not_in_notice")
    objection = Objection.objects.create(
        record=record, case=task.case, raised_by_label=(raised_by_label or "").strip()[:60],
        content=content[:MAX_CONTENT], recorded_by=actor)
    # The journal keeps that an objection was made, not what it says (it may name people).
    audit(actor, "archive.objection_record", record, objection=objection.pk, case=task.case_id,
          step=task.step.name, length=len(content))
    return objection


@atomic_audited
def objection_resolve(*, actor, objection: Objection, upheld: bool, resolution: str
                      ) -> Objection:
    """Record what checking the objection found: upheld (异议成立: the case must be rejected)
    or not (the case may go on)."""
    objection = (Objection.objects.select_for_update(of=("self",))
                 .select_related("record__org_unit", "record__member", "case")
                 .get(pk=objection.pk))
    record = objection.record
    task = current_task(objection.case) if objection.case.status == CaseStatus.IN_PROGRESS \
        else None
    _require_handler(actor, record, task)
    resolution = (resolution or "").strip()
    if not resolution:
        raise ServiceError(_("请填写核实处理结果。"), code="validation_error",
                           fields={"resolution": _("请填写核实处理结果。")})
    if objection.resolved_at is not None:
        raise Conflict(_("该异议已处理。"), code="objection_resolved")
    objection.upheld = bool(upheld)
    objection.resolution = resolution[:MAX_CONTENT]
    objection.resolved_by, objection.resolved_at = actor, timezone.now()
    objection.save(update_fields=["upheld", "resolution", "resolved_by", "resolved_at"])
    audit(actor, "archive.objection_resolve", record, objection=objection.pk,
          case=objection.case_id, upheld=objection.upheld)
    return objection

