"""The one reader of household profiles (家庭情况, 六清): the latest snapshot of a member, and a
snapshot as a given reader may see it for a given purpose, with the health and children's
consent (PIPL art. 28–31, sensitive personal data) applied here and nowhere else.

Every page, API endpoint, form prefill and archive page that shows a profile goes through
``profile_for`` (or ``profiles_for`` for a member's history); none of them decrypts
``HouseholdProfile.data_json`` or asks ``has_consent`` for a profile itself.

The rule (one answer per field; "current" = the member's latest consent of that kind is not
withdrawn, read at the time of reading, whatever was consented when the snapshot was taken):

* Without a current **health** consent, the health data is *withheld*, never zeroed or faked:
  ``health`` (the health block) is ``None``; each person's ``health`` key is absent;
  ``expenses["medical_annual"]`` is absent; a sudden loss caused by an illness
  (``sudden_loss.kind == "major_illness"``: its kind, amount and note) is ``None``; the causes
  因病/因残 are left out of ``causes``; ``has_major_illness`` and ``has_disability`` are ``None``.
  The free-text health note is never given in clear to a viewer (``has_note`` only; its reveal is
  a separate, journaled action), only to the one recording the next snapshot (``RECORD``).
* Without a current **children's** consent, each household member under 14 (relation child or
  grandchild, ``visits.profile.needs_children_consent``) is replaced by the marker
  ``{"withheld": True}`` (no name, age, health, schooling or occupation), and their schooling
  rows (matched by name) are left out.
* **Names**: a viewer (``VIEW``) sees the member's own name in clear and every other household
  name (household and schooling rows) masked (``core.masking.mask_name``); the one recording the
  next snapshot (``RECORD``: the visit form's prefill, which needs ``visits.record`` over the
  member's unit) gets them in clear, because the form sends them back as the new snapshot.
* **Computed figures** (household size, annual income, rigid expenses, per-capita monthly
  income, children in school) are computed from the full data when the snapshot is recorded
  (``visits.profile.derive``) and are shown as they are: computations may use withheld data,
  display may not show the withheld data itself. The hardship category (``archive.category``)
  is computed from the full snapshot too and does not change with consent.

``ProfileView`` is read-only (frozen, its data behind read-only mappings and tuples);
``ProfileView.as_dict()`` gives a plain copy for JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from unionaid.accounts.access import access_for
from unionaid.core import masking
from unionaid.core.errors import NotFound
from unionaid.members.models import ConsentKind, Member
from unionaid.members.services import has_consent
from unionaid.visits import profile as profilelib
from unionaid.visits.models import HouseholdProfile, Visit

WITHHELD = MappingProxyType({"withheld": True})


class Purpose(StrEnum):
    VIEW = "view"  # a page, an API answer, the archive: names masked, the health note hidden
    RECORD = "record"  # the visit form's prefill: names and the health note in clear


def latest_profile(member: Member) -> HouseholdProfile | None:
    """The member's latest snapshot (newest ``taken_on``, then newest id), in one query, with
    what the reader and the pages use already joined."""
    return (HouseholdProfile.objects.filter(member_id=member.pk)
            .select_related("member__org_unit", "visit", "recorded_by")
            .order_by("-taken_on", "-id").first())


@dataclass(frozen=True)
class Consents:
    """The member's current consents, read once for one or more snapshots."""

    health: bool
    children: bool

    @classmethod
    def of(cls, member: Member) -> Consents:
        return cls(health=has_consent(member, ConsentKind.HEALTH),
                   children=has_consent(member, ConsentKind.CHILDREN))


def _freeze(value):
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value):
    if isinstance(value, MappingProxyType | dict):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class ProfileView:
    """One snapshot as a reader may see it (see the module's rule). ``data`` has the shape of
    ``visits.profile`` with the withheld parts absent, ``None`` or ``{"withheld": True}``."""

    pk: int
    member_id: int
    visit_id: int | None
    taken_on: Any
    recorded_by_name: str
    household_size: int
    annual_income: Decimal
    rigid_expenses: Decimal
    per_capita_monthly: Decimal
    housing: str
    children_in_school: int
    cause_codes: tuple[str, ...]
    has_major_illness: bool | None
    has_disability: bool | None
    health_ok: bool
    children_ok: bool
    purpose: Purpose
    data: MappingProxyType = field(repr=False)

    @property
    def id(self) -> int:
        return self.pk

    @property
    def withheld(self) -> frozenset[str]:
        """What this reading leaves out: ``{"health", "children"}`` or a part of it."""
        return frozenset(k for k, ok in (("health", self.health_ok),
                                         ("children", self.children_ok)) if not ok)

    def as_dict(self) -> dict[str, Any]:
        """The visible six-clear data as plain dicts and lists (a copy)."""
        return _thaw(self.data)


def _is_minor(person: dict) -> bool:
    return profilelib.needs_children_consent({"household": [person]})


def _visible_data(data: dict[str, Any], *, consents: Consents, purpose: Purpose) -> dict:
    """The decrypted snapshot with the rule applied (the module's docstring says which)."""
    clear_names = purpose == Purpose.RECORD
    minors = {p["name"] for p in data["household"] if _is_minor(p)}
    household = []
    for person in data["household"]:
        if not consents.children and _is_minor(person):
            household.append(dict(WITHHELD))
            continue
        person = dict(person)
        if not (clear_names or person["relation"] == "self"):
            person["name"] = masking.mask_name(person["name"])
        if not consents.health:
            person.pop("health", None)
        household.append(person)
    schooling = []
    for row in data.get("schooling") or []:
        if not consents.children and row["name"] in minors:
            continue
        row = dict(row)
        if not clear_names:
            row["name"] = masking.mask_name(row["name"])
        schooling.append(row)
    expenses = dict(data.get("expenses") or {})
    health = dict(data.get("health") or {})
    loss = data.get("sudden_loss")
    if consents.health:
        if not clear_names:
            health["has_note"] = bool(health.pop("note", ""))
    else:
        health = None
        expenses.pop("medical_annual", None)
        if profilelib.is_health_loss(loss):
            loss = None
    return {
        **data, "household": household, "schooling": schooling, "expenses": expenses,
        "health": health, "sudden_loss": loss,
        "causes": profilelib.visible_causes(data.get("causes") or [],
                                            health_ok=consents.health),
    }


def _view(profile: HouseholdProfile, *, consents: Consents, purpose: Purpose) -> ProfileView:
    data = _visible_data(json.loads(profile.data_json), consents=consents, purpose=purpose)
    return ProfileView(
        pk=profile.pk, member_id=profile.member_id, visit_id=profile.visit_id,
        taken_on=profile.taken_on,
        recorded_by_name=profile.recorded_by.display_name if profile.recorded_by_id else "",
        household_size=profile.household_size, annual_income=profile.annual_income,
        rigid_expenses=profile.rigid_expenses, per_capita_monthly=profile.per_capita_monthly,
        housing=profile.housing, children_in_school=profile.children_in_school,
        cause_codes=tuple(profilelib.visible_causes(profile.cause_codes,
                                                    health_ok=consents.health)),
        has_major_illness=profile.has_major_illness if consents.health else None,
        has_disability=profile.has_disability if consents.health else None,
        health_ok=consents.health, children_ok=consents.children, purpose=Purpose(purpose),
        data=_freeze(data),
    )


def _check_purpose(reader, member: Member, purpose: Purpose) -> None:
    if purpose == Purpose.RECORD and (reader is None or not access_for(reader).covers_unit(
            "visits.record", member.org_unit)):
        raise NotFound()


def profile_for(*, reader, member_or_visit: Member | Visit | HouseholdProfile,
                purpose: Purpose | str) -> ProfileView | None:
    """The snapshot ``reader`` reads for ``purpose``, with the consent rule applied (see the
    module's docstring): a member's latest snapshot, the one taken on a visit, or a snapshot
    already loaded (e.g. the one an archive record was computed on). ``None`` when there is
    none. The caller has loaded the member, visit or snapshot through its scoped getter; the
    ``RECORD`` purpose also needs ``visits.record`` over the member's unit (else not found).
    ``reader`` is ``None`` only for a service that reads on the member's behalf (the facts an
    application is pre-filled with): the rule is the same, and ``RECORD`` is refused."""
    purpose = Purpose(purpose)
    if isinstance(member_or_visit, HouseholdProfile):
        profile = member_or_visit
    elif isinstance(member_or_visit, Visit):
        profile = (HouseholdProfile.objects.filter(visit=member_or_visit)
                   .select_related("member__org_unit", "recorded_by").first())
    else:
        profile = latest_profile(member_or_visit)
    if profile is None:
        return None
    _check_purpose(reader, profile.member, purpose)
    return _view(profile, consents=Consents.of(profile.member), purpose=purpose)


def profiles_for(*, reader, member: Member, profiles,
                 purpose: Purpose | str) -> list[ProfileView]:
    """Several snapshots of one member (their history, newest first), the consents read once."""
    purpose = Purpose(purpose)
    _check_purpose(reader, member, purpose)
    consents = Consents.of(member)
    return [_view(p, consents=consents, purpose=purpose) for p in profiles]
