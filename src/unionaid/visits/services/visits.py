"""Recording a visit (走访记录) in one step, safe to retry.

A cadre fills the form in a worker's home, often with a bad connection: the device keeps the
draft and sends it again until it gets an answer. ``visit_submit`` is therefore idempotent by
the draft's ``client_uuid`` (generated on the device when the form is opened): a second submit
of the same draft returns the visit the first one created, also when the two race (the unique
constraint decides, the loser returns the winner). Everything of a visit — the visit, consent
given on the spot, the profile snapshot, needs, follow-ups, photos, the journal — is written in
one transaction: a refused visit leaves nothing behind (photo files included).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.members.models import ConsentKind, Member
from unionaid.members.selectors import member_get_for_user
from unionaid.members.services import consent_grant, has_consent
from unionaid.org.models import OrgUnit
from unionaid.org.selectors import unit_get_for_user
from unionaid.visits import profile as profilelib
from unionaid.visits.models import (
    CampaignStatus,
    HouseholdProfile,
    NeedKind,
    Pairing,
    PairingKind,
    Satisfaction,
    Visit,
    VisitCampaign,
    VisitKind,
    VisitNeed,
)
from unionaid.visits.services import followups
from unionaid.visits.services import photos as photolib
from unionaid.visits.services.followups import invalid, parse_date, require_record
from unionaid.visits.services.profiles import profile_data, profile_record

RECORD = "visits.record"
MAX_ROWS = 20
MAX_PHOTOS_PER_SUBMIT = 10
DEFAULT_CONSENT_METHOD = "走访时当面同意"


@dataclass
class CleanVisit:
    """A visit's input, validated and resolved, before anything is written."""

    kind: str
    member: Member | None
    visited_unit: OrgUnit | None
    org_unit: OrgUnit
    campaign: VisitCampaign | None
    pairing: Pairing | None
    visited_on: dt.date
    visitors: str
    place: str
    summary: str
    satisfaction: int | None
    hardship_found: bool
    profile: dict[str, Any] | None
    consents: list[str] = field(default_factory=list)
    consent_method: str = DEFAULT_CONSENT_METHOD
    needs: list[dict] = field(default_factory=list)
    follow_ups: list[dict] = field(default_factory=list)


# -- parsing helpers ----------------------------------------------------------------------------

def parse_client_uuid(value) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value or "").strip())
    except ValueError:
        raise invalid("client_uuid", _("草稿编号无效，请刷新页面后重新填写。")) from None


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "yes", "是"}
    return bool(value)


def _opt_id(value, field_name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise invalid(field_name, _("请选择有效的选项。")) from None


def _text(data: dict, key: str, limit: int, label: str, *, required: bool = False) -> str:
    text = str(data.get(key) or "").strip()
    if required and not text:
        raise invalid(key, _("请填写%(label)s。") % {"label": label})
    if len(text) > limit:
        raise invalid(key, _("%(label)s不能超过 %(n)s 字。") % {"label": label, "n": limit})
    return text


def _rows(data: dict, key: str, label: str) -> list[dict]:
    rows = data.get(key) or []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise invalid(key, _("%(label)s格式不正确。") % {"label": label})
    if len(rows) > MAX_ROWS:
        raise invalid(key, _("%(label)s最多 %(n)s 条。") % {"label": label, "n": MAX_ROWS})
    return rows


# -- validation -------------------------------------------------------------------------------

def _target(actor, data: dict, kind: str) -> tuple[Member | None, OrgUnit | None]:
    member_id = _opt_id(data.get("member_id"), "member_id")
    unit_id = _opt_id(data.get("visited_unit_id"), "visited_unit_id")
    member = visited_unit = None
    if member_id is not None:
        member = member_get_for_user(user=actor, pk=member_id, perm=RECORD)
    if unit_id is not None:
        visited_unit = unit_get_for_user(user=actor, pk=unit_id, perm=RECORD)
    if kind == VisitKind.HOME and member is None:
        raise invalid("member_id", _("入户走访请选择走访的职工。"))
    if kind == VisitKind.WORKPLACE and visited_unit is None:
        raise invalid("visited_unit_id", _("走访单位请选择被走访的单位。"))
    return member, visited_unit


def visit_target_check(*, actor, data) -> None:
    """Resolve a draft's visited member and unit with the scoped selectors (``visits.record``)
    BEFORE ``visit_submit``, outside its transaction: an out-of-scope target raises NotFound
    here, and the ``access.denied`` entry it leaves is committed (inside ``visit_submit`` the
    NotFound would roll it back). Ids that are not numbers are left to ``visit_submit``'s own
    validation, which stays the guard."""
    if not isinstance(data, dict):
        return
    member_id, unit_id = data.get("member_id"), data.get("visited_unit_id")
    if str(member_id or "").strip().isdigit():
        member_get_for_user(user=actor, pk=member_id, perm=RECORD)
    if str(unit_id or "").strip().isdigit():
        unit_get_for_user(user=actor, pk=unit_id, perm=RECORD)


def _in_campaign_area(campaign: VisitCampaign, unit: OrgUnit) -> bool:
    roots = [u.path for u in campaign.covered_units.all()] or [campaign.org_unit.path]
    return any(unit.path.startswith(path) for path in roots)


def _campaign_and_pairing(actor, data: dict, *, member, visited_unit, org_unit,
                          visited_on) -> tuple[VisitCampaign | None, Pairing | None]:
    campaign_id = _opt_id(data.get("campaign_id"), "campaign_id")
    pairing_id = _opt_id(data.get("pairing_id"), "pairing_id")
    pairing = None
    if pairing_id is not None:
        pairing = (Pairing.objects.select_related("campaign__org_unit", "org_unit")
                   .filter(pk=pairing_id).first())
        access = access_for(actor)
        if pairing is None or not (pairing.cadre_id == actor.pk
                                   or access.covers_unit("visits.view", pairing.org_unit)):
            raise invalid("pairing_id", _("结对不存在或不在您的管辖范围内。"))
        if campaign_id is not None and pairing.campaign_id != campaign_id:
            raise invalid("pairing_id", _("所选结对不属于该走访行动。"))
        if pairing.kind == PairingKind.HOUSEHOLD and (
                member is None or pairing.member_id != member.pk):
            raise invalid("pairing_id", _("走访对象与结对的联系户不一致。"))
        if pairing.kind == PairingKind.UNIT and (
                visited_unit is None or pairing.target_unit_id != visited_unit.pk):
            raise invalid("pairing_id", _("走访单位与结对的联系单位不一致。"))
        campaign_id = pairing.campaign_id
    if campaign_id is None:
        return None, None
    campaign = (pairing.campaign if pairing is not None else
                VisitCampaign.objects.select_related("org_unit").filter(pk=campaign_id).first())
    if campaign is None or not _in_campaign_area(campaign, org_unit):
        raise invalid("campaign_id", _("走访行动不存在，或走访对象不在该行动的覆盖范围内。"))
    if campaign.status != CampaignStatus.ACTIVE:
        raise invalid("campaign_id", _("走访行动“%(name)s”不在进行中，不能登记走访。")
                      % {"name": campaign.name})
    if not campaign.starts_on <= visited_on <= campaign.ends_on:
        raise invalid("visited_on",
                      _("走访日期不在走访行动“%(name)s”的时间范围（%(start)s 至 %(end)s）内。")
                      % {"name": campaign.name, "start": campaign.starts_on.isoformat(),
                         "end": campaign.ends_on.isoformat()})
    return campaign, pairing


def _profile(data: dict, member: Member | None, kind: str) -> dict | None:
    raw = data.get("profile")
    if not raw:
        if kind == VisitKind.HOME:
            raise invalid("profile", _("入户走访须填写家庭情况（六清）。"))
        return None
    if member is None:
        raise invalid("profile", _("走访单位时未指定职工，不能登记家庭情况。"))
    try:
        return profilelib.clean_profile(raw)
    except ServiceError as exc:
        fields = {f"profile.{k}": v for k, v in (exc.fields or {}).items()}
        raise ServiceError(exc.message, code=exc.code, fields=fields) from None


def _consents(data: dict, member: Member | None, profile: dict | None) -> tuple[list[str], str]:
    raw = data.get("consent") or {}
    if not isinstance(raw, dict):
        raise invalid("consent", _("同意信息格式不正确。"))
    method = str(raw.get("method") or "").strip()[:60] or DEFAULT_CONSENT_METHOD
    wanted = [kind for kind in (ConsentKind.HEALTH, ConsentKind.CHILDREN) if _bool(raw.get(kind))]
    if member is None:
        return [], method
    kinds = [kind for kind in wanted if not has_consent(member, kind)]
    held = {kind: has_consent(member, kind) or kind in kinds
            for kind in (ConsentKind.HEALTH, ConsentKind.CHILDREN)}
    if profile is not None:
        if profilelib.needs_health_consent(profile) and not held[ConsentKind.HEALTH]:
            raise invalid("consent.health",
                          _("家庭情况含健康信息（疾病、残疾、医疗支出、因病因残致困、大病支出"
                            "或健康说明），须职工同意后才能登记："
                            "请勾选“职工已同意登记健康信息”，或删去健康信息。"))
        if profilelib.needs_children_consent(profile) and not held[ConsentKind.CHILDREN]:
            raise invalid("consent.children",
                          _("家庭情况含未满14周岁子女的信息，须职工同意后才能登记："
                            "请勾选“职工已同意登记未成年子女信息”，或删去该子女。"))
    return kinds, method


def _needs(data: dict) -> list[dict]:
    needs = []
    for n, row in enumerate(_rows(data, "needs", _("发现的需求"))):
        kind = str(row.get("kind") or "").strip()
        note = str(row.get("note") or "").strip()
        if not kind and not note:
            continue
        if kind not in NeedKind.values:
            raise invalid(f"needs.{n}.kind", _("请选择需求类型。"))
        if len(note) > 300:
            raise invalid(f"needs.{n}.note", _("需求说明不能超过 300 字。"))
        needs.append({"kind": kind, "note": note})
    return needs


def _follow_ups(actor, data: dict, member: Member | None, visited_on: dt.date) -> list[dict]:
    user_model = get_user_model()
    clean = []
    for n, row in enumerate(_rows(data, "follow_ups", _("跟进事项"))):
        if not str(row.get("title") or "").strip() and not row.get("due_on"):
            continue
        if member is None:
            raise invalid(f"follow_ups.{n}.title", _("跟进事项须对应一位职工：请先选择走访的职工。"))
        owner_id = _opt_id(row.get("owner_id"), f"follow_ups.{n}.owner_id")
        owner = actor if owner_id in (None, actor.pk) else (
            user_model.objects.filter(pk=owner_id, is_active=True).first())
        item = followups.clean_follow_up(member=member, title=row.get("title"), owner=owner,
                                         due_on=row.get("due_on"), field=f"follow_ups.{n}.")
        if item["due_on"] < visited_on:
            raise invalid(f"follow_ups.{n}.due_on", _("办理期限不能早于走访日期。"))
        clean.append(item)
    return clean


def clean_visit(*, actor, data: dict) -> CleanVisit:
    """Validate a visit's input against the rules and the actor's scope; writes nothing."""
    if not isinstance(data, dict):
        raise invalid("__all__", _("走访数据格式不正确。"))
    kind = str(data.get("kind") or VisitKind.HOME)
    if kind not in VisitKind.values:
        raise invalid("kind", _("请选择走访类型。"))
    member, visited_unit = _target(actor, data, kind)
    org_unit = member.org_unit if member is not None else visited_unit
    require_record(actor, org_unit)
    visited_on = parse_date(data.get("visited_on"), "visited_on", _("走访日期"))
    if visited_on > timezone.localdate():
        raise invalid("visited_on", _("走访日期不能晚于今天。"))
    campaign, pairing = _campaign_and_pairing(actor, data, member=member,
                                              visited_unit=visited_unit, org_unit=org_unit,
                                              visited_on=visited_on)
    satisfaction = _opt_id(data.get("satisfaction"), "satisfaction")
    if satisfaction is not None and satisfaction not in Satisfaction.values:
        raise invalid("satisfaction", _("请选择满意度。"))
    profile = _profile(data, member, kind)
    consents, method = _consents(data, member, profile)
    return CleanVisit(
        kind=kind, member=member, visited_unit=visited_unit, org_unit=org_unit,
        campaign=campaign, pairing=pairing, visited_on=visited_on,
        visitors=_text(data, "visitors", 200, _("走访人员"), required=True),
        place=_text(data, "place", 200, _("走访地点")),
        summary=_text(data, "summary", 4000, _("走访情况")),
        satisfaction=satisfaction, hardship_found=_bool(data.get("hardship_found")),
        profile=profile, consents=consents, consent_method=method, needs=_needs(data),
        follow_ups=_follow_ups(actor, data, member, visited_on),
    )


# -- submit -----------------------------------------------------------------------------------

def _same_draft(actor, visit: Visit, data: dict) -> Visit:
    """A repeat of a draft already sent: the same author and the same visited target."""
    if visit.recorded_by_id != getattr(actor, "pk", None):
        raise Conflict(_("该草稿编号已被其他人提交的走访使用，请刷新页面后重新填写。"),
                       code="client_uuid_conflict")
    member_id = _opt_id(data.get("member_id"), "member_id") if isinstance(data, dict) else None
    unit_id = (_opt_id(data.get("visited_unit_id"), "visited_unit_id")
               if isinstance(data, dict) else None)
    if member_id != visit.member_id or (unit_id is not None and unit_id != visit.visited_unit_id):
        raise Conflict(_("该草稿已提交为另一位职工（或单位）的走访，不能改为其他对象；"
                         "请新建一份走访记录。"), code="client_uuid_conflict")
    require_record(actor, visit.org_unit)
    return visit


def find_by_client_uuid(key: uuid.UUID) -> Visit | None:
    return Visit.objects.select_related("org_unit").filter(client_uuid=key).first()


@transaction.atomic
def visit_submit(*, actor, client_uuid, data: dict, photos=()) -> tuple[Visit, bool]:
    """Record a visit from its draft. Returns ``(visit, created)``: ``created`` is False when
    this draft (``client_uuid``) was already sent by the same cadre for the same target."""
    key = parse_client_uuid(client_uuid)
    existing = find_by_client_uuid(key)
    if existing is not None:
        return _same_draft(actor, existing, data), False
    clean = clean_visit(actor=actor, data=data)
    photos = [p for p in photos or () if p]
    if len(photos) > MAX_PHOTOS_PER_SUBMIT:
        raise invalid("photos", _("一次最多上传 %(n)s 张照片。") % {"n": MAX_PHOTOS_PER_SUBMIT})
    stored: list = []
    try:
        for upload in photos:
            stored.append(photolib.store_photo(upload))
        visit = Visit(client_uuid=key, kind=clean.kind, campaign=clean.campaign,
                      pairing=clean.pairing, member=clean.member, visited_unit=clean.visited_unit,
                      org_unit=clean.org_unit, visited_on=clean.visited_on,
                      visitors=clean.visitors, place=clean.place, summary=clean.summary,
                      satisfaction=clean.satisfaction, hardship_found=clean.hardship_found,
                      recorded_by=actor)
        try:
            with transaction.atomic():
                visit.save(force_insert=True)
        except IntegrityError:
            winner = find_by_client_uuid(key)
            if winner is None:
                raise
            photolib.discard(stored)
            return _same_draft(actor, winner, data), False
        _write_parts(actor=actor, visit=visit, clean=clean, stored=stored)
    except BaseException:
        photolib.discard(stored)
        raise
    return visit, True


def _write_parts(*, actor, visit: Visit, clean: CleanVisit, stored: list) -> None:
    member = clean.member
    for kind in clean.consents:
        consent_grant(actor=actor, member=member, kind=kind, method=clean.consent_method)
    profile = None
    if clean.profile is not None:
        profile = profile_record(actor=actor, member=member, data=clean.profile,
                                 taken_on=visit.visited_on, visit=visit)
    needs = [VisitNeed.objects.create(visit=visit, **need) for need in clean.needs]
    for item in clean.follow_ups:
        followups._create(actor=actor, member=member, clean=item, visit=visit)
    photolib.create_photo_rows(actor=actor, visit=visit, stored_files=stored)
    audit_record(actor=actor, action="visit.record", target=visit,
                 org_unit_path=visit.org_unit.path,
                 changes={"client_uuid": str(visit.client_uuid), "kind": visit.kind,
                          "member": visit.member_id, "visited_unit": visit.visited_unit_id,
                          "campaign": visit.campaign_id, "pairing": visit.pairing_id,
                          "visited_on": visit.visited_on.isoformat(),
                          "hardship_found": visit.hardship_found,
                          "profile": profile.pk if profile else None,
                          "consents": list(clean.consents),
                          "needs": [n.kind for n in needs],
                          "follow_ups": len(clean.follow_ups), "photos": len(stored)})


# -- a profile's health note -------------------------------------------------------------------

def profile_health_note_reveal(*, actor, profile: HouseholdProfile) -> str:
    """The free-text health note of a snapshot in clear: sensitive personal information, so it
    needs ``members.reveal`` over the member's unit and the health consent in force; every
    attempt is journaled (a refusal in its own transaction, so it survives)."""
    member = profile.member
    allowed = access_for(actor).covers_unit("members.reveal", member.org_unit)
    consented = has_consent(member, ConsentKind.HEALTH)
    with transaction.atomic():
        audit_record(actor=actor, action="profile.health_reveal", target=member,
                     outcome="ok" if allowed and consented else "denied",
                     org_unit_path=member.org_unit.path, changes={"profile": profile.pk})
    if not allowed:
        raise PermissionDenied(_("您无权查看完整信息。"))
    if not consented:
        raise PermissionDenied(_("职工已撤回或未给予健康信息同意，不予显示。"),
                               code="consent_required")
    return profile_data(profile)["health"]["note"]

