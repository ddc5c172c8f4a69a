"""/api/v1/members: the member roll as the caller may see it.

Identity values (ID number, phone, bank account) leave the server masked; the clear value only
through ``POST /{id}/reveal``, which needs ``members.reveal`` and is journaled. Every read goes
through ``members_visible_to`` / ``member_get_for_user``: out of scope is "not found".
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from unionaid.core import masking
from unionaid.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset_page, next_link
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema, QuerySchema
from unionaid.core.api.search import refuse_identifier_in_url
from unionaid.core.errors import NotFound
from unionaid.members import selectors, services
from unionaid.members.models import (
    ConsentKind,
    EmploymentForm,
    MembershipStatus,
    Relation,
)
from unionaid.org.selectors import unit_get_for_user

router = Router(tags=["members"])


def _unit_for(user, unit_id: int, perm: str):
    """A unit the user holds ``perm`` for, else "not found" (no hint that it exists)."""
    return unit_get_for_user(user=user, pk=unit_id, perm=perm)


def _no_store(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"


# -- GET /members -------------------------------------------------------------------------------

class MemberListQuery(QuerySchema):
    q: str = Field("", max_length=50,
                   description="姓名前缀。身份证号、手机号请用 POST /members/search（不进访问日志）")
    unit_id: int | None = Field(None, description="只看该单位及其下级")
    cursor: str | None = Field(None, description="上一页返回的 next_cursor")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class MemberListItemOut(Schema):
    id: int
    name: str
    sex: str
    org_unit_id: int
    org_unit_name: str = Field(..., alias="org_unit.name")
    id_number_masked: str
    phone_masked: str
    employment_form: str
    membership_status: str


class MemberListOut(Schema):
    items: list[MemberListItemOut]
    next_cursor: str | None
    next: str | None = Field(None, description="下一页的地址；没有更多时为 null")


def _member_page(request, *, q: str, unit_id: int | None, cursor: str | None, limit: int):
    unit = _unit_for(request.auth, unit_id, "members.view") if unit_id is not None else None
    # a list row shows the masked ID number and phone: the bank account is neither read nor
    # decrypted (50 decryptions a page)
    qs = selectors.member_search(user=request.auth, query=q, unit=unit).defer("bank_account")
    return keyset_page(qs, cursor=cursor, limit=limit)


@router.get("", response={200: MemberListOut, **READ_ERRORS, 400: ErrorOut, 422: ErrorOut},
            summary="职工列表（脱敏，游标分页）")
def member_list(request, response: HttpResponse, filters: Query[MemberListQuery]):
    refuse_identifier_in_url(filters.q, search_path="/api/v1/members/search")
    page = _member_page(request, q=filters.q, unit_id=filters.unit_id, cursor=filters.cursor,
                        limit=filters.limit)
    _no_store(response)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- POST /members/search -----------------------------------------------------------------------

class MemberSearchIn(InputSchema):
    q: str = Field("", max_length=50, description="完整身份证号或手机号放在请求体里，不进访问日志")
    unit_id: int | None = None
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class MemberSearchOut(Schema):
    items: list[MemberListItemOut]
    next_cursor: str | None


@router.post("/search", response={200: MemberSearchOut, **READ_ERRORS, 422: ErrorOut},
             summary="按身份证号/手机号查找职工（条件在请求体中）")
def member_search(request, response: HttpResponse, payload: MemberSearchIn):
    page = _member_page(request, q=payload.q, unit_id=payload.unit_id, cursor=payload.cursor,
                        limit=payload.limit)
    _no_store(response)
    return {"items": page.items, "next_cursor": page.next_cursor}


# -- GET /members/{id} --------------------------------------------------------------------------

class MemberDetailOut(Schema):
    id: int
    name: str
    sex: str
    org_unit_id: int
    org_unit_name: str = Field(..., alias="org_unit.name")
    id_number_masked: str
    phone_masked: str
    bank_account_masked: str
    employment_form: str
    membership_status: str
    joined_on: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime


@router.get("/{member_id}", response={200: MemberDetailOut, **READ_ERRORS},
            summary="职工详情（脱敏）")
def member_detail(request, response: HttpResponse, member_id: int):
    member = selectors.member_get_for_user(user=request.auth, pk=member_id)
    _no_store(response)
    return member


# -- POST /members ------------------------------------------------------------------------------

class MemberCreateIn(InputSchema):
    name: str = Field(..., max_length=50)
    id_number: str = Field(..., max_length=20)
    org_unit_id: int
    phone: str = Field("", max_length=20)
    bank_account: str = Field("", max_length=40)
    employment_form: EmploymentForm = EmploymentForm.REGULAR
    membership_status: MembershipStatus = MembershipStatus.ACTIVE
    joined_on: dt.date | None = None


class MemberCreateOut(Schema):
    id: int
    name: str
    sex: str
    org_unit_id: int
    id_number_masked: str
    phone_masked: str
    bank_account_masked: str
    employment_form: str
    membership_status: str
    joined_on: dt.date | None


@router.post("", response={201: MemberCreateOut, **WRITE_ERRORS}, summary="新增职工")
def member_create(request, payload: MemberCreateIn):
    unit = _unit_for(request.auth, payload.org_unit_id, "members.change")
    member = services.member_create(
        actor=request.auth, org_unit=unit,
        **payload.model_dump(exclude={"org_unit_id"}),
    )
    return Status(201, member)


# -- PATCH /members/{id} ------------------------------------------------------------------------

class MemberUpdateIn(InputSchema):
    name: str | None = Field(None, max_length=50)
    id_number: str | None = Field(None, max_length=20)
    org_unit_id: int | None = None
    phone: str | None = Field(None, max_length=20)
    bank_account: str | None = Field(None, max_length=40)
    employment_form: EmploymentForm | None = None
    membership_status: MembershipStatus | None = None
    joined_on: dt.date | None = None


class MemberUpdateOut(Schema):
    id: int
    name: str
    sex: str
    org_unit_id: int
    id_number_masked: str
    phone_masked: str
    bank_account_masked: str
    employment_form: str
    membership_status: str
    joined_on: dt.date | None


@router.patch("/{member_id}", response={200: MemberUpdateOut, **WRITE_ERRORS},
              summary="修改职工信息（只传要改的字段）")
def member_update(request, member_id: int, payload: MemberUpdateIn):
    member = selectors.member_get_for_user(user=request.auth, pk=member_id)
    fields = payload.model_dump(exclude_unset=True)
    nullable = {"joined_on", "phone", "bank_account"}
    for key in [k for k, v in fields.items() if v is None and k not in nullable]:
        del fields[key]  # null means "leave as is" for required fields
    for key in ("phone", "bank_account"):
        if key in fields and fields[key] is None:
            fields[key] = ""
    if "org_unit_id" in fields:
        fields["org_unit"] = _unit_for(request.auth, fields.pop("org_unit_id"), "members.change")
    return services.member_update(actor=request.auth, member=member, **fields)


# -- POST /members/{id}/reveal ------------------------------------------------------------------

class MemberRevealIn(InputSchema):
    field: str = Field(..., description="id_number、phone 或 bank_account")


class MemberRevealOut(Schema):
    field: str
    value: str


@router.post("/{member_id}/reveal", response={200: MemberRevealOut, **WRITE_ERRORS},
             summary="查看完整证件号/手机号/银行账号（留痕）")
def member_reveal(request, response: HttpResponse, member_id: int, payload: MemberRevealIn):
    member = selectors.member_get_for_user(user=request.auth, pk=member_id)
    value = services.member_reveal(actor=request.auth, member=member, field=payload.field)
    _no_store(response)
    return {"field": payload.field, "value": value}


# -- GET/POST /members/{id}/household -----------------------------------------------------------

class HouseholdPersonOut(Schema):
    id: int
    name: str
    relation: str
    relation_label: str = Field(..., alias="get_relation_display")
    birth_year: int | None = Field(None, description="出生年份（完整日期随证件号脱敏）")
    id_number_masked: str
    occupation: str
    has_health_note: bool


def _household_view(person, *, health_consent: bool):
    """Masked view of a household person; a health note counts only while consent is in force
    (withdrawn consent stops processing). The note itself is never returned here."""
    person.id_number_masked = masking.mask_id_number(person.id_number)
    person.birth_year = person.birth_date.year if person.birth_date else None
    person.has_health_note = bool(person.health_note) and health_consent
    return person


@router.get("/{member_id}/household", response={200: list[HouseholdPersonOut], **READ_ERRORS},
            summary="家庭成员（脱敏；健康状况不在此返回）")
def household_list(request, response: HttpResponse, member_id: int):
    member = selectors.member_get_for_user(user=request.auth, pk=member_id)
    _no_store(response)
    consent = services.has_consent(member, ConsentKind.HEALTH)
    return [_household_view(p, health_consent=consent)
            for p in selectors.household_for(member=member)]


class HouseholdAddIn(InputSchema):
    name: str = Field(..., max_length=50)
    relation: Relation
    birth_date: dt.date | None = None
    id_number: str = Field("", max_length=20)
    health_note: str = Field("", max_length=500)
    occupation: str = Field("", max_length=60)


class HouseholdAddOut(Schema):
    id: int
    name: str
    relation: str
    birth_year: int | None = None
    id_number_masked: str
    occupation: str
    has_health_note: bool


@router.post("/{member_id}/household", response={201: HouseholdAddOut, **WRITE_ERRORS},
             summary="登记家庭成员")
def household_add(request, member_id: int, payload: HouseholdAddIn):
    member = selectors.member_get_for_user(user=request.auth, pk=member_id)
    person = services.household_member_add(actor=request.auth, member=member, **payload.model_dump())
    return Status(201, _household_view(person, health_consent=bool(payload.health_note)))


# -- POST/DELETE /members/{id}/consents ---------------------------------------------------------

class ConsentGrantIn(InputSchema):
    kind: ConsentKind
    method: str = Field("书面签字", max_length=60)


class ConsentGrantOut(Schema):
    id: int
    kind: str
    granted_at: dt.datetime
    method: str


@router.post("/{member_id}/consents", response={201: ConsentGrantOut, **WRITE_ERRORS},
             summary="登记职工的单独同意（健康信息、未成年子女信息）")
def consent_grant(request, member_id: int, payload: ConsentGrantIn):
    member = selectors.member_get_for_user(user=request.auth, pk=member_id)
    consent = services.consent_grant(actor=request.auth, member=member, kind=payload.kind,
                                     method=payload.method)
    return Status(201, consent)


@router.delete("/{member_id}/consents/{kind}", response={204: None, **WRITE_ERRORS},
               summary="撤回同意")
def consent_withdraw(request, member_id: int, kind: ConsentKind):
    member = selectors.member_get_for_user(user=request.auth, pk=member_id)
    if not services.consent_withdraw(actor=request.auth, member=member, kind=kind):
        raise NotFound(_("该职工没有有效的此类同意。"))
    return Status(204, None)
