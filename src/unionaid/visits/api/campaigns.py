"""/api/v1/visits/campaigns: visit campaigns (走访行动), their dashboard and pairings (结对).

The same rules as the pages: a campaign is visible where it meets the caller's ``visits.view``
scope (or the caller is paired in it); its pairings and figures are cut to that scope plus the
caller's own pairings and visits. Organising needs ``visits.campaign`` over the campaign's
unit. Out of scope is "not found"; refusals come back as ``{code, message}`` in Chinese.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from unionaid.accounts.models import User
from unionaid.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset_page, next_link
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema, QuerySchema
from unionaid.members.selectors import member_get_for_user
from unionaid.org.selectors import unit_get_for_user
from unionaid.visits.models import CampaignStatus, PairingKind
from unionaid.visits.selectors import campaigns as selectors
from unionaid.visits.services import campaigns as services

router = Router(tags=["visits"])
CAMPAIGN_PERM = "visits.campaign"


def _no_store(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"


def _units(user, ids: list[int]):
    return [unit_get_for_user(user=user, pk=pk, perm=CAMPAIGN_PERM) for pk in dict.fromkeys(ids)]


# -- GET / ------------------------------------------------------------------------------------

class CampaignListQuery(QuerySchema):
    status: CampaignStatus | None = None
    q: str = Field("", max_length=50, description="行动名称包含的文字")
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class CampaignListItemOut(Schema):
    id: int
    name: str
    status: str
    status_label: str = Field(..., alias="get_status_display")
    org_unit_id: int
    org_unit_name: str = Field(..., alias="org_unit.name")
    starts_on: dt.date
    ends_on: dt.date
    target_units: int
    target_workers: int


class CampaignListOut(Schema):
    items: list[CampaignListItemOut]
    next_cursor: str | None
    next: str | None


@router.get("", response={200: CampaignListOut, **READ_ERRORS, 422: ErrorOut},
            summary="走访行动列表（管辖范围内发起或覆盖的，以及本人结对的）")
def campaign_list(request, filters: Query[CampaignListQuery]):
    qs = selectors.campaign_list(user=request.auth, status=filters.status or "",
                                 query=filters.q)
    page = keyset_page(qs, cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- POST / -----------------------------------------------------------------------------------

class CampaignCreateIn(InputSchema):
    name: str = Field(..., max_length=100)
    org_unit_id: int = Field(..., description="发起单位")
    starts_on: dt.date
    ends_on: dt.date
    covered_unit_ids: list[int] = Field(default_factory=list, max_length=500,
                                        description="覆盖单位（含下级）；不填为发起单位本身")
    target_units: int = Field(0, ge=0)
    target_workers: int = Field(0, ge=0)
    description: str = Field("", max_length=2000)


class CampaignCreateOut(Schema):
    id: int
    name: str
    status: str
    org_unit_id: int
    starts_on: dt.date
    ends_on: dt.date
    covered_unit_ids: list[int]
    target_units: int
    target_workers: int
    description: str


def _with_covered(campaign):
    campaign.covered_unit_ids = [u.pk for u in selectors.covered_units_of(campaign)]
    return campaign


@router.post("", response={201: CampaignCreateOut, **WRITE_ERRORS},
             summary="发起走访行动（需“组织走访行动与结对”权限）")
def campaign_create(request, payload: CampaignCreateIn):
    user = request.auth
    org_unit = unit_get_for_user(user=user, pk=payload.org_unit_id, perm=CAMPAIGN_PERM)
    campaign = services.campaign_create(
        actor=user, name=payload.name, org_unit=org_unit, starts_on=payload.starts_on,
        ends_on=payload.ends_on, covered_units=_units(user, payload.covered_unit_ids),
        target_units=payload.target_units, target_workers=payload.target_workers,
        description=payload.description)
    return Status(201, _with_covered(campaign))


# -- GET /{id} --------------------------------------------------------------------------------

class UnitOut(Schema):
    id: int
    name: str


class FiguresOut(Schema):
    pairings: int
    pairings_visited: int
    visits: int
    units_visited: int = Field(..., description="走访单位数（走访单位记录中不同的单位）")
    workers_visited: int = Field(..., description="走访职工数（入户走访中不同的职工）")
    hardship_found: int = Field(..., description="发现困难户（标记发现困难的不同职工）")
    solved: int = Field(..., description="解决问题数（已解决或已转帮扶申请的需求 + 已办结跟进事项）")


class CadreFiguresOut(FiguresOut):
    cadre_id: int
    name: str
    username: str
    visited_percent: int | None
    behind: bool = Field(..., description="已走访结对占比低于时间进度")


class UnitFiguresOut(FiguresOut):
    unit_id: int
    unit_name: str


class TargetOut(Schema):
    code: str = Field(..., description="units 走访单位 / workers 走访职工")
    target: int
    actual: int
    percent: int | None


class SatisfactionOut(Schema):
    average: Decimal | None
    count: int


class DashboardOut(Schema):
    as_of: dt.date
    period_days: int
    elapsed_days: int
    elapsed_percent: int
    partial: bool = Field(..., description="只统计了调用者管辖范围内的数据")
    totals: FiguresOut
    satisfaction: SatisfactionOut
    targets: list[TargetOut]
    behind_count: int
    cadres: list[CadreFiguresOut] = Field(..., description="滞后的干部在前")
    units: list[UnitFiguresOut]


class MyPairingOut(Schema):
    id: int
    kind: str
    target_unit_id: int | None
    target_unit_name: str | None
    member_id: int | None
    member_name: str | None
    visited: bool
    last_visited_on: dt.date | None


class CampaignDetailOut(Schema):
    id: int
    name: str
    status: str
    status_label: str
    org_unit_id: int
    org_unit_name: str
    starts_on: dt.date
    ends_on: dt.date
    description: str
    target_units: int
    target_workers: int
    covered_units: list[UnitOut]
    can_manage: bool
    dashboard: DashboardOut
    my_pairings: list[MyPairingOut]


class DetailQuery(QuerySchema):
    as_of: dt.date | None = Field(None, description="按该日计算时间进度（默认今天）")


def _figures(row) -> dict:
    return {name: getattr(row, name) for name in (
        "pairings", "pairings_visited", "visits", "units_visited", "workers_visited",
        "hardship_found", "solved")}


def _dashboard(board) -> dict:
    return {
        "as_of": board.today, "period_days": board.period_days,
        "elapsed_days": board.elapsed_days, "elapsed_percent": board.elapsed_percent,
        "partial": board.partial, "totals": _figures(board.totals),
        "satisfaction": {"average": board.satisfaction_avg, "count": board.satisfaction_count},
        "targets": [{"code": t.code, "target": t.target, "actual": t.actual,
                     "percent": t.percent} for t in board.targets],
        "behind_count": board.behind_count,
        "cadres": [{**_figures(r), "cadre_id": r.cadre_id, "name": r.name,
                    "username": r.username, "visited_percent": r.visited_percent,
                    "behind": r.behind} for r in board.cadres],
        "units": [{**_figures(r), "unit_id": r.unit.pk, "unit_name": r.unit.name}
                  for r in board.units],
    }


@router.get("/{campaign_id}", response={200: CampaignDetailOut, **READ_ERRORS, 422: ErrorOut},
            summary="走访行动详情与工作进度（按干部、按单位，滞后的干部在前）")
def campaign_detail(request, response: HttpResponse, campaign_id: int,
                    filters: Query[DetailQuery]):
    user = request.auth
    campaign = selectors.campaign_get_for_user(user=user, pk=campaign_id)
    board = selectors.campaign_dashboard(user=user, campaign=campaign, today=filters.as_of)
    _no_store(response)
    return {
        "id": campaign.pk, "name": campaign.name, "status": campaign.status,
        "status_label": campaign.get_status_display(), "org_unit_id": campaign.org_unit_id,
        "org_unit_name": campaign.org_unit.name, "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on, "description": campaign.description,
        "target_units": campaign.target_units, "target_workers": campaign.target_workers,
        "covered_units": [{"id": u.pk, "name": u.name}
                          for u in selectors.covered_units_of(campaign)],
        "can_manage": selectors.can_manage(user, campaign),
        "dashboard": _dashboard(board),
        "my_pairings": [
            {"id": p.pk, "kind": p.kind, "target_unit_id": p.target_unit_id,
             "target_unit_name": p.target_unit.name if p.target_unit_id else None,
             "member_id": p.member_id, "member_name": p.member.name if p.member_id else None,
             "visited": p.visited, "last_visited_on": p.last_visited_on}
            for p in selectors.my_pairings(user=user, campaign=campaign)],
    }


# -- PATCH /{id}, POST /{id}/close ------------------------------------------------------------

class CampaignUpdateIn(InputSchema):
    name: str | None = Field(None, max_length=100)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    # Not nullable: leave it out to keep the covered units, [] for the campaign's own unit.
    covered_unit_ids: list[int] = Field(None, max_length=500,
                                        description="覆盖单位（整体替换）；不传则不变")
    target_units: int | None = Field(None, ge=0)
    target_workers: int | None = Field(None, ge=0)
    description: str | None = Field(None, max_length=2000)


class CampaignUpdateOut(Schema):
    id: int
    name: str
    status: str
    starts_on: dt.date
    ends_on: dt.date
    covered_unit_ids: list[int]
    target_units: int
    target_workers: int
    description: str


@router.patch("/{campaign_id}", response={200: CampaignUpdateOut, **WRITE_ERRORS},
              summary="修改走访行动（只改提交的字段；已结束的行动不能修改）")
def campaign_update(request, campaign_id: int, payload: CampaignUpdateIn):
    user = request.auth
    campaign = selectors.campaign_get_for_user(user=user, pk=campaign_id)
    given = payload.dict(exclude_unset=True)
    covered = (_units(user, given["covered_unit_ids"]) if "covered_unit_ids" in given
               else selectors.covered_units_of(campaign))
    fields = {name: given[name] if given.get(name) is not None else getattr(campaign, name)
              for name in ("name", "starts_on", "ends_on", "target_units", "target_workers",
                           "description")}
    campaign = services.campaign_update(actor=user, campaign=campaign, covered_units=covered,
                                        **fields)
    return _with_covered(campaign)


class CampaignCloseOut(Schema):
    id: int
    status: str


@router.post("/{campaign_id}/close", response={200: CampaignCloseOut, **WRITE_ERRORS},
             summary="结束走访行动（重复调用无副作用）")
def campaign_close(request, campaign_id: int):
    campaign = selectors.campaign_get_for_user(user=request.auth, pk=campaign_id)
    return services.campaign_close(actor=request.auth, campaign=campaign)


# -- GET /{id}/pairings -----------------------------------------------------------------------

class PairingListQuery(QuerySchema):
    kind: PairingKind | None = None
    q: str = Field("", max_length=50, description="干部用户名/姓名开头、单位名称或职工姓名开头")
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class PairingListItemOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    cadre_id: int
    cadre_name: str = Field(..., alias="cadre.display_name")
    target_unit_id: int | None
    target_unit_name: str | None = Field(None, alias="target_unit.name")
    member_id: int | None
    member_name: str | None = Field(None, alias="member.name")
    org_unit_id: int
    org_unit_name: str = Field(..., alias="org_unit.name")
    note: str
    visited: bool
    last_visited_on: dt.date | None


class PairingListOut(Schema):
    items: list[PairingListItemOut]
    next_cursor: str | None
    next: str | None


@router.get("/{campaign_id}/pairings",
            response={200: PairingListOut, **READ_ERRORS, 422: ErrorOut},
            summary="结对名单（管辖范围内的，以及本人的）")
def pairing_list(request, response: HttpResponse, campaign_id: int,
                 filters: Query[PairingListQuery]):
    user = request.auth
    campaign = selectors.campaign_get_for_user(user=user, pk=campaign_id)
    qs = selectors.pairing_list(user=user, campaign=campaign, query=filters.q,
                                kind=filters.kind or "").order_by("pk")
    page = keyset_page(qs, cursor=filters.cursor, limit=filters.limit)
    _no_store(response)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor)}


# -- POST /{id}/pairings ----------------------------------------------------------------------

class PairingAddIn(InputSchema):
    cadre_id: int = Field(..., description="结对干部（在岗工作人员）的用户 id")
    kind: PairingKind
    target_unit_id: int | None = Field(None, description="一人一企：联系单位")
    member_id: int | None = Field(None, description="一对一联系户：职工 id")
    note: str = Field("", max_length=200)


class PairingAddOut(Schema):
    id: int
    campaign_id: int
    kind: str
    cadre_id: int
    target_unit_id: int | None
    member_id: int | None
    org_unit_id: int
    note: str
    created_at: dt.datetime


@router.post("/{campaign_id}/pairings", response={201: PairingAddOut, **WRITE_ERRORS},
             summary="添加结对（一个单位或一户在同一行动中只能有一名结对干部）")
def pairing_add(request, campaign_id: int, payload: PairingAddIn):
    user = request.auth
    campaign = selectors.campaign_get_for_user(user=user, pk=campaign_id)
    services.require_campaign_perm(user, campaign.org_unit)  # 403 before looking targets up
    target_unit = (unit_get_for_user(user=user, pk=payload.target_unit_id, perm=CAMPAIGN_PERM)
                   if payload.target_unit_id is not None else None)
    member = (member_get_for_user(user=user, pk=payload.member_id, perm=CAMPAIGN_PERM)
              if payload.member_id is not None else None)
    # Who may be paired is the service's rule; an unknown id is refused like an ineligible one.
    cadre = User.objects.filter(pk=payload.cadre_id).first()
    pairing = services.pairing_add(actor=user, campaign=campaign, cadre=cadre,
                                   kind=payload.kind, target_unit=target_unit, member=member,
                                   note=payload.note)
    return Status(201, pairing)


# -- DELETE /{id}/pairings/{pairing_id} -------------------------------------------------------

@router.delete("/{campaign_id}/pairings/{pairing_id}", response={204: None, **WRITE_ERRORS},
               summary="解除结对（已登记的走访记录保留）")
def pairing_remove(request, campaign_id: int, pairing_id: int):
    user = request.auth
    campaign = selectors.campaign_get_for_user(user=user, pk=campaign_id)
    pairing = selectors.pairing_get_for_user(user=user, campaign=campaign, pk=pairing_id)
    services.pairing_remove(actor=user, campaign=campaign, pairing=pairing)
    return Status(204, None)
