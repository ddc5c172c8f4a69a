"""Writes to member data. Each checks the actor's rights for the member's unit and journals
its change (sensitive values masked) in the same transaction."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.audit.services import audit_record, mask_changes
from unionaid.core import idcard, masking
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError
from unionaid.members.models import (
    Consent,
    ConsentKind,
    EmploymentForm,
    HouseholdMember,
    Member,
    MembershipStatus,
    Relation,
)
from unionaid.members.selectors import id_number_hash, members_visible_to, phone_hash
from unionaid.org.models import OrgUnit

SENSITIVE = {"id_number", "phone", "bank_account", "health_note"}
CHILD_AGE = 14  # PIPL art. 31: personal information of minors under 14


def _mask(key: str, value):
    if not value:
        return value or ""
    if key == "id_number":
        return masking.mask_id_number(value)
    if key == "phone":
        return masking.mask_phone(value)
    if key == "bank_account":
        return masking.mask_bank_account(value)
    return "***"


def require_unit_perm(actor, perm: str, unit: OrgUnit) -> None:
    if not access_for(actor).covers_unit(perm, unit):
        raise PermissionDenied(_("您无权在“%(unit)s”执行此操作。") % {"unit": unit.name})


def clean_member_fields(
    *, name: str, id_number: str, phone: str = "", bank_account: str = "",
    birth_date: dt.date | None = None, sex: str | None = None,
) -> dict[str, Any]:
    """Validate and normalise the identity fields; raise ServiceError with per-field messages."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {"name": (name or "").strip()}
    if not cleaned["name"]:
        errors["name"] = _("请填写姓名。")
    elif len(cleaned["name"]) > 50:
        errors["name"] = _("姓名过长。")
    try:
        info = idcard.parse_id_number(id_number or "")
        idcard.validate_matches(info, birth_date=birth_date, sex=sex)
        cleaned.update(id_number=info.number, birth_date=info.birth_date, sex=info.sex)
    except idcard.IdNumberError as exc:
        errors["id_number"] = str(exc)
    cleaned["phone"] = ""
    if phone and phone.strip():
        try:
            cleaned["phone"] = masking.validate_phone(phone)
        except masking.PhoneError as exc:
            errors["phone"] = str(exc)
    account = (bank_account or "").replace(" ", "")
    if account and not (account.isdigit() and 12 <= len(account) <= 30):
        errors["bank_account"] = _("银行账号应为12至30位数字。")
    cleaned["bank_account"] = account
    if errors:
        raise ServiceError(next(iter(errors.values())), code="validation_error", fields=errors)
    return cleaned


def _snapshot(member: Member) -> dict[str, Any]:
    return {
        "name": member.name,
        "id_number": member.id_number,
        "phone": member.phone,
        "bank_account": member.bank_account,
        "org_unit": member.org_unit.name if member.org_unit_id else None,
        "employment_form": member.employment_form,
        "membership_status": member.membership_status,
        "joined_on": member.joined_on,
    }


def _apply_identity(member: Member, cleaned: dict[str, Any]) -> None:
    member.name = cleaned["name"]
    member.id_number = cleaned["id_number"]
    member.id_number_hash = id_number_hash(cleaned["id_number"])
    member.birth_date = cleaned["birth_date"]
    member.sex = cleaned["sex"]
    member.phone = cleaned["phone"]
    member.phone_hash = phone_hash(cleaned["phone"]) if cleaned["phone"] else ""
    member.bank_account = cleaned["bank_account"]


def _choice(value, choices, field: str, label: str) -> str:
    if value not in choices.values:
        raise ServiceError(
            _("%(label)s无效。") % {"label": label}, code="validation_error", fields={field: label}
        )
    return value


class _IdNumberTaken(Exception):
    """Raised inside a member write's transaction when the ID number is already a member's;
    answered by ``_answers_duplicate_id`` once that transaction has rolled back."""

    def __init__(self, digest: str, unit: OrgUnit):
        super().__init__(digest)
        self.digest, self.unit = digest, unit


def _duplicate_id_conflict(*, actor, action: str, taken: _IdNumberTaken) -> Conflict:
    """The answer to an ID number that is already a member's.

    A member the actor may see: the plain answer (they can find that member). Any other member:
    the same code, with nothing about whose it is or where, and the try is journaled (outcome
    ``denied``) naming the existing member, for the auditors of that member's unit.
    """
    existing = (Member.objects.select_related("org_unit")
                .filter(id_number_hash=taken.digest).first())
    if existing is None or members_visible_to(user=actor).filter(pk=existing.pk).exists():
        message = _("该身份证号已登记为职工。")
    else:
        message = _("该身份证号已登记，请联系上级工会核实。")
        with transaction.atomic():
            audit_record(
                actor=actor, action="member.duplicate_id_number", outcome="denied",
                target=existing, org_unit_path=existing.org_unit.path,
                changes={"attempted": action, "unit": taken.unit.name,
                         "unit_path": taken.unit.path},
            )
    return Conflict(message, code="duplicate_id_number", fields={"id_number": message})


def _answers_duplicate_id(action: str):
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*, actor, **kwargs):
            try:
                return func(actor=actor, **kwargs)
            except _IdNumberTaken as taken:
                # Outside the write's transaction, so that the journal entry stays.
                raise _duplicate_id_conflict(actor=actor, action=action, taken=taken) from None
        return wrapper
    return decorate


@_answers_duplicate_id("member.create")
@transaction.atomic
def member_create(
    *, actor, name: str, id_number: str, org_unit: OrgUnit, phone: str = "",
    bank_account: str = "", employment_form: str = EmploymentForm.REGULAR,
    membership_status: str = MembershipStatus.ACTIVE, joined_on: dt.date | None = None,
) -> Member:
    require_unit_perm(actor, "members.change", org_unit)
    if org_unit.is_closed:
        raise ServiceError(_("该单位已撤销，不能新增职工。"), code="unit_closed")
    cleaned = clean_member_fields(
        name=name, id_number=id_number, phone=phone, bank_account=bank_account
    )
    member = Member(
        org_unit=org_unit,
        employment_form=_choice(employment_form, EmploymentForm, "employment_form", _("用工形式")),
        membership_status=_choice(
            membership_status, MembershipStatus, "membership_status", _("会籍状态")
        ),
        joined_on=joined_on,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _apply_identity(member, cleaned)
    if Member.objects.filter(id_number_hash=member.id_number_hash).exists():
        raise _IdNumberTaken(member.id_number_hash, org_unit)
    try:
        with transaction.atomic():
            member.save(force_insert=True)
    except IntegrityError:
        raise _IdNumberTaken(member.id_number_hash, org_unit) from None
    audit_record(
        actor=actor, action="member.create", target=member, org_unit_path=org_unit.path,
        changes=mask_changes({}, _snapshot(member), sensitive=SENSITIVE, masker=_mask),
    )
    return member


@_answers_duplicate_id("member.update")
@transaction.atomic
def member_update(*, actor, member: Member, **fields) -> Member:
    """Change a member. Identity fields are re-validated together; moving the member to another
    unit needs rights in both units."""
    member = Member.objects.select_for_update().select_related("org_unit").get(pk=member.pk)
    require_unit_perm(actor, "members.change", member.org_unit)
    before = _snapshot(member)
    identity = {
        "name": fields.get("name", member.name),
        "id_number": fields.get("id_number", member.id_number),
        "phone": fields.get("phone", member.phone),
        "bank_account": fields.get("bank_account", member.bank_account),
    }
    cleaned = clean_member_fields(**identity)
    new_hash = id_number_hash(cleaned["id_number"])
    if new_hash != member.id_number_hash and Member.objects.filter(id_number_hash=new_hash).exists():
        raise _IdNumberTaken(new_hash, fields.get("org_unit") or member.org_unit)
    _apply_identity(member, cleaned)
    if "org_unit" in fields and fields["org_unit"].pk != member.org_unit_id:
        target = fields["org_unit"]
        require_unit_perm(actor, "members.change", target)
        if target.is_closed:
            raise ServiceError(_("目标单位已撤销。"), code="unit_closed")
        member.org_unit = target
    if "employment_form" in fields:
        member.employment_form = _choice(
            fields["employment_form"], EmploymentForm, "employment_form", _("用工形式")
        )
    if "membership_status" in fields:
        member.membership_status = _choice(
            fields["membership_status"], MembershipStatus, "membership_status", _("会籍状态")
        )
    if "joined_on" in fields:
        member.joined_on = fields["joined_on"]
    after = _snapshot(member)
    changes = mask_changes(before, after, sensitive=SENSITIVE, masker=_mask)
    if not changes:
        return member
    member.save()
    audit_record(actor=actor, action="member.update", target=member,
                 org_unit_path=member.org_unit.path, changes=changes)
    return member


REVEALABLE = frozenset({"id_number", "phone", "bank_account"})  # fields shown in clear on request


def member_reveal(*, actor, member: Member, field: str) -> str:
    """Return one sensitive value in clear; needs members.reveal and is journaled.

    A refused attempt is journaled too, in its own transaction so the refusal survives.
    """
    if field not in REVEALABLE:
        raise ServiceError(_("不支持查看该字段。"), code="invalid_field")
    allowed = access_for(actor).covers_unit("members.reveal", member.org_unit)
    with transaction.atomic():
        audit_record(actor=actor, action="member.reveal", target=member,
                     outcome="ok" if allowed else "denied",
                     org_unit_path=member.org_unit.path, changes={"field": field})
    if not allowed:
        raise PermissionDenied(_("您无权查看完整信息。"))
    return getattr(member, field)


# -- consent and household ------------------------------------------------------------------

def has_consent(member: Member, kind: str) -> bool:
    latest = member.consents.filter(kind=kind).order_by("-granted_at", "-pk").first()
    return bool(latest and latest.withdrawn_at is None)


@transaction.atomic
def consent_grant(*, actor, member: Member, kind: str, method: str = "书面签字") -> Consent:
    require_unit_perm(actor, "members.consent", member.org_unit)
    _choice(kind, ConsentKind, "kind", _("同意类别"))
    consent = Consent.objects.create(
        member=member, kind=kind, granted_at=timezone.now(), method=method[:60],
        recorded_by=actor,
    )
    audit_record(actor=actor, action="consent.grant", target=member,
                 org_unit_path=member.org_unit.path, changes={"kind": kind, "method": method})
    return consent


@transaction.atomic
def consent_withdraw(*, actor, member: Member, kind: str) -> int:
    """Withdraw consent; the sensitive data it covered stops being processed (and shown)."""
    require_unit_perm(actor, "members.consent", member.org_unit)
    count = member.consents.filter(kind=kind, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )
    if count:
        audit_record(actor=actor, action="consent.withdraw", target=member,
                     org_unit_path=member.org_unit.path, changes={"kind": kind})
    return count


def _age_on(birth: dt.date | None, day: dt.date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@transaction.atomic
def household_member_add(
    *, actor, member: Member, name: str, relation: str, birth_date: dt.date | None = None,
    id_number: str = "", health_note: str = "", occupation: str = "",
) -> HouseholdMember:
    require_unit_perm(actor, "members.change", member.org_unit)
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("请填写家庭成员姓名。"), code="validation_error",
                           fields={"name": _("请填写家庭成员姓名。")})
    _choice(relation, Relation, "relation", _("关系"))
    person = HouseholdMember(member=member, name=name[:50], relation=relation,
                             occupation=occupation[:60])
    if id_number:
        try:
            info = idcard.parse_id_number(id_number)
        except idcard.IdNumberError as exc:
            raise ServiceError(str(exc), code=exc.code, fields={"id_number": str(exc)}) from None
        person.id_number = info.number
        person.id_number_hash = id_number_hash(info.number)
        birth_date = birth_date or info.birth_date
    person.birth_date = birth_date
    age = _age_on(birth_date, timezone.localdate())
    if age is not None and age < CHILD_AGE and not has_consent(member, ConsentKind.CHILDREN):
        raise PermissionDenied(
            _("登记未满14周岁子女的信息需先取得职工的单独同意。"), code="consent_required"
        )
    if health_note:
        if not has_consent(member, ConsentKind.HEALTH):
            raise PermissionDenied(_("登记健康信息需先取得职工的单独同意。"),
                                   code="consent_required")
        person.health_note = health_note
    person.save()
    audit_record(
        actor=actor, action="household.add", target=member, org_unit_path=member.org_unit.path,
        changes={"name": masking.mask_name(name), "relation": relation,
                 "health_note": "***" if health_note else ""},
    )
    return person


def household_health_note_reveal(*, actor, member: Member, person: HouseholdMember) -> str:
    """A household person's health note in clear: sensitive personal information (PIPL art. 28),
    so it needs members.reveal and the health consent in force, and every attempt is journaled."""
    allowed = access_for(actor).covers_unit("members.reveal", member.org_unit)
    consented = has_consent(member, ConsentKind.HEALTH)
    with transaction.atomic():
        audit_record(actor=actor, action="household.health_reveal", target=member,
                     outcome="ok" if allowed and consented else "denied",
                     org_unit_path=member.org_unit.path, changes={"household_member": person.pk})
    if not allowed:
        raise PermissionDenied(_("您无权查看完整信息。"))
    if not consented:
        raise PermissionDenied(_("职工已撤回或未给予健康信息同意，不予显示。"),
                               code="consent_required")
    return person.health_note


def household_health_note(*, member: Member, person: HouseholdMember) -> str | None:
    """The health note if consent is in force, else None (withdrawn consent blocks processing)."""
    if not person.health_note:
        return ""
    return person.health_note if has_consent(member, ConsentKind.HEALTH) else None


def unit_close_guard(unit: OrgUnit) -> None:
    """Close guard (``org/guards.py``): a unit whose subtree still has members stays open."""
    member_count = Member.objects.filter(org_unit__path__startswith=unit.path).count()
    if member_count:
        raise Conflict(
            _("“%(unit)s”及其下级单位还有 %(n)d 名职工，请先将他们调至其他单位。")
            % {"unit": unit.name, "n": member_count},
            code="unit_has_members",
        )
