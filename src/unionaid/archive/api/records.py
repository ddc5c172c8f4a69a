"""/api/v1/archive: hardship records (list, detail, enrol, resubmit, withdraw, exit, close,
re-check, objections), the category preview, and the configuration (低保 lines, category
rules, working-day overrides with the calendar).

Records are seen in the ``archive.view`` scope and changed with ``archive.manage`` over the
member's unit; out of scope is "not found". Configuration needs ``archive.config``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from unionaid.accounts.access import access_for
from unionaid.approvals.api import PublicTimelineRowOut, public_timeline
from unionaid.approvals.models import WorkdayOverride
from unionaid.approvals.selectors import case_timeline
from unionaid.archive.category import rules_for
from unionaid.archive.models import CategoryRules, CloseReason, HardshipCategory, RecordStatus
from unionaid.archive.selectors import records as selectors
from unionaid.archive.services import config as config_services
from unionaid.archive.services import objections as objection_services
from unionaid.archive.services import records as services
from unionaid.archive.services.common import CONFIG, MANAGE
from unionaid.archive.services.objections import current_case, current_task
from unionaid.archive.services.rechecks import recheck_record
from unionaid.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset_page, next_link
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema, QuerySchema
from unionaid.core.api.search import refuse_identifier_in_url
from unionaid.core.errors import NotFound
from unionaid.members.selectors import member_get_for_user
from unionaid.org.selectors import unit_get_for_user
from unionaid.visits.models import FollowUp, HouseholdProfile
from unionaid.visits.selectors.profiles import Purpose, profile_for

router = Router()


def _no_store(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"


def _profile(member, profile_id: int | None) -> HouseholdProfile | None:
    if profile_id is None:
        return None
    profile = HouseholdProfile.objects.filter(pk=profile_id, member_id=member.pk).first()
    if profile is None:
        raise NotFound()
    return profile


def _record(request, record_id: int):
    return selectors.record_get_for_user(user=request.auth, pk=record_id)


# -- GET /records -------------------------------------------------------------------------

class RecordListQuery(QuerySchema):
    status: RecordStatus | None = None
    category: HardshipCategory | None = None
    unit_id: int | None = Field(None, description="只看该单位及其下级")
    member_id: int | None = None
    recheck_due_by: dt.date | None = Field(None, description="在档且下次复核日期不晚于该日")
    q: str = Field("", max_length=50, description=(
        "职工姓名开头。身份证号、手机号请用 POST /records/search（不进访问日志）"))
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class RecordListItemOut(Schema):
    id: int
    status: str
    status_label: str = Field(..., alias="get_status_display")
    category: str
    category_label: str = Field(..., alias="get_category_display")
    member_id: int
    member_name: str = Field(..., alias="member.name")
    org_unit_id: int
    org_unit_name: str = Field(..., alias="org_unit.name")
    per_capita_monthly: Decimal
    applied_at: dt.datetime
    enrolled_on: dt.date | None
    next_recheck_on: dt.date | None
    exited_on: dt.date | None
    previous_id: int | None


class RecordListOut(Schema):
    items: list[RecordListItemOut]
    next_cursor: str | None
    next: str | None


def _record_page(request, filters, *, identifiers: bool = False):
    user = request.auth
    unit = (unit_get_for_user(user=user, pk=filters.unit_id, perm="archive.view")
            if filters.unit_id is not None else None)
    qs = selectors.record_list(user=user, status=filters.status, category=filters.category,
                               unit=unit, recheck_due_by=filters.recheck_due_by, query=filters.q,
                               identifiers=identifiers)
    if filters.member_id is not None:
        qs = qs.filter(member_id=filters.member_id)
    return keyset_page(qs, cursor=filters.cursor, limit=filters.limit)


@router.get("/records", response={200: RecordListOut, **READ_ERRORS, 400: ErrorOut, 422: ErrorOut},
            summary="困难职工档案列表（管辖范围内）")
def record_list(request, response: HttpResponse, filters: Query[RecordListQuery]):
    refuse_identifier_in_url(filters.q, search_path="/api/v1/archive/records/search")
    page = _record_page(request, filters)
    _no_store(response)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- POST /records/search -----------------------------------------------------------------

class RecordSearchIn(InputSchema):
    q: str = Field("", max_length=50,
                   description="职工完整身份证号或手机号（或姓名开头），放在请求体里，不进访问日志")
    status: RecordStatus | None = None
    category: HardshipCategory | None = None
    unit_id: int | None = None
    member_id: int | None = None
    recheck_due_by: dt.date | None = None
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class RecordSearchOut(Schema):
    items: list[RecordListItemOut]
    next_cursor: str | None


@router.post("/records/search", response={200: RecordSearchOut, **READ_ERRORS, 422: ErrorOut},
             summary="按职工身份证号/手机号查找档案（条件在请求体中）")
def record_search(request, response: HttpResponse, payload: RecordSearchIn):
    page = _record_page(request, payload, identifiers=True)
    _no_store(response)
    return {"items": page.items, "next_cursor": page.next_cursor}


# -- GET /records/{id} ----------------------------------------------------------------------

class FlagOut(Schema):
    code: str
    message: str


class CurrentStepOut(Schema):
    task_id: int
    case_id: int
    subject_kind: str
    step: str
    is_public_notice: bool
    due_at: dt.datetime | None
    notice_ends_on: dt.date | None = Field(None, description="公示至（公示节点）")


class ObjectionOut(Schema):
    id: int
    case_id: int
    raised_by_label: str
    content: str
    recorded_by_name: str
    recorded_at: dt.datetime
    upheld: bool | None
    resolution: str
    resolved_at: dt.datetime | None


class CaseOut(Schema):
    id: int
    subject_kind: str
    flow_name: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    timeline: list[PublicTimelineRowOut]


class RecheckOut(Schema):
    id: int
    checked_on: dt.date
    computed_category: str
    outcome: str
    note: str
    calculation: list[str]


class FollowUpOut(Schema):
    id: int
    title: str
    owner_name: str
    due_on: dt.date
    status: str


class HistoryItemOut(Schema):
    id: int
    status: str
    category: str
    applied_at: dt.datetime
    enrolled_on: dt.date | None
    exited_on: dt.date | None


class RecordDetailOut(Schema):
    id: int
    status: str
    status_label: str
    category: str
    category_label: str
    computed_category: str
    member_id: int
    member_name: str
    member_id_number_masked: str
    org_unit_id: int
    org_unit_name: str
    profile_id: int
    per_capita_monthly: Decimal
    dibao_standard: Decimal
    calculation: list[str]
    review_flags: list[FlagOut]
    causes: list[str]
    reason: str
    applied_at: dt.datetime
    enrolled_on: dt.date | None
    last_recheck_on: dt.date | None
    next_recheck_on: dt.date | None
    exit_reason: str
    exited_on: dt.date | None
    follow_up_until: dt.date | None
    close_reason: str
    closed_on: dt.date | None
    previous_id: int | None
    current_step: CurrentStepOut | None
    objections: list[ObjectionOut]
    cases: list[CaseOut]
    rechecks: list[RecheckOut]
    follow_ups: list[FollowUpOut]
    history: list[HistoryItemOut]


def _objection(o) -> dict:
    return {"id": o.pk, "case_id": o.case_id, "raised_by_label": o.raised_by_label,
            "content": o.content, "recorded_by_name": o.recorded_by.display_name,
            "recorded_at": o.recorded_at, "upheld": o.upheld, "resolution": o.resolution,
            "resolved_at": o.resolved_at}


def _detail(record, *, reader) -> dict:
    case = current_case(record)
    task = current_task(case)
    step = None
    if task is not None:
        notice = task.step.is_public_notice and task.due_at is not None
        step = {"task_id": task.pk, "case_id": case.pk, "subject_kind": case.subject_kind,
                "step": task.step.name, "is_public_notice": task.step.is_public_notice,
                "due_at": task.due_at,
                "notice_ends_on": timezone.localtime(task.due_at).date() if notice else None}
    cases = selectors.record_cases([record.pk]).get(record.pk, [])
    history = [r for r in selectors.record_history(member=record.member) if r.pk != record.pk]
    return {
        "id": record.pk, "status": record.status, "status_label": record.get_status_display(),
        "category": record.category, "category_label": record.get_category_display(),
        "computed_category": record.computed_category, "member_id": record.member_id,
        "member_name": record.member.name,
        "member_id_number_masked": record.member.id_number_masked,
        "org_unit_id": record.org_unit_id, "org_unit_name": record.org_unit.name,
        "profile_id": record.profile_id, "per_capita_monthly": record.per_capita_monthly,
        "dibao_standard": record.dibao_standard, "calculation": record.calculation.get("lines", []),
        "review_flags": record.review_flags,
        "causes": list(profile_for(reader=reader, member_or_visit=record.profile,
                                   purpose=Purpose.VIEW).cause_codes),
        "reason": record.reason,
        "applied_at": record.applied_at, "enrolled_on": record.enrolled_on,
        "last_recheck_on": record.last_recheck_on, "next_recheck_on": record.next_recheck_on,
        "exit_reason": record.exit_reason, "exited_on": record.exited_on,
        "follow_up_until": record.follow_up_until, "close_reason": record.close_reason,
        "closed_on": record.closed_on, "previous_id": record.previous_id,
        "current_step": step,
        "objections": [_objection(o) for o in selectors.record_objections(record)],
        "cases": [{"id": c.pk, "subject_kind": c.subject_kind,
                   "flow_name": c.flow_version.flow.name, "status": c.status,
                   "started_at": c.started_at, "finished_at": c.finished_at,
                   "timeline": public_timeline(case_timeline(case=c, include_upcoming=True),
                                               hide_names=False)} for c in cases],
        "rechecks": [{"id": r.pk, "checked_on": r.checked_on,
                      "computed_category": r.computed_category, "outcome": r.outcome,
                      "note": r.note, "calculation": r.calculation.get("lines", [])}
                     for r in record.rechecks.order_by("-checked_on", "-pk")],
        "follow_ups": [{"id": f.pk, "title": f.title, "owner_name": f.owner.display_name,
                        "due_on": f.due_on, "status": f.status}
                       for f in FollowUp.objects.filter(hardship_record=record)
                       .select_related("owner").order_by("due_on", "pk")],
        "history": [{"id": r.pk, "status": r.status, "category": r.category,
                     "applied_at": r.applied_at, "enrolled_on": r.enrolled_on,
                     "exited_on": r.exited_on} for r in history],
    }


@router.get("/records/{record_id}", response={200: RecordDetailOut, **READ_ERRORS},
            summary="档案详情（认定测算、公示、异议、审批进度、建档历史）")
def record_detail(request, response: HttpResponse, record_id: int):
    record = _record(request, record_id)
    _no_store(response)
    return _detail(record, reader=request.auth)


# -- GET /category-preview ----------------------------------------------------------------

class PreviewQuery(QuerySchema):
    member_id: int
    profile_id: int | None = Field(None, description="不填则用最近一次登记的家庭情况")


class PreviewOut(Schema):
    member_id: int
    profile_id: int | None
    category: str
    category_label: str
    per_capita_monthly: Decimal | None
    dibao_standard: Decimal | None
    calculation: list[str]
    review_flags: list[FlagOut]
    problems: list[str] = Field(..., description="现在建档会被拒绝的原因")
    codes: list[str]


@router.get("/category-preview", response={200: PreviewOut, **READ_ERRORS, 422: ErrorOut},
            summary="建档前测算困难类别（不保存）")
def category_preview(request, response: HttpResponse, query: Query[PreviewQuery]):
    member = member_get_for_user(user=request.auth, pk=query.member_id, perm=MANAGE)
    check = services.record_precheck(member=member, profile=_profile(member, query.profile_id),
                                     actor=request.auth)
    result = check["result"]
    _no_store(response)
    return {"member_id": member.pk,
            "profile_id": check["profile"].pk if check["profile"] else None,
            "category": result.category if result else "",
            "category_label": str(result.label) if result else "",
            "per_capita_monthly": result.per_capita_monthly if result else None,
            "dibao_standard": result.line if result else None,
            "calculation": result.lines if result else [],
            "review_flags": result.review_flags if result else [],
            "problems": check["problems"], "codes": check["codes"]}


# -- POST /records (enrol), /resubmit, /withdraw --------------------------------------------

class EnrolIn(InputSchema):
    member_id: int
    profile_id: int | None = Field(None, description="不填则用最近一次登记的家庭情况")
    reason: str = Field("", max_length=2000)


class RecordStateOut(Schema):
    id: int
    status: str
    category: str
    per_capita_monthly: Decimal
    calculation: list[str]
    review_flags: list[FlagOut]
    previous_id: int | None


def _state(record) -> dict:
    return {"id": record.pk, "status": record.status, "category": record.category,
            "per_capita_monthly": record.per_capita_monthly,
            "calculation": record.calculation.get("lines", []),
            "review_flags": record.review_flags, "previous_id": record.previous_id}


@router.post("/records", response={201: RecordStateOut, **WRITE_ERRORS},
             summary="建档（测算类别、一户一档检查，然后进入审批与公示）")
def record_enrol(request, payload: EnrolIn):
    member = member_get_for_user(user=request.auth, pk=payload.member_id, perm=MANAGE)
    record = services.record_enrol(actor=request.auth, member=member,
                                   profile=_profile(member, payload.profile_id),
                                   reason=payload.reason)
    return Status(201, _state(record))


class ResubmitIn(InputSchema):
    profile_id: int | None = None
    reason: str | None = Field(None, max_length=2000)


@router.post("/records/{record_id}/resubmit", response={200: RecordStateOut, **WRITE_ERRORS},
             summary="退回补充后重新提交建档")
def record_resubmit(request, record_id: int, payload: ResubmitIn):
    record = _record(request, record_id)
    record = services.record_resubmit(actor=request.auth, record=record,
                                      profile=_profile(record.member, payload.profile_id),
                                      reason=payload.reason)
    return _state(record)


class WithdrawIn(InputSchema):
    reason: str = Field("", max_length=200)


class StatusOut(Schema):
    id: int
    status: str


@router.post("/records/{record_id}/withdraw", response={200: StatusOut, **WRITE_ERRORS},
             summary="撤回建档申请（或撤回脱困申请，档案恢复在档）")
def record_withdraw(request, record_id: int, payload: WithdrawIn):
    record = services.record_withdraw(actor=request.auth, record=_record(request, record_id),
                                      reason=payload.reason)
    return {"id": record.pk, "status": record.status}


# -- exit, close, re-check ----------------------------------------------------------------

class ExitIn(InputSchema):
    reason: str = Field(..., max_length=300)


class ExitOut(Schema):
    id: int
    status: str
    exit_reason: str
    exit_applied_at: dt.datetime | None


@router.post("/records/{record_id}/exit", response={200: ExitOut, **WRITE_ERRORS},
             summary="申请解困脱困（进入审批与公示）")
def record_exit(request, record_id: int, payload: ExitIn):
    return services.record_exit_apply(actor=request.auth, record=_record(request, record_id),
                                      reason=payload.reason)


class CloseIn(InputSchema):
    reason: CloseReason
    on: dt.date | None = Field(None, description="销档日期，默认今天")
    note: str = Field("", max_length=200)


class CloseOut(Schema):
    id: int
    status: str
    close_reason: str
    closed_on: dt.date | None


@router.post("/records/{record_id}/close", response={200: CloseOut, **WRITE_ERRORS},
             summary="销档（退休、调离、死亡等，立即生效）")
def record_close(request, record_id: int, payload: CloseIn):
    return services.record_close(actor=request.auth, record=_record(request, record_id),
                                 reason=payload.reason, on=payload.on, note=payload.note)


class RecheckIn(InputSchema):
    profile_id: int | None = Field(None, description="不填则用最近一次登记的家庭情况")
    note: str = Field("", max_length=300)


class RecheckResultOut(Schema):
    id: int
    outcome: str
    computed_category: str
    checked_on: dt.date
    calculation: list[str]
    record_category: str
    next_recheck_on: dt.date | None


@router.post("/records/{record_id}/recheck", response={200: RecheckResultOut, **WRITE_ERRORS},
             summary="年度复核（维持、调整类别或建议脱困）")
def record_recheck(request, record_id: int, payload: RecheckIn):
    record = _record(request, record_id)
    recheck = recheck_record(actor=request.auth, record=record,
                             profile=_profile(record.member, payload.profile_id),
                             note=payload.note)
    record.refresh_from_db()
    return {"id": recheck.pk, "outcome": recheck.outcome,
            "computed_category": recheck.computed_category, "checked_on": recheck.checked_on,
            "calculation": recheck.calculation.get("lines", []),
            "record_category": record.category, "next_recheck_on": record.next_recheck_on}


# -- objections --------------------------------------------------------------------------

class ObjectionIn(InputSchema):
    raised_by_label: str = Field("", max_length=60)
    content: str = Field(..., max_length=2000)


@router.post("/records/{record_id}/objections", response={201: ObjectionOut, **WRITE_ERRORS},
             summary="登记公示期异议（仅公示期内）")
def objection_create(request, record_id: int, payload: ObjectionIn):
    objection = objection_services.objection_record(
        actor=request.auth, record=_record(request, record_id),
        raised_by_label=payload.raised_by_label, content=payload.content)
    return Status(201, _objection(objection))


class ResolveIn(InputSchema):
    upheld: bool = Field(..., description="异议是否成立（成立则须驳回）")
    resolution: str = Field(..., max_length=2000)


@router.post("/objections/{objection_id}/resolve", response={200: ObjectionOut, **WRITE_ERRORS},
             summary="记录异议核实处理结果")
def objection_resolve(request, objection_id: int, payload: ResolveIn):
    objection = selectors.objection_get_for_user(user=request.auth, pk=objection_id)
    objection = objection_services.objection_resolve(
        actor=request.auth, objection=objection, upheld=payload.upheld,
        resolution=payload.resolution)
    return _objection(objection)


# -- 低保标准 -------------------------------------------------------------------------------

class DibaoQuery(QuerySchema):
    year: int | None = None


class DibaoOut(Schema):
    id: int
    org_unit_id: int
    org_unit_name: str = Field(..., alias="org_unit.name")
    region: str
    year: int
    monthly_amount: Decimal
    updated_at: dt.datetime


@router.get("/dibao-lines", response={200: list[DibaoOut], **READ_ERRORS, 422: ErrorOut},
            summary="低保标准（可维护范围内的单位）")
def dibao_list(request, filters: Query[DibaoQuery]):
    return list(selectors.dibao_standards_visible_to(user=request.auth, year=filters.year)[:500])


class DibaoIn(InputSchema):
    org_unit_id: int
    year: int
    monthly_amount: Decimal
    region: str = Field("", max_length=60)


@router.post("/dibao-lines", response={201: DibaoOut, **WRITE_ERRORS},
             summary="新增某单位某年度的低保标准")
def dibao_create(request, payload: DibaoIn):
    unit = unit_get_for_user(user=request.auth, pk=payload.org_unit_id, perm=CONFIG)
    line = config_services.dibao_standard_save(actor=request.auth, org_unit=unit, year=payload.year,
                                               monthly_amount=payload.monthly_amount,
                                               region=payload.region)
    return Status(201, line)


@router.put("/dibao-lines/{line_id}", response={200: DibaoOut, **WRITE_ERRORS},
            summary="修改低保标准")
def dibao_update(request, line_id: int, payload: DibaoIn):
    line = selectors.dibao_standard_get_for_user(user=request.auth, pk=line_id)
    unit = unit_get_for_user(user=request.auth, pk=payload.org_unit_id, perm=CONFIG)
    return config_services.dibao_standard_save(actor=request.auth, org_unit=unit, year=payload.year,
                                               monthly_amount=payload.monthly_amount,
                                               region=payload.region, standard=line)


@router.delete("/dibao-lines/{line_id}", response={204: None, **WRITE_ERRORS},
               summary="删除低保标准")
def dibao_delete(request, line_id: int):
    line = selectors.dibao_standard_get_for_user(user=request.auth, pk=line_id)
    config_services.dibao_standard_delete(actor=request.auth, standard=line)
    return Status(204, None)


# -- 认定规则 -------------------------------------------------------------------------------

class RulesOut(Schema):
    org_unit_id: int | None
    org_unit_name: str
    own: bool = Field(..., description="该单位自己设置的（否则为沿用上级或默认）")
    deep_multiplier: Decimal
    relative_multiplier: Decimal
    sudden_ratio: Decimal
    edge_multiplier: Decimal
    max_homes: int
    private_school_fee_limit: Decimal
    recheck_months: int
    follow_up_months: int


def _rules(rules: CategoryRules, *, unit=None) -> dict:
    owner = rules.org_unit if rules.org_unit_id else None
    return {"org_unit_id": owner.pk if owner else None,
            "org_unit_name": owner.name if owner else "",
            "own": bool(owner and (unit is None or owner.pk == unit.pk)),
            **{name: getattr(rules, name) for name in config_services.RULE_FIELDS}}


@router.get("/rules", response={200: list[RulesOut], **READ_ERRORS},
            summary="各单位自己设置的困难认定规则")
def rules_list(request):
    return [_rules(r) for r in selectors.category_rules_visible_to(user=request.auth)]


@router.get("/rules/{unit_id}", response={200: RulesOut, **READ_ERRORS},
            summary="某单位适用的规则（自己的、沿用上级的或默认）")
def rules_effective(request, unit_id: int):
    unit = unit_get_for_user(user=request.auth, pk=unit_id, perm=CONFIG)
    return _rules(rules_for(unit), unit=unit)


class RulesIn(InputSchema):
    deep_multiplier: Decimal | None = None
    relative_multiplier: Decimal | None = None
    sudden_ratio: Decimal | None = None
    edge_multiplier: Decimal | None = None
    max_homes: int | None = None
    private_school_fee_limit: Decimal | None = None
    recheck_months: int | None = None
    follow_up_months: int | None = None


@router.put("/rules/{unit_id}", response={200: RulesOut, **WRITE_ERRORS},
            summary="设置某单位（含下级）的规则；未填的项取默认值")
def rules_save(request, unit_id: int, payload: RulesIn):
    unit = unit_get_for_user(user=request.auth, pk=unit_id, perm=CONFIG)
    values = {k: v for k, v in payload.dict().items() if v is not None}
    rules = config_services.category_rules_save(actor=request.auth, org_unit=unit, **values)
    return _rules(rules, unit=unit)


@router.delete("/rules/{unit_id}", response={204: None, **WRITE_ERRORS},
               summary="删除某单位自己的规则（改为沿用上级或默认）")
def rules_delete(request, unit_id: int):
    unit = unit_get_for_user(user=request.auth, pk=unit_id, perm=CONFIG)
    rules = CategoryRules.objects.filter(org_unit=unit).first()
    if rules is None:
        raise NotFound()
    config_services.category_rules_delete(actor=request.auth, rules=rules)
    return Status(204, None)


# -- 工作日 -------------------------------------------------------------------------------

class CalendarQuery(QuerySchema):
    start: dt.date | None = Field(None, description="默认今天")
    days: int = Field(60, ge=1, le=366)


class CalendarDayOut(Schema):
    day: dt.date
    is_workday: bool
    statutory_workday: bool
    holiday: str
    adjusted_workday: bool = Field(..., description="周末调休上班")
    overridden: bool


@router.get("/workdays", response={200: list[CalendarDayOut], **READ_ERRORS, 422: ErrorOut},
            summary="工作日日历（含法定节假日、调休与管理员调整）")
def workdays(request, filters: Query[CalendarQuery]):
    if not _has(request.auth, CONFIG):
        raise NotFound()
    start = filters.start or timezone.localdate()
    return [{**{k: v for k, v in d.items() if k not in ("override", "weekday")},
             "holiday": str(d["holiday"]), "overridden": d["override"] is not None}
            for d in selectors.calendar_days(start=start, days=filters.days)]


def _has(user, perm: str) -> bool:
    return access_for(user).has_perm(perm)


class OverrideOut(Schema):
    id: int
    day: dt.date
    is_workday: bool
    note: str


@router.get("/workday-overrides", response={200: list[OverrideOut], **READ_ERRORS},
            summary="管理员的工作日调整")
def overrides_list(request):
    if not _has(request.auth, CONFIG):
        raise NotFound()
    return list(selectors.workday_overrides()[:1000])


class OverrideIn(InputSchema):
    day: dt.date
    is_workday: bool
    note: str = Field("", max_length=100)


@router.post("/workday-overrides", response={201: OverrideOut, **WRITE_ERRORS},
             summary="把某天设为工作日或休息日（全系统生效）")
def override_save(request, payload: OverrideIn):
    row = config_services.workday_override_save(actor=request.auth, day=payload.day,
                                                is_workday=payload.is_workday, note=payload.note)
    return Status(201, row)


@router.delete("/workday-overrides/{override_id}", response={204: None, **WRITE_ERRORS},
               summary="删除工作日调整")
def override_delete(request, override_id: int):
    row = WorkdayOverride.objects.filter(pk=override_id).first()
    if row is None:
        raise NotFound()
    config_services.workday_override_delete(actor=request.auth, override=row)
    return Status(204, None)
