"""Visit campaigns (走访行动) and pairings (结对: 一人一企 / 一对一联系户).

A campaign belongs to the unit that runs it and covers a set of units (their whole subtrees).
Organising it — creating, changing, closing, pairing cadres with units or households — is the
``visits.campaign`` permission over the campaign's unit; every unit it touches (covered units,
pairing targets, the cadres' posts) must also lie inside the organiser's own scope, so nobody
organises beyond what they hold. ``actor=None`` is the system (demo, set-up commands) and
skips the rights checks, never the rules.

One unit or household has one cadre per campaign (database constraints back the check up).
A closed campaign is read-only. Every write is journaled in its own transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.org.models import OrgUnit
from unionaid.visits.models import CampaignStatus, Pairing, PairingKind, VisitCampaign
from unionaid.visits.selectors.campaigns import eligible_cadres

CAMPAIGN_PERM = "visits.campaign"
NAME_MAX = 100
DESCRIPTION_MAX = 2000
NOTE_MAX = 200
TARGET_MAX = 10_000_000


def _invalid(field: str, message: str, code: str = "invalid_campaign") -> ServiceError:
    return ServiceError(message, code=code, fields={field: message})


def _covers(actor, unit: OrgUnit) -> bool:
    return actor is None or access_for(actor).covers_unit(CAMPAIGN_PERM, unit)


def require_campaign_perm(actor, unit: OrgUnit) -> None:
    """``visits.campaign`` over ``unit`` (the campaign's unit), or PermissionDenied."""
    if not _covers(actor, unit):
        raise PermissionDenied(_("您无权在“%(unit)s”组织走访行动。") % {"unit": unit.name},
                               code="campaign_forbidden")


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise _invalid("name", _("请填写行动名称（不超过 100 字）。"))
    return name


def _clean_period(starts_on: dt.date | None, ends_on: dt.date | None) -> None:
    if starts_on is None:
        raise _invalid("starts_on", _("请填写开始日期。"))
    if ends_on is None:
        raise _invalid("ends_on", _("请填写结束日期。"))
    if ends_on < starts_on:
        raise _invalid("ends_on", _("结束日期不能早于开始日期。"))


def _clean_target(value, field: str) -> int:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        raise _invalid(field, _("目标须为整数。")) from None
    if number < 0 or number > TARGET_MAX:
        raise _invalid(field, _("目标须为 0 至 10000000 之间的整数。"))
    return number


def _clean_covered(actor, org_unit: OrgUnit, covered_units: Iterable[OrgUnit] | None
                   ) -> list[OrgUnit]:
    """The covered units, checked and normalised.

    Empty means the campaign's own unit. Each must be an open unit in the campaign unit's
    subtree and in the actor's scope. A unit under another covered unit adds nothing (its
    subtree is already covered) and is dropped, so the per-unit figures never count twice.
    """
    units = {u.pk: u for u in (covered_units or [])}
    if not units:
        units = {org_unit.pk: org_unit}
    # Re-read: paths and the closed flag come from the database, not from the caller's objects.
    fresh = list(OrgUnit.objects.filter(pk__in=list(units)).order_by("path"))
    if len(fresh) != len(units):
        raise _invalid("covered_units", _("覆盖单位不存在。"))
    for unit in fresh:
        if unit.is_closed:
            raise _invalid("covered_units",
                           _("“%(unit)s”已撤销，不能纳入走访行动。") % {"unit": unit.name})
        if not unit.path.startswith(org_unit.path):
            raise _invalid("covered_units",
                           _("“%(unit)s”不在发起单位“%(org)s”的范围内。")
                           % {"unit": unit.name, "org": org_unit.name})
        if not _covers(actor, unit):
            raise _invalid("covered_units",
                           _("“%(unit)s”不在您的管辖范围内。") % {"unit": unit.name})
    kept: list[OrgUnit] = []
    for unit in fresh:  # sorted by path: an ancestor comes before its descendants
        if not any(unit.path.startswith(k.path) for k in kept):
            kept.append(unit)
    return kept


def _snapshot(campaign: VisitCampaign, covered: list[OrgUnit] | None = None) -> dict:
    covered = covered if covered is not None else list(campaign.covered_units.all())
    return {
        "name": campaign.name, "org_unit": campaign.org_unit_id,
        "starts_on": campaign.starts_on.isoformat(), "ends_on": campaign.ends_on.isoformat(),
        "covered_units": sorted(u.pk for u in covered), "target_units": campaign.target_units,
        "target_workers": campaign.target_workers, "description": campaign.description,
        "status": campaign.status,
    }


@transaction.atomic
def campaign_create(
    *, actor, name: str, org_unit: OrgUnit, starts_on: dt.date, ends_on: dt.date,
    covered_units: Iterable[OrgUnit] | None, target_units: int = 0, target_workers: int = 0,
    description: str = "",
) -> VisitCampaign:
    """Start a campaign run by ``org_unit``, covering ``covered_units`` (default: itself)."""
    if org_unit is None:
        raise _invalid("org_unit", _("请选择发起单位。"))
    require_campaign_perm(actor, org_unit)
    if org_unit.is_closed:
        raise _invalid("org_unit", _("发起单位已撤销。"))
    name = _clean_name(name)
    _clean_period(starts_on, ends_on)
    covered = _clean_covered(actor, org_unit, covered_units)
    campaign = VisitCampaign.objects.create(
        name=name, org_unit=org_unit, starts_on=starts_on, ends_on=ends_on,
        description=(description or "").strip()[:DESCRIPTION_MAX],
        target_units=_clean_target(target_units, "target_units"),
        target_workers=_clean_target(target_workers, "target_workers"),
        status=CampaignStatus.ACTIVE, created_by=actor,
    )
    campaign.covered_units.set(covered)
    audit_record(actor=actor, action="campaign.create", target=campaign,
                 org_unit_path=org_unit.path, changes=_snapshot(campaign, covered))
    return campaign


def _locked(campaign: VisitCampaign) -> VisitCampaign:
    return (VisitCampaign.objects.select_for_update().select_related("org_unit")
            .get(pk=campaign.pk))


def _require_open(campaign: VisitCampaign) -> None:
    if campaign.status == CampaignStatus.CLOSED:
        raise Conflict(_("走访行动已结束，不能再修改。"), code="campaign_closed")


@transaction.atomic
def campaign_update(
    *, actor, campaign: VisitCampaign, name: str, starts_on: dt.date, ends_on: dt.date,
    covered_units: Iterable[OrgUnit] | None, target_units: int = 0, target_workers: int = 0,
    description: str = "",
) -> VisitCampaign:
    """Change a running campaign. Its unit stays; a covered unit still holding pairings can't
    be dropped (remove those pairings first)."""
    campaign = _locked(campaign)
    require_campaign_perm(actor, campaign.org_unit)
    _require_open(campaign)
    name = _clean_name(name)
    _clean_period(starts_on, ends_on)
    covered = _clean_covered(actor, campaign.org_unit, covered_units)
    stranded = campaign.pairings.select_related("org_unit").exclude(
        pk__in=Pairing.objects.filter(campaign=campaign).filter(
            _subtree_q("org_unit", covered)).values("pk"))
    first = stranded.first()
    if first is not None:
        raise _invalid("covered_units",
                       _("“%(unit)s”还有结对，不能从覆盖单位中去掉；请先解除这些结对。")
                       % {"unit": first.org_unit.name}, code="covered_unit_in_use")
    before = _snapshot(campaign)
    campaign.name, campaign.starts_on, campaign.ends_on = name, starts_on, ends_on
    campaign.description = (description or "").strip()[:DESCRIPTION_MAX]
    campaign.target_units = _clean_target(target_units, "target_units")
    campaign.target_workers = _clean_target(target_workers, "target_workers")
    campaign.save(update_fields=["name", "starts_on", "ends_on", "description", "target_units",
                                 "target_workers"])
    campaign.covered_units.set(covered)
    after = _snapshot(campaign, covered)
    audit_record(actor=actor, action="campaign.update", target=campaign,
                 org_unit_path=campaign.org_unit.path,
                 changes={k: {"before": before[k], "after": v}
                          for k, v in after.items() if before[k] != v})
    return campaign


@transaction.atomic
def campaign_close(*, actor, campaign: VisitCampaign) -> VisitCampaign:
    """End a campaign: it keeps its figures and takes no more pairings or changes.
    Closing a closed campaign is a no-op (a retried click)."""
    campaign = _locked(campaign)
    require_campaign_perm(actor, campaign.org_unit)
    if campaign.status == CampaignStatus.CLOSED:
        return campaign
    before = campaign.status
    campaign.status = CampaignStatus.CLOSED
    campaign.save(update_fields=["status"])
    audit_record(actor=actor, action="campaign.close", target=campaign,
                 org_unit_path=campaign.org_unit.path,
                 changes={"status": {"before": before, "after": campaign.status}})
    return campaign


def _subtree_q(field: str, units: Iterable[OrgUnit]) -> Q:
    q = Q(pk__in=[])
    for unit in units:
        q |= Q(**{f"{field}__path__startswith": unit.path})
    return q


# -- pairings ---------------------------------------------------------------------------------

def _check_cadre(actor, campaign: VisitCampaign, cadre) -> None:
    if cadre is None or not eligible_cadres(actor=actor, campaign=campaign).filter(
            pk=cadre.pk).exists():
        raise _invalid("cadre", _("结对干部须是在本行动范围内、您管辖范围内在岗的工作人员。"),
                       code="invalid_cadre")


def _pairing_target(campaign: VisitCampaign, kind: str, target_unit, member) -> OrgUnit:
    """The unit the pairing belongs to (for data scope), after checking kind and target."""
    if kind == PairingKind.UNIT:
        if target_unit is None:
            raise _invalid("target_unit", _("请选择联系单位。"), code="invalid_pairing")
        if member is not None:
            raise _invalid("member", _("联系单位的结对不能同时指定职工。"), code="invalid_pairing")
        unit = OrgUnit.objects.get(pk=target_unit.pk)
        if unit.is_closed:
            raise _invalid("target_unit", _("该单位已撤销。"), code="invalid_pairing")
    elif kind == PairingKind.HOUSEHOLD:
        if member is None:
            raise _invalid("member", _("请选择联系户（职工）。"), code="invalid_pairing")
        if target_unit is not None:
            raise _invalid("target_unit", _("联系户的结对不能同时指定单位。"),
                           code="invalid_pairing")
        unit = OrgUnit.objects.get(pk=member.org_unit_id)
    else:
        raise _invalid("kind", _("请选择结对类型。"), code="invalid_pairing")
    covered = list(campaign.covered_units.all())
    if not any(unit.path.startswith(c.path) for c in covered):
        field = "target_unit" if kind == PairingKind.UNIT else "member"
        raise _invalid(field, _("结对对象须在本行动的覆盖单位内。"), code="outside_campaign")
    return unit


def _existing(campaign: VisitCampaign, kind: str, target_unit, member) -> Pairing | None:
    qs = Pairing.objects.select_related("cadre").filter(campaign=campaign, kind=kind)
    if kind == PairingKind.UNIT:
        return qs.filter(target_unit=target_unit).first()
    return qs.filter(member=member).first()


def _taken(existing: Pairing, kind: str) -> Conflict:
    who = existing.cadre.get_full_name() or existing.cadre.get_username()
    message = (_("该单位在本行动中已由 %(cadre)s 结对联系，一个单位只能有一名结对干部。")
               if kind == PairingKind.UNIT else
               _("该职工家庭在本行动中已由 %(cadre)s 结对联系，一户只能有一名结对干部。"))
    return Conflict(message % {"cadre": who}, code="already_paired")


@transaction.atomic
def pairing_add(
    *, actor, campaign: VisitCampaign, cadre, kind: str, target_unit: OrgUnit | None = None,
    member=None, note: str = "",
) -> Pairing:
    """Pair ``cadre`` with a unit (一人一企) or a household (一对一联系户).

    Adding the same pairing again returns the existing one (a retried submit); another cadre
    already holding the unit or household is a Conflict.
    """
    campaign = _locked(campaign)  # serialises pairing changes of one campaign
    require_campaign_perm(actor, campaign.org_unit)
    _require_open(campaign)
    unit = _pairing_target(campaign, kind, target_unit, member)
    if not _covers(actor, unit):
        raise NotFound()
    _check_cadre(actor, campaign, cadre)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise _invalid("note", _("备注不超过 200 字。"), code="invalid_pairing")
    existing = _existing(campaign, kind, target_unit, member)
    if existing is not None:
        if existing.cadre_id == cadre.pk:
            return existing
        raise _taken(existing, kind)
    pairing = Pairing(campaign=campaign, cadre=cadre, kind=kind, target_unit=target_unit,
                      member=member, org_unit=unit, note=note)
    try:
        with transaction.atomic():
            pairing.save(force_insert=True)
    except IntegrityError:
        existing = _existing(campaign, kind, target_unit, member)
        if existing is not None:
            raise _taken(existing, kind) from None
        raise Conflict(_("结对未能保存，请刷新后重试。"), code="already_paired") from None
    audit_record(actor=actor, action="pairing.add", target=pairing, org_unit_path=unit.path,
                 changes={"campaign": campaign.pk, "cadre": cadre.pk, "kind": kind,
                          "target_unit": target_unit.pk if target_unit else None,
                          "member": member.pk if member else None})
    return pairing


@transaction.atomic
def pairing_remove(*, actor, campaign: VisitCampaign, pairing: Pairing) -> None:
    """Undo a pairing (e.g. the cadre moved). Visits already recorded stay in the campaign and
    in the ledger; they just no longer point at the pairing."""
    campaign = _locked(campaign)
    require_campaign_perm(actor, campaign.org_unit)
    _require_open(campaign)
    pairing = (Pairing.objects.select_for_update().filter(pk=pairing.pk, campaign=campaign)
               .select_related("org_unit").first())
    if pairing is None:
        raise NotFound()
    if not _covers(actor, pairing.org_unit):
        raise NotFound()
    snapshot = {"campaign": campaign.pk, "cadre": pairing.cadre_id, "kind": pairing.kind,
                "target_unit": pairing.target_unit_id, "member": pairing.member_id,
                "visits": pairing.visits.count()}
    path, pk, label = pairing.org_unit.path, pairing.pk, str(pairing)
    pairing.delete()
    audit_record(actor=actor, action="pairing.remove", target_type="visits.pairing",
                 target_id=pk, target_label=label, org_unit_path=path, changes=snapshot)
