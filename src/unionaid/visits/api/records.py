"""/api/v1/visits: visits (submit, list, detail, photos), a member's profile history, needs
turned into work, and follow-ups — the same services and selectors as the pages.

Submitting is idempotent by the draft's ``client_uuid``: the first submit answers 201, a repeat
of the same draft 200 with the same body. Out of scope is "not found"; refusals come back as
``{code, message, fields}`` with the service's Chinese message (422 for invalid input).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from unionaid.assistance.api.common import item_for
from unionaid.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset_page, next_link
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema, QuerySchema
from unionaid.core.errors import ServiceError
from unionaid.core.http import private_file_response
from unionaid.members.selectors import member_get_for_user
from unionaid.org.selectors import unit_get_for_user
from unionaid.visits.models import FollowUpStatus, VisitKind
from unionaid.visits.selectors import records as selectors
from unionaid.visits.selectors.campaigns import campaign_get_for_user
from unionaid.visits.selectors.profiles import Purpose, profile_for, profiles_for
from unionaid.visits.services import followups as followup_services
from unionaid.visits.services import needs as need_services
from unionaid.visits.services import photos as photo_services
from unionaid.visits.services import visits as visit_services

router = Router(tags=["visits"])


def _no_store(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"


def _photo_url(photo_id: int, *, thumb: bool = False) -> str:
    url = reverse("api:visits-photo-file", kwargs={"photo_id": photo_id})
    return f"{url}?thumb=true" if thumb else url


# -- POST "" (submit) -------------------------------------------------------------------------

class ConsentIn(InputSchema):
    health: bool = Field(False, description="职工当场同意登记健康信息")
    children: bool = Field(False, description="职工当场同意登记未满14周岁子女信息")
    method: str = Field("", max_length=60, description="同意方式，如 书面签字")


class NeedIn(InputSchema):
    kind: str = Field(..., description="money / job / training / counselling / legal / other")
    note: str = Field("", max_length=300)


class FollowUpIn(InputSchema):
    title: str = Field(..., max_length=200)
    owner_id: int | None = Field(None, description="责任人，默认本人")
    due_on: dt.date


class VisitSubmitIn(InputSchema):
    client_uuid: uuid.UUID = Field(..., description="打开表单时在本机生成；重复提交同一草稿不会重复登记")
    kind: VisitKind = VisitKind.HOME
    member_id: int | None = None
    visited_unit_id: int | None = None
    campaign_id: int | None = None
    pairing_id: int | None = None
    visited_on: dt.date
    visitors: str = Field(..., max_length=200)
    place: str = Field("", max_length=200)
    summary: str = Field("", max_length=4000)
    satisfaction: int | None = Field(None, ge=1, le=5)
    hardship_found: bool = False
    profile: dict[str, Any] | None = Field(None, description="家庭情况（六清），见 visits.profile")
    consent: ConsentIn | None = None
    needs: list[NeedIn] = Field(default_factory=list)
    follow_ups: list[FollowUpIn] = Field(default_factory=list)


class VisitNeedOut(Schema):
    id: int
    kind: str
    kind_label: str
    note: str
    status: str
    status_label: str
    application_id: int | None
    consent_recorded_at: dt.datetime | None
    consent_method: str
    resolved_at: dt.datetime | None


class FollowUpOut(Schema):
    id: int
    member_id: int
    member_name: str
    visit_id: int | None
    need_id: int | None
    title: str
    owner_id: int
    owner_name: str
    due_on: dt.date
    status: str
    status_label: str
    is_overdue: bool
    done_at: dt.datetime | None
    done_note: str


class PhotoOut(Schema):
    id: int
    original_name: str
    content_type: str
    size: int
    uploaded_at: dt.datetime
    url: str
    thumbnail_url: str | None


class ProfileSummaryOut(Schema):
    """``causes`` leaves out 因病/因残 (illness, disability) without the health consent."""

    id: int
    taken_on: dt.date
    household_size: int
    annual_income: Decimal
    rigid_expenses: Decimal
    per_capita_monthly: Decimal
    causes: list[str]
    housing: str
    children_in_school: int
    has_major_illness: bool | None = Field(None, description="未取得健康信息同意时为空")
    has_disability: bool | None = None


class VisitDetailOut(Schema):
    id: int
    client_uuid: uuid.UUID
    kind: str
    member_id: int | None
    member_name: str | None
    visited_unit_id: int | None
    visited_unit_name: str | None
    org_unit_id: int
    org_unit_name: str
    campaign_id: int | None
    pairing_id: int | None
    visited_on: dt.date
    visitors: str
    place: str
    summary: str
    satisfaction: int | None
    hardship_found: bool
    recorded_by_name: str
    created_at: dt.datetime
    profile: ProfileSummaryOut | None
    needs: list[VisitNeedOut]
    follow_ups: list[FollowUpOut]
    photos: list[PhotoOut]


def _need_out(need) -> dict:
    return {"id": need.pk, "kind": need.kind, "kind_label": need.get_kind_display(),
            "note": need.note, "status": need.status, "status_label": need.get_status_display(),
            "application_id": need.application_id,
            "consent_recorded_at": need.consent_recorded_at,
            "consent_method": need.consent_method, "resolved_at": need.resolved_at}


def _follow_up_out(follow_up) -> dict:
    overdue = getattr(follow_up, "is_overdue", None)
    if overdue is None:
        overdue = (follow_up.status == FollowUpStatus.OPEN
                   and follow_up.due_on < timezone.localdate())
    return {"id": follow_up.pk, "member_id": follow_up.member_id,
            "member_name": follow_up.member.name, "visit_id": follow_up.visit_id,
            "need_id": follow_up.need_id, "title": follow_up.title,
            "owner_id": follow_up.owner_id, "owner_name": follow_up.owner.display_name,
            "due_on": follow_up.due_on, "status": follow_up.status,
            "status_label": follow_up.get_status_display(), "is_overdue": overdue,
            "done_at": follow_up.done_at, "done_note": follow_up.done_note}


def _profile_out(view) -> dict | None:
    """A ``ProfileView`` (``profile_for``: the consent rule applied there) as the summary."""
    if view is None:
        return None
    return {"id": view.pk, "taken_on": view.taken_on,
            "household_size": view.household_size, "annual_income": view.annual_income,
            "rigid_expenses": view.rigid_expenses,
            "per_capita_monthly": view.per_capita_monthly,
            "causes": list(view.cause_codes),
            "housing": view.housing, "children_in_school": view.children_in_school,
            "has_major_illness": view.has_major_illness,
            "has_disability": view.has_disability}


def _visit_out(visit, *, reader) -> dict:
    profile = profile_for(reader=reader, member_or_visit=visit, purpose=Purpose.VIEW)
    return {
        "id": visit.pk, "client_uuid": visit.client_uuid, "kind": visit.kind,
        "member_id": visit.member_id, "member_name": visit.member.name if visit.member else None,
        "visited_unit_id": visit.visited_unit_id,
        "visited_unit_name": visit.visited_unit.name if visit.visited_unit else None,
        "org_unit_id": visit.org_unit_id, "org_unit_name": visit.org_unit.name,
        "campaign_id": visit.campaign_id, "pairing_id": visit.pairing_id,
        "visited_on": visit.visited_on, "visitors": visit.visitors, "place": visit.place,
        "summary": visit.summary, "satisfaction": visit.satisfaction,
        "hardship_found": visit.hardship_found,
        "recorded_by_name": visit.recorded_by.display_name, "created_at": visit.created_at,
        "profile": _profile_out(profile),
        "needs": [_need_out(n) for n in sorted(visit.needs.all(), key=lambda n: n.pk)],
        "follow_ups": [_follow_up_out(f) for f in sorted(visit.follow_ups.all(),
                                                         key=lambda f: f.pk)],
        "photos": [{"id": p.pk, "original_name": p.original_name,
                    "content_type": p.content_type, "size": p.size,
                    "uploaded_at": p.uploaded_at, "url": _photo_url(p.pk),
                    "thumbnail_url": _photo_url(p.pk, thumb=True) if p.thumbnail_path else None}
                   for p in sorted(visit.photos.all(), key=lambda p: p.pk)],
    }


@router.post("", response={200: VisitDetailOut, 201: VisitDetailOut, **WRITE_ERRORS},
             summary="提交走访记录（同一草稿 client_uuid 重复提交：首次 201，之后 200，内容相同）")
def visit_submit(request, response: HttpResponse, payload: VisitSubmitIn):
    data = payload.model_dump(exclude={"client_uuid"})
    data["visited_on"] = payload.visited_on.isoformat()
    data["follow_ups"] = [{**f, "due_on": f["due_on"].isoformat()} for f in data["follow_ups"]]
    data["consent"] = data.get("consent") or {}
    # out of scope: 404 with its journal entry committed (not rolled back with the submit)
    visit_services.visit_target_check(actor=request.auth, data=data)
    visit, created = visit_services.visit_submit(actor=request.auth,
                                                 client_uuid=payload.client_uuid, data=data)
    visit = selectors.visit_get_for_user(user=request.auth, pk=visit.pk)
    _no_store(response)
    return Status(201 if created else 200, _visit_out(visit, reader=request.auth))


# -- GET "" -----------------------------------------------------------------------------------

class VisitListQuery(QuerySchema):
    campaign_id: int | None = None
    unit_id: int | None = Field(None, description="只看该单位及其下级")
    member_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    hardship_found: bool | None = None
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class VisitListItemOut(Schema):
    id: int
    kind: str
    member_id: int | None
    member_name: str | None = Field(None, alias="member.name")
    visited_unit_id: int | None
    visited_unit_name: str | None = Field(None, alias="visited_unit.name")
    org_unit_name: str = Field(..., alias="org_unit.name")
    campaign_id: int | None
    visited_on: dt.date
    visitors: str
    hardship_found: bool
    satisfaction: int | None


class VisitListOut(Schema):
    items: list[VisitListItemOut]
    next_cursor: str | None
    next: str | None


@router.get("", response={200: VisitListOut, **READ_ERRORS, 422: ErrorOut},
            summary="走访记录列表（管辖范围内，按走访日期倒序）")
def visit_list(request, response: HttpResponse, filters: Query[VisitListQuery]):
    user = request.auth
    unit = (unit_get_for_user(user=user, pk=filters.unit_id, perm="visits.view")
            if filters.unit_id is not None else None)
    member = (member_get_for_user(user=user, pk=filters.member_id, perm="visits.view")
              if filters.member_id is not None else None)
    campaign = None
    if filters.campaign_id is not None:
        campaign = campaign_get_for_user(user=user, pk=filters.campaign_id)
    qs = selectors.visits_visible_to(
        user=user, campaign=campaign, unit=unit, member=member, date_from=filters.date_from,
        date_to=filters.date_to, hardship_found=filters.hardship_found)
    page = keyset_page(qs, cursor=filters.cursor, limit=filters.limit)
    _no_store(response)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- GET /{id}, POST /{id}/photos, GET /photos/{id} -------------------------------------------

@router.get("/{int:visit_id}", response={200: VisitDetailOut, **READ_ERRORS},
            summary="走访记录详情（家庭情况只给出测算指标；健康指标须有职工同意）")
def visit_detail(request, response: HttpResponse, visit_id: int):
    visit = selectors.visit_get_for_user(user=request.auth, pk=visit_id)
    _no_store(response)
    return _visit_out(visit, reader=request.auth)


@router.post("/{int:visit_id}/photos", response={201: PhotoOut, **WRITE_ERRORS},
             summary="上传走访照片（multipart：file；仅 JPG/PNG，拍摄位置等信息会被去除）")
def photo_add(request, visit_id: int, file: File[UploadedFile]):
    visit = selectors.visit_get_for_user(user=request.auth, pk=visit_id)
    photo = photo_services.visit_photo_add(actor=request.auth, visit=visit, uploaded_file=file)
    return Status(201, {"id": photo.pk, "original_name": photo.original_name,
                        "content_type": photo.content_type, "size": photo.size,
                        "uploaded_at": photo.uploaded_at, "url": _photo_url(photo.pk),
                        "thumbnail_url": (_photo_url(photo.pk, thumb=True)
                                          if photo.thumbnail_path else None)})


@router.get("/photos/{int:photo_id}", response={200: None, **READ_ERRORS},
            url_name="visits-photo-file",
            summary="走访照片文件（?thumb=true 取缩略图；有权查看的人才能下载，查看留痕）",
            openapi_extra={"responses": {200: {"description": "图片", "content": {
                "image/jpeg": {}, "image/png": {}}}}})
def photo_file(request, photo_id: int, thumb: bool = False):
    handle, content_type, filename = selectors.photo_open_for_user(
        user=request.auth, pk=photo_id, thumbnail=thumb)
    return private_file_response(handle, content_type=content_type, filename=filename)


# -- GET /members/{id}/profiles ---------------------------------------------------------------

class ProfileHistoryItemOut(ProfileSummaryOut):
    visit_id: int | None
    recorded_by_name: str
    data: dict[str, Any] = Field(..., description="六清详情（visits.selectors.profiles）：未取得同意的"
                                                  "健康信息（含因病/因残致困、大病导致的意外支出）不返回；"
                                                  "未满14周岁子女未取得同意时只返回 {\"withheld\": true}；"
                                                  "除本人外姓名脱敏；健康说明只标明是否登记")


@router.get("/members/{int:member_id}/profiles", response={200: list[ProfileHistoryItemOut],
                                                       **READ_ERRORS},
            summary="职工家庭情况历次登记（最新在前）")
def profile_history(request, response: HttpResponse, member_id: int):
    user = request.auth
    member = member_get_for_user(user=user, pk=member_id, perm="visits.view")
    _no_store(response)
    views = profiles_for(reader=user, member=member, purpose=Purpose.VIEW,
                         profiles=selectors.profiles_for_member(user=user, member=member)[:100])
    return [{**_profile_out(v), "visit_id": v.visit_id, "recorded_by_name": v.recorded_by_name,
             "data": v.as_dict()} for v in views]


# -- needs ------------------------------------------------------------------------------------

class OpenNeedOut(VisitNeedOut):
    visit_id: int
    visited_on: dt.date
    member_id: int | None
    member_name: str | None


@router.get("/needs", response={200: list[OpenNeedOut], **READ_ERRORS},
            summary="待处理的走访需求（管辖范围内，最早发现的在前，最多 200 条）")
def needs_open(request, response: HttpResponse):
    _no_store(response)
    return [{**_need_out(n), "visit_id": n.visit_id, "visited_on": n.visit.visited_on,
             "member_id": n.visit.member_id,
             "member_name": n.visit.member.name if n.visit.member else None}
            for n in selectors.needs_open_for_user(user=request.auth)[:200]]


class NeedToApplicationIn(InputSchema):
    item_code: str = Field(..., max_length=40)
    consent_method: str = Field(..., max_length=60, description="职工同意代为申请的方式")


class NeedToApplicationOut(Schema):
    need: VisitNeedOut
    application_id: int
    facts: dict[str, Any]


@router.post("/needs/{int:need_id}/application", response={201: NeedToApplicationOut, **WRITE_ERRORS},
             summary="需求转帮扶申请：按最新家庭情况预填，生成代办申请草稿，并记录职工同意")
def need_to_application(request, need_id: int, payload: NeedToApplicationIn):
    need = selectors.need_get_for_user(user=request.auth, pk=need_id)
    item = item_for(request.auth, payload.item_code)
    application = need_services.need_to_application(
        actor=request.auth, need=need, item=item, consent_method=payload.consent_method)
    need.refresh_from_db()
    return Status(201, {"need": _need_out(need), "application_id": application.pk,
                        "facts": application.facts})


class NeedToFollowUpIn(InputSchema):
    title: str = Field("", max_length=200)
    owner_id: int | None = Field(None, description="责任人，默认本人")
    due_on: dt.date


def _owner(user, owner_id: int | None):
    if owner_id is None or owner_id == user.pk:
        return user
    owner = get_user_model().objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        message = _("责任人不存在或已停用。")
        raise ServiceError(message, code="validation_error", fields={"owner_id": message})
    return owner


@router.post("/needs/{int:need_id}/follow-up", response={201: FollowUpOut, **WRITE_ERRORS},
             summary="需求转跟进事项（指定责任人和办理期限）")
def need_to_follow_up(request, need_id: int, payload: NeedToFollowUpIn):
    need = selectors.need_get_for_user(user=request.auth, pk=need_id)
    follow_up = need_services.need_to_follow_up(
        actor=request.auth, need=need, owner=_owner(request.auth, payload.owner_id),
        due_on=payload.due_on, title=payload.title)
    return Status(201, _follow_up_out(follow_up))


class NoteIn(InputSchema):
    note: str = Field(..., max_length=300)


@router.post("/needs/{int:need_id}/close", response={200: VisitNeedOut, **WRITE_ERRORS},
             summary="需求已解决（再次标记不会重复记录）")
def need_close(request, need_id: int, payload: NoteIn):
    need = selectors.need_get_for_user(user=request.auth, pk=need_id)
    return _need_out(need_services.need_close(actor=request.auth, need=need, note=payload.note))


# -- follow-ups -------------------------------------------------------------------------------

class FollowUpListQuery(QuerySchema):
    mine: bool = Field(True, description="只看本人负责的")
    status: FollowUpStatus | None = None
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class FollowUpListOut(Schema):
    items: list[FollowUpOut]
    next_cursor: str | None
    next: str | None


@router.get("/follow-ups", response={200: FollowUpListOut, **READ_ERRORS, 422: ErrorOut},
            summary="跟进事项（待办在前，按办理期限；is_overdue 标出逾期）")
def follow_up_list(request, response: HttpResponse, filters: Query[FollowUpListQuery]):
    qs = selectors.follow_ups_for_user(user=request.auth, mine=filters.mine,
                                       status=filters.status)
    page = keyset_page(qs, cursor=filters.cursor, limit=filters.limit)
    _no_store(response)
    return {"items": [_follow_up_out(f) for f in page.items], "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


class FollowUpCreateIn(InputSchema):
    member_id: int
    title: str = Field(..., max_length=200)
    owner_id: int | None = None
    due_on: dt.date
    visit_id: int | None = None


@router.post("/follow-ups", response={201: FollowUpOut, **WRITE_ERRORS},
             summary="新建跟进事项")
def follow_up_create(request, payload: FollowUpCreateIn):
    user = request.auth
    member = member_get_for_user(user=user, pk=payload.member_id, perm="visits.record")
    visit = (selectors.visit_get_for_user(user=user, pk=payload.visit_id)
             if payload.visit_id is not None else None)
    follow_up = followup_services.follow_up_create(
        actor=user, member=member, title=payload.title, owner=_owner(user, payload.owner_id),
        due_on=payload.due_on, visit=visit)
    return Status(201, _follow_up_out(follow_up))


class FollowUpDoneIn(InputSchema):
    note: str = Field(..., max_length=300)
    visit_id: int | None = Field(None, description="办理时的走访记录（回访）")


@router.post("/follow-ups/{int:follow_up_id}/done", response={200: FollowUpOut, **WRITE_ERRORS},
             summary="办结跟进事项（再次办结不会重复记录）")
def follow_up_done(request, follow_up_id: int, payload: FollowUpDoneIn):
    user = request.auth
    follow_up = selectors.follow_up_get_for_user(user=user, pk=follow_up_id)
    visit = (selectors.visit_get_for_user(user=user, pk=payload.visit_id)
             if payload.visit_id is not None else None)
    follow_up = followup_services.follow_up_done(actor=user, follow_up=follow_up,
                                                 note=payload.note, visit=visit)
    return _follow_up_out(follow_up)
