"""Recording a household profile snapshot (家庭情况). A profile is never edited: each visit or
re-check records a new dated snapshot, so history shows how the household changed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from unionaid.audit.services import audit_record
from unionaid.core.errors import ServiceError
from unionaid.members.models import ConsentKind, Member
from unionaid.members.services import has_consent, require_unit_perm
from unionaid.visits import profile as profilelib
from unionaid.visits.models import HouseholdProfile, Visit


def profile_data(profile: HouseholdProfile) -> dict[str, Any]:
    """The decrypted six-clear profile of a snapshot."""
    return json.loads(profile.data_json)


def require_consent_for(member: Member, data: dict[str, Any]) -> None:
    """Health details and minors' data are processed only with the member's consent."""
    if profilelib.needs_health_consent(data) and not has_consent(member, ConsentKind.HEALTH):
        raise ServiceError(_("家庭情况含健康信息，须先登记职工的健康信息同意。"),
                           code="consent_required", fields={"health": _("缺少健康信息同意。")})
    if profilelib.needs_children_consent(data) and not has_consent(member, ConsentKind.CHILDREN):
        raise ServiceError(_("家庭情况含未满14周岁子女信息，须先登记职工的同意。"),
                           code="consent_required",
                           fields={"household": _("缺少未成年子女信息同意。")})


@transaction.atomic
def profile_record(
    *, actor, member: Member, data: dict[str, Any], taken_on: dt.date, visit: Visit | None = None,
) -> HouseholdProfile:
    """Validate ``data`` (see ``visits.profile``) and store it as a new encrypted snapshot."""
    require_unit_perm(actor, "visits.record", member.org_unit)
    clean = profilelib.clean_profile(data)
    require_consent_for(member, clean)
    derived = profilelib.derive(clean)
    profile = HouseholdProfile.objects.create(
        member=member, visit=visit, org_unit_id=member.org_unit_id, taken_on=taken_on,
        data_json=json.dumps(clean, ensure_ascii=False), recorded_by=actor, **derived,
    )
    # The journal keeps the derived figures only, never the household's details.
    audit_record(actor=actor, action="profile.record", target=member,
                 org_unit_path=member.org_unit.path,
                 changes={"profile": profile.pk, "taken_on": taken_on.isoformat(),
                          "household_size": derived["household_size"],
                          "per_capita_monthly": str(derived["per_capita_monthly"]),
                          "visit": visit.pk if visit else None})
    return profile
