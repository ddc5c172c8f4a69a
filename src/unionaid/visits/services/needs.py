"""Needs become work (需求转办): a need found on a visit becomes, in one step, an assistance
application draft pre-filled from the household profile (with the worker's consent recorded on
the need), or a follow-up with an owner; or it is closed as solved.

Pre-filled facts (``facts_from_profile``): an item's facts are matched by name to figures the
latest profile gives, only when the item asks for that fact with that type (and, for a choice,
when the value is one of its choices). The worker checks and completes them before submitting.

===================  ======================================================================
item fact            from the latest profile
===================  ======================================================================
per_capita_income    annual household income ÷ 12 ÷ household size — the item's own
                     definition ("家庭上年度总收入 ÷ 12 ÷ 家庭人口"), not the archive's figure
                     net of rigid expenses
self_paid            expenses.medical_annual, for items of the medical category (助医,
                     code ``zhuyi``) only; health data, so only with the health consent in force
patient              the one household person with a major illness, by relation
                     (spouse → 配偶, child → 子女, parent → 父母); health consent required
cause                sudden_loss.kind: major_illness → 家庭成员突发重病 (health data: only with
                     the health consent in force), disaster → 遭遇自然灾害
loss                 sudden_loss.amount when sudden_loss.kind is disaster
single_parent        "single_parent" among the causes of hardship
===================  ======================================================================

``household_size`` and ``children_count`` are member facts the rules compute from the member's
household register (``assistance.facts.MEMBER_FACTS``); an item cannot ask for them, so they
are not pre-filled here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.assistance.models import AssistanceItem
from unionaid.assistance.services.applications import application_create_draft
from unionaid.assistance.services.catalog import items_by_fit as catalog_items_by_fit
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, ServiceError
from unionaid.members.models import Member
from unionaid.visits.models import HouseholdProfile, NeedStatus, VisitNeed
from unionaid.visits.selectors.profiles import Purpose, latest_profile, profile_for
from unionaid.visits.services import followups
from unionaid.visits.services.followups import invalid, require_record

MEDICAL_CATEGORY = "zhuyi"
PATIENT_RELATIONS = {"spouse": "配偶", "child": "子女", "parent": "父母"}
SUDDEN_CAUSES = {"major_illness": "家庭成员突发重病", "disaster": "遭遇自然灾害"}
CENT = Decimal("0.01")
# The type an item's fact must have for the profile's figure to fill it.
PREFILL_TYPES = {"per_capita_income": "money", "self_paid": "money", "loss": "money",
              "patient": "choice", "cause": "choice", "single_parent": "bool"}
# The consent methods the pages offer: journaled as they are; any other (free) text only by its
# length, because the hash-chained journal can never be corrected or erased.
KNOWN_CONSENT_METHODS = frozenset({"书面签字", "当面口头同意", "电话确认", "走访时当面同意"})


@dataclass(frozen=True)
class ProfileFacts:
    """The figures the latest profile gives (see the module's table), read once for a member:
    ``facts_for_item`` then picks, with no query, what one item asks for. ``self_paid`` is
    kept apart: only items of the medical category are offered it."""

    candidates: dict[str, Any]
    self_paid: str | None


def profile_facts(*, member: Member, profile: HouseholdProfile | None) -> ProfileFacts | None:
    """The figures of ``profile`` as ``profile_for`` gives them (the consent rule applied
    there: health data only with the health consent, a child under 14 only with the children's
    consent); the per-capita income is the item's own figure from the plain columns."""
    if profile is None:
        return None
    view = profile_for(reader=None, member_or_visit=profile, purpose=Purpose.VIEW)
    data = view.data
    size = max(1, view.household_size)
    candidates: dict[str, Any] = {
        "per_capita_income": str((view.annual_income / 12 / size).quantize(
            CENT, rounding=ROUND_HALF_UP)),
        "single_parent": "single_parent" in data["causes"],
    }
    loss = data.get("sudden_loss") or {}
    if loss.get("kind") in SUDDEN_CAUSES:
        candidates["cause"] = SUDDEN_CAUSES[loss["kind"]]
    if loss.get("kind") == "disaster" and Decimal(loss.get("amount") or 0) > 0:
        candidates["loss"] = loss["amount"]
    self_paid = None
    medical = Decimal(data["expenses"].get("medical_annual") or 0)
    if medical > 0:
        self_paid = str(medical)
    ill = {PATIENT_RELATIONS[p["relation"]] for p in data["household"]
           if p.get("health") == "major_illness" and p.get("relation") in PATIENT_RELATIONS}
    if len(ill) == 1:
        candidates["patient"] = ill.pop()
    return ProfileFacts(candidates=candidates, self_paid=self_paid)


def facts_for_item(*, item: AssistanceItem, known: ProfileFacts | None) -> dict[str, Any]:
    """The item's facts that the profile's figures answer (no query: ``item.category`` is
    expected loaded, as ``catalog_items`` does)."""
    if known is None:
        return {}
    candidates = dict(known.candidates)
    if known.self_paid is not None and item.category.code == MEDICAL_CATEGORY:
        candidates["self_paid"] = known.self_paid
    facts: dict[str, Any] = {}
    for fact in item.facts or []:
        name = fact.get("name")
        if name not in candidates or fact.get("type") != PREFILL_TYPES[name]:
            continue
        value = candidates[name]
        if fact["type"] == "choice" and value not in fact.get("choices", []):
            continue
        facts[name] = value
    return facts


def facts_from_profile(*, item: AssistanceItem, member: Member,
                       profile: HouseholdProfile | None) -> dict[str, Any]:
    """The item's facts that the profile answers (see the module's table)."""
    return facts_for_item(item=item, known=profile_facts(member=member, profile=profile))


def items_by_fit(*, member: Member, items) -> tuple[list[dict], list[dict]]:
    """The open items split into those the member qualifies for and the others (each with its
    Chinese reasons): the catalog's split (``assistance.services.catalog.items_by_fit``, the
    same check an application meets when submitted) on the facts the latest profile pre-fills.
    The profile is read once, whatever the number of items."""
    known = profile_facts(member=member, profile=latest_profile(member))
    return catalog_items_by_fit(member=member, items=items,
                                facts_for=lambda item: facts_for_item(item=item, known=known))


def _lock(need: VisitNeed) -> VisitNeed:
    return (VisitNeed.objects.select_for_update(of=("self",))
            .select_related("visit__org_unit", "visit__member__org_unit", "application")
            .get(pk=need.pk))


def _require_open(need: VisitNeed) -> None:
    if need.status == NeedStatus.APPLICATION:
        raise Conflict(_("该需求已转为帮扶申请（编号 %(n)s），不能重复转办。")
                       % {"n": need.application_id or "—"}, code="need_converted")
    if need.status == NeedStatus.FOLLOW_UP:
        raise Conflict(_("该需求已转为跟进事项，不能重复转办。"), code="need_converted")
    if need.status == NeedStatus.CLOSED:
        raise Conflict(_("该需求已解决，不能再转办。"), code="need_closed")


def _member_of(need: VisitNeed) -> Member:
    member = need.visit.member
    if member is None:
        raise ServiceError(_("走访单位时发现的需求没有对应的职工，不能转办；"
                             "请入户走访该职工后登记。"), code="need_without_member")
    return member


def _audit(actor, action: str, need: VisitNeed, **changes) -> None:
    audit_record(actor=actor, action=action, target=need,
                 org_unit_path=need.visit.org_unit.path,
                 changes={"visit": need.visit_id, "kind": need.kind, **changes})


def _consent_method_changes(method: str) -> dict:
    if method in KNOWN_CONSENT_METHODS:
        return {"consent_method": method}
    return {"consent_method_length": len(method)}


def _label(need: VisitNeed) -> str:
    text = need.get_kind_display()
    return f"{text}：{need.note}" if need.note else text


@transaction.atomic
def need_to_application(*, actor, need: VisitNeed, item: AssistanceItem, consent_method: str):
    """An assistance application draft for the visited member, pre-filled from the latest
    profile, filed on their behalf (代办) with their consent recorded on the need."""
    need = _lock(need)
    require_record(actor, need.visit.org_unit)
    _require_open(need)
    member = _member_of(need)
    consent_method = str(consent_method or "").strip()
    if not consent_method:
        raise invalid("consent_method", _("请注明职工同意由工会代为申请的方式。"))
    facts = facts_from_profile(item=item, member=member, profile=latest_profile(member))
    reason = _("走访发现（%(day)s）：%(need)s") % {
        "day": need.visit.visited_on.isoformat(), "need": _label(need)}
    application = application_create_draft(actor=actor, member=member, item=item, facts=facts,
                                           reason=reason)
    need.status = NeedStatus.APPLICATION
    need.application = application
    need.consent_recorded_at = timezone.now()
    need.consent_method = consent_method[:60]
    need.save(update_fields=["status", "application", "consent_recorded_at", "consent_method"])
    _audit(actor, "need.to_application", need, application=application.pk, item=item.code,
           prefilled=sorted(facts), **_consent_method_changes(need.consent_method))
    return application


@transaction.atomic
def need_to_follow_up(*, actor, need: VisitNeed, owner, due_on: dt.date | str,
                      title: str = ""):
    """A follow-up for the visited member, owned by ``owner``, linked to the need."""
    need = _lock(need)
    require_record(actor, need.visit.org_unit)
    _require_open(need)
    member = _member_of(need)
    title = str(title or "").strip() or _label(need)[:followups.MAX_TITLE]
    clean = followups.clean_follow_up(member=member, title=title, owner=owner, due_on=due_on)
    follow_up = followups._create(actor=actor, member=member, clean=clean, visit=need.visit,
                                  need=need)
    need.status = NeedStatus.FOLLOW_UP
    need.save(update_fields=["status"])
    _audit(actor, "need.to_follow_up", need, follow_up=follow_up.pk, owner=owner.pk)
    return follow_up


@transaction.atomic
def need_close(*, actor, need: VisitNeed, note: str) -> VisitNeed:
    """Mark a need solved (``note``: how). Closing a closed need again changes nothing."""
    need = _lock(need)
    require_record(actor, need.visit.org_unit)
    if need.status == NeedStatus.CLOSED:
        return need
    note = str(note or "").strip()
    if not note:
        raise invalid("note", _("请填写解决情况。"))
    before = need.status
    need.status = NeedStatus.CLOSED
    need.resolved_at, need.resolution_note = timezone.now(), note[:300]
    need.save(update_fields=["status", "resolved_at", "resolution_note"])
    # free text stays on the need; the journal keeps its length only
    _audit(actor, "need.close", need, before=before, note_length=len(need.resolution_note))
    return need
