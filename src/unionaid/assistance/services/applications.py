"""Applications (帮扶申请): drafts, materials, submit, withdraw, resubmit after a return.

A worker files for themself (``on_behalf`` False); a cadre files on a worker's behalf (代办,
``on_behalf`` True) only for members in their ``assistance.apply`` scope. Submitting runs every
check (duplicate, eligibility, materials, amount, yearly caps) and starts the approval case.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.approvals import services as approval_services
from unionaid.approvals.models import CaseStatus
from unionaid.assistance import amounts, caps, storage
from unionaid.assistance import facts as factlib
from unionaid.assistance.models import (
    ENDED_STATUSES,
    Application,
    ApplicationStatus,
    AssistanceItem,
    Attachment,
)
from unionaid.assistance.services.catalog import OTHER_MATERIAL, check_eligibility
from unionaid.assistance.services.notify import notify_member
from unionaid.audit.services import atomic_audited, audit_record
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.members.models import Member

SUBJECT_KIND = "assistance.application"
MAX_ATTACHMENTS = 30
EDITABLE = (ApplicationStatus.DRAFT, ApplicationStatus.RETURNED)
WITHDRAWABLE = (ApplicationStatus.DRAFT, ApplicationStatus.IN_REVIEW, ApplicationStatus.RETURNED)


def _is_self(actor, member_id: int) -> bool:
    return actor is not None and getattr(actor, "member_id", None) == member_id


def _filing_as(actor, member) -> bool:
    """True when ``actor`` files on the member's behalf, False for themself; else refuse."""
    if _is_self(actor, member.pk):
        return False
    access = access_for(actor)
    if access.covers_unit("assistance.apply", member.org_unit):
        return True
    if access.covers_unit("members.view", member.org_unit):
        raise PermissionDenied(_("您无权为该职工代办帮扶申请。"))
    raise NotFound()


def _require_editor(actor, application: Application) -> None:
    if _is_self(actor, application.member_id):
        return
    if access_for(actor).covers_unit("assistance.apply", application.org_unit):
        return
    raise NotFound()


def _lock(application: Application) -> Application:
    return (Application.objects.select_for_update(of=("self",))
            .select_related("item__category", "member__org_unit", "org_unit")
            .get(pk=application.pk))


def item_open_on(item: AssistanceItem, day: dt.date) -> bool:
    return (item.is_active and (item.valid_from is None or item.valid_from <= day)
            and (item.valid_to is None or day <= item.valid_to))


def _require_open(item: AssistanceItem) -> None:
    if not item_open_on(item, timezone.localdate()):
        raise ServiceError(_("帮扶项目“%(item)s”当前不受理申请。") % {"item": item.name},
                           code="item_closed")


def _period(item: AssistanceItem, period) -> str:
    today = timezone.localdate()
    text = str(period or "").strip()
    if item.period_kind == "year":
        text = text or str(today.year)
        if not (text.isdigit() and abs(int(text) - today.year) <= 1):
            raise ServiceError(_("申请年度须为上一年、今年或下一年。"), code="invalid_period",
                               fields={"period": _("申请年度不正确。")})
        return text
    text = text or today.isoformat()
    if len(text) > 20:
        raise ServiceError(_("申请事项标识不能超过 20 个字符。"), code="invalid_period",
                           fields={"period": _("申请事项标识过长。")})
    return text


def _duplicate_error(item: AssistanceItem, period: str) -> Conflict:
    return Conflict(_("该职工已有“%(item)s”（%(period)s）的申请，不能重复申请。")
                    % {"item": item.name, "period": period}, code="duplicate_application")


def _audit(actor, action: str, application: Application, **changes) -> None:
    audit_record(actor=actor, action=action, target=application,
                 org_unit_path=application.org_unit.path, changes=changes)


@transaction.atomic
def application_create_draft(*, actor, member, item: AssistanceItem, facts: dict | None = None,
                             reason: str = "", period: str | None = None) -> Application:
    on_behalf = _filing_as(actor, member)
    _require_open(item)
    period = _period(item, period)
    clean = factlib.clean_facts(item.facts, facts, require_all=False)
    live = Application.objects.filter(member=member, item=item, period=period).exclude(
        status__in=ENDED_STATUSES)
    if live.exists():
        raise _duplicate_error(item, period)
    application = Application(member=member, item=item, org_unit=member.org_unit, period=period,
                              filed_by=actor, on_behalf=on_behalf, facts=clean,
                              reason=(reason or "").strip()[:2000])
    try:
        with transaction.atomic():
            application.save(force_insert=True)
    except IntegrityError:
        raise _duplicate_error(item, period) from None
    _audit(actor, "application.create", application, item=item.code, period=period,
           on_behalf=on_behalf, facts=sorted(clean))
    return application


@transaction.atomic
def application_update_draft(*, actor, application: Application, facts: dict | None = None,
                             reason: str | None = None) -> Application:
    application = _lock(application)
    _require_editor(actor, application)
    if application.status not in EDITABLE:
        raise Conflict(_("只有草稿或退回补充材料的申请可以修改。"), code="not_editable")
    changed = []
    if facts is not None:
        clean = factlib.clean_facts(application.item.facts, facts, require_all=False)
        changed += [k for k in set(clean) | set(application.facts)
                    if clean.get(k) != application.facts.get(k)]
        application.facts = clean
    if reason is not None:
        if reason.strip() != application.reason:
            changed.append("reason")
        application.reason = reason.strip()[:2000]
    application.save(update_fields=["facts", "reason", "updated_at"])
    _audit(actor, "application.update", application, fields=sorted(changed))
    return application


def _materials(item: AssistanceItem) -> list[dict]:
    return [m if isinstance(m, dict) else {"name": m, "required": True}
            for m in item.required_materials or []]


@transaction.atomic
def attachment_add(*, actor, application: Application, material: str,
                   uploaded_file) -> Attachment:
    """Check, clean (EXIF stripped) and store one document for a draft or returned application."""
    application = _lock(application)
    _require_editor(actor, application)
    if application.status not in EDITABLE:
        raise Conflict(_("只有草稿或退回补充材料的申请可以上传材料。"), code="not_editable")
    material = (material or "").strip()
    allowed = {m["name"] for m in _materials(application.item)} | {OTHER_MATERIAL}
    if material not in allowed:
        raise ServiceError(_("请选择材料类别：%(names)s。") % {"names": "、".join(sorted(allowed))},
                           code="invalid_material", fields={"material": _("材料类别无效。")})
    if application.attachments.count() >= MAX_ATTACHMENTS:
        raise Conflict(_("每份申请最多上传 %(n)s 个文件。") % {"n": MAX_ATTACHMENTS},
                       code="too_many_attachments")
    # The files are tied to this transaction: they are deleted if it (or the caller's
    # transaction around it, even after this returned) rolls back.
    stored = storage.store_upload(uploaded_file)
    attachment = Attachment.objects.create(
        application=application, material=material, original_name=stored.original_name,
        storage_path=stored.storage_path, thumbnail_path=stored.thumbnail_path,
        content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
        uploaded_by=actor,
    )
    _audit(actor, "attachment.add", application, attachment=attachment.pk,
           material=material, content_type=stored.content_type, size=stored.size,
           sha256=stored.sha256)
    return attachment


@transaction.atomic
def attachment_remove(*, actor, attachment: Attachment) -> None:
    application = _lock(attachment.application)
    _require_editor(actor, application)
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict(_("只有草稿中的材料可以删除；退回补充时请上传新材料。"), code="not_editable")
    paths = (attachment.storage_path, attachment.thumbnail_path)
    _audit(actor, "attachment.remove", application, attachment=attachment.pk,
           material=attachment.material, sha256=attachment.sha256)
    attachment.delete()
    transaction.on_commit(lambda: storage.delete_private(*paths))


def _missing_materials(application: Application) -> list[str]:
    present = set(application.attachments.values_list("material", flat=True))
    return [m["name"] for m in _materials(application.item)
            if m.get("required", True) and m["name"] not in present]


def evaluate(application: Application, *, require_all: bool = True) -> dict:
    """Every check of a submit, without writing: facts, duplicate, eligibility, materials,
    amount with its calculation and the yearly caps. ``problems`` are Chinese messages."""
    item, member = application.item, application.member
    problems: list[str] = []
    result = {"amount": Decimal("0.00"), "calculation": [], "problems": problems,
              "facts": application.facts, "codes": []}
    try:
        clean = factlib.clean_facts(item.facts, application.facts, require_all=require_all)
    except ServiceError as exc:
        return {**result, "problems": [exc.message], "codes": [exc.code], "error": exc}
    result["facts"] = clean
    checks: list[tuple[str, list[str]]] = []
    live = Application.objects.filter(member_id=member.pk, item_id=item.pk,
                                      period=application.period).exclude(pk=application.pk)
    if live.exclude(status__in=ENDED_STATUSES).exists():
        checks.append(("duplicate_application", [_duplicate_error(item, application.period).message]))
    checks.append(("not_eligible", check_eligibility(item=item, member=member, facts=clean)))
    missing = _missing_materials(application)
    if missing:
        checks.append(("materials_missing",
                       [_("请上传以下材料：%(names)s。") % {"names": "、".join(missing)}]))
    for code, messages in checks:
        if messages:
            problems.extend(messages)
            result["codes"].append(code)
    try:
        amount, steps = amounts.calculate(item.amount_rule, factlib.rule_values(item.facts, clean),
                                          item.facts)
        if amount <= 0:
            problems.append(_("按本项目标准计算的金额为 0 元，不符合申请条件。"))
            result["codes"].append("amount_zero")
        else:
            amount, cap_steps = caps.apply_caps(application=application, amount=amount,
                                                year=timezone.localdate().year)
            steps += cap_steps
            steps.append(_("核定金额：%(amount)s 元。") % {"amount": amounts.yuan(amount)})
        result.update(amount=amount, calculation=steps)
    except ServiceError as exc:
        problems.append(exc.message)
        result["codes"].append(exc.code)
    return result


def application_precheck(*, application: Application) -> dict:
    """What submitting now would give (amount, calculation) or refuse (problems); no writes."""
    return evaluate(application, require_all=True)


def _raise_first(result: dict) -> None:
    if "error" in result:
        raise result["error"]
    if not result["problems"]:
        return
    code = result["codes"][0]
    message = "；".join(p.rstrip("。；") for p in result["problems"]) + "。"
    if code in ("duplicate_application", "cap_reached"):
        raise Conflict(message, code=code)
    raise ServiceError(message, code=code, fields={"__all__": result["problems"]})


def _start_case(*, actor, application: Application, action: str) -> Application:
    # One submit at a time per member, so two of their applications cannot both pass a cap.
    list(Member.objects.select_for_update().filter(pk=application.member_id).values_list("pk"))
    result = evaluate(application, require_all=True)
    _raise_first(result)
    application.facts = result["facts"]
    application.amount = result["amount"]
    application.calculation = result["calculation"]
    application.org_unit = application.member.org_unit
    application.status = ApplicationStatus.IN_REVIEW
    application.submitted_at = timezone.now()
    application.decided_at = None
    application.save(update_fields=["facts", "reason", "amount", "calculation", "org_unit",
                                    "status", "submitted_at", "decided_at", "updated_at"])
    _audit(actor, action, application, item=application.item.code,
           amount=str(application.amount), on_behalf=application.on_behalf,
           fast_track=application.fast_track)
    case = approval_services.case_start(
        actor=actor, subject_kind=SUBJECT_KIND, subject_id=application.pk,
        subject_key=application.item.code, org_unit=application.org_unit,
        applicant=application.member, facts=case_facts(application),
        fast_track=application.fast_track, fast_track_reason=application.fast_track_reason,
    )
    Application.objects.filter(pk=application.pk).update(case=case)
    application.refresh_from_db()
    if application.status == ApplicationStatus.IN_REVIEW:
        notify_member(application, _("帮扶申请已提交"),
                      _("您的“%(item)s”申请（%(amount)s 元）已提交，正在审批。")
                      % {"item": application.item.name,
                         "amount": amounts.yuan(application.amount)})
    return application


def case_facts(application: Application) -> dict:
    """The facts the approval flow sees (skip conditions): what is known about the member, the
    applicant's facts, the amount, the item and who filed. JSON-safe numbers."""
    values = {**factlib.member_values(application.member, item=application.item),
              **factlib.rule_values(application.item.facts, application.facts)}
    facts = {k: float(v) if isinstance(v, Decimal) else v for k, v in values.items()}
    facts.update(amount=float(application.amount), item_code=application.item.code,
                 category=application.item.category.code, on_behalf=application.on_behalf,
                 fast_track=application.fast_track)
    return facts


@atomic_audited
def application_submit(*, actor, application: Application, fast_track: bool = False,
                       fast_track_reason: str = "") -> Application:
    application = _lock(application)
    _require_editor(actor, application)
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict(_("该申请已提交，不能重复提交。"), code="not_draft")
    _require_open(application.item)
    if fast_track:
        if not access_for(actor).covers_unit("assistance.apply", application.org_unit):
            raise PermissionDenied(_("特事特办须由工会干部提出。"), code="fast_track_denied")
        if not (fast_track_reason or "").strip():
            raise ServiceError(_("特事特办须填写理由。"), code="fast_track_reason",
                               fields={"fast_track_reason": _("请填写特事特办理由。")})
    application.fast_track = bool(fast_track)
    application.fast_track_reason = (fast_track_reason or "").strip()[:200] if fast_track else ""
    application.save(update_fields=["fast_track", "fast_track_reason", "updated_at"])
    return _start_case(actor=actor, application=application, action="application.submit")


@atomic_audited
def application_resubmit(*, actor, application: Application, facts: dict | None = None,
                         reason: str | None = None) -> Application:
    """After "return for more material": a new case on the flow version current now."""
    application = _lock(application)
    _require_editor(actor, application)
    if application.status != ApplicationStatus.RETURNED:
        raise Conflict(_("只有退回补充材料的申请可以重新提交。"), code="not_returned")
    _require_open(application.item)
    if facts is not None:
        application.facts = factlib.clean_facts(application.item.facts, facts, require_all=False)
    if reason is not None:
        application.reason = reason.strip()[:2000]
    return _start_case(actor=actor, application=application, action="application.resubmit")


@atomic_audited
def application_withdraw(*, actor, application: Application, reason: str = "") -> Application:
    application = _lock(application)
    _require_editor(actor, application)
    if application.status not in WITHDRAWABLE:
        raise Conflict(_("已核准、已发放或已结束的申请不能撤回。"), code="not_withdrawable")
    if application.case_id and application.status == ApplicationStatus.IN_REVIEW:
        case = application.case
        if case.status == CaseStatus.IN_PROGRESS:
            approval_services.case_withdraw(actor=actor, case=case)
    before = application.status
    application.status = ApplicationStatus.WITHDRAWN
    application.save(update_fields=["status", "updated_at"])
    _audit(actor, "application.withdraw", application, before=before, reason=reason[:200])
    if not _is_self(actor, application.member_id):
        notify_member(application, _("帮扶申请已撤回"),
                      _("您的“%(item)s”申请已由工会撤回。") % {"item": application.item.name})
    return application
