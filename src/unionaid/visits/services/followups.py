"""Follow-ups (跟进事项): something to do for a member after a visit (or after leaving the
archive), with an owner and a due date.

Rights: creating one needs ``visits.record`` over the member's unit, and the owner must hold
``visits.record`` there too (a follow-up given to someone who cannot see the household would
never be done). Marking one done: anyone with ``visits.record`` over its unit (its owner, or a
colleague standing in).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from unionaid.members.models import Member
from unionaid.visits.models import FollowUp, FollowUpStatus, NeedStatus, Visit, VisitNeed

RECORD = "visits.record"
MAX_TITLE = 200
MAX_NOTE = 300


def invalid(field: str, message: str) -> ServiceError:
    """An input error naming the field (the API answers 422)."""
    return ServiceError(message, code="validation_error", fields={field: message})


def require_record(actor, unit) -> None:
    """``visits.record`` over ``unit``: out of all view scope looks like "not found"."""
    access = access_for(actor)
    if access.covers_unit(RECORD, unit):
        return
    if access.covers_unit("visits.view", unit):
        raise PermissionDenied(_("您无权在“%(unit)s”登记走访或办理事项。") % {"unit": unit.name})
    raise NotFound()


def parse_date(value, field: str, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        raise invalid(field, _("请填写%(label)s。") % {"label": label})
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise invalid(field, _("%(label)s格式不正确，应为 年-月-日。") % {"label": label}) from None


def clean_follow_up(*, member: Member, title, owner, due_on, field: str = "") -> dict:
    """Validate one follow-up's title, owner and due date (``field`` prefixes error names)."""
    title = str(title or "").strip()
    if not title:
        raise invalid(f"{field}title", _("请填写跟进事项内容。"))
    if len(title) > MAX_TITLE:
        raise invalid(f"{field}title", _("跟进事项内容不能超过 %(n)s 字。") % {"n": MAX_TITLE})
    if owner is None or not getattr(owner, "is_active", False):
        raise invalid(f"{field}owner_id", _("请选择有效的责任人。"))
    if not access_for(owner).covers_unit(RECORD, member.org_unit):
        raise invalid(f"{field}owner_id",
                      _("责任人“%(name)s”无权办理该职工的事项，请另选责任人。")
                      % {"name": owner.display_name})
    due = parse_date(due_on, f"{field}due_on", _("办理期限"))
    return {"title": title, "owner": owner, "due_on": due}


def _audit(actor, action: str, follow_up: FollowUp, **changes) -> None:
    # an explicit label: the default (``str(follow_up)``) is its free-text title, which must not
    # enter the hash-chained journal (it can never be corrected or erased there)
    audit_record(actor=actor, action=action, target=follow_up,
                 target_label=_("跟进事项 #%(n)s") % {"n": follow_up.pk},
                 org_unit_path=follow_up.org_unit.path, changes=changes)


def _create(*, actor, member: Member, clean: dict, visit: Visit | None = None,
            need: VisitNeed | None = None, hardship_record=None) -> FollowUp:
    follow_up = FollowUp.objects.create(
        member=member, org_unit=member.org_unit, visit=visit, need=need,
        hardship_record=hardship_record, created_by=actor, **clean)
    _audit(actor, "follow_up.create", follow_up, member=member.pk, owner=clean["owner"].pk,
           due_on=clean["due_on"].isoformat(), visit=visit.pk if visit else None,
           need=need.pk if need else None,
           hardship_record=hardship_record.pk if hardship_record else None)
    return follow_up


@transaction.atomic
def follow_up_create(*, actor, member: Member, title: str, owner, due_on,
                     visit: Visit | None = None, need: VisitNeed | None = None,
                     hardship_record=None) -> FollowUp:
    """A follow-up for ``member`` owned by ``owner`` (the archive's exit follow-ups pass
    ``hardship_record``)."""
    require_record(actor, member.org_unit)
    if visit is not None and visit.member_id != member.pk:
        raise invalid("visit_id", _("所选走访记录不是该职工的。"))
    clean = clean_follow_up(member=member, title=title, owner=owner, due_on=due_on)
    return _create(actor=actor, member=member, clean=clean, visit=visit, need=need,
                   hardship_record=hardship_record)


def _lock(follow_up: FollowUp) -> FollowUp:
    return (FollowUp.objects.select_for_update(of=("self",))
            .select_related("org_unit", "member", "need").get(pk=follow_up.pk))


@transaction.atomic
def follow_up_done(*, actor, follow_up: FollowUp, note: str, visit: Visit | None = None
                   ) -> FollowUp:
    """Mark a follow-up done with what was done (``note``), optionally the visit that did it.
    Done again: returns it unchanged (a retry). A need it came from is resolved with it."""
    follow_up = _lock(follow_up)
    require_record(actor, follow_up.org_unit)
    if follow_up.status == FollowUpStatus.DONE:
        return follow_up
    if follow_up.status == FollowUpStatus.CANCELLED:
        raise Conflict(_("该跟进事项已取消，不能办结。"), code="follow_up_cancelled")
    note = str(note or "").strip()
    if not note:
        raise invalid("note", _("请填写办理结果。"))
    if visit is not None and visit.member_id != follow_up.member_id:
        raise invalid("visit_id", _("所选走访记录不是该职工的。"))
    follow_up.status = FollowUpStatus.DONE
    follow_up.done_at = timezone.now()
    follow_up.done_note = note[:MAX_NOTE]
    follow_up.done_visit = visit
    follow_up.save(update_fields=["status", "done_at", "done_note", "done_visit"])
    _audit(actor, "follow_up.done", follow_up, visit=visit.pk if visit else None,
           note_length=len(follow_up.done_note))  # the note itself stays on the follow-up
    need = follow_up.need
    if need is not None and need.status == NeedStatus.FOLLOW_UP:
        VisitNeed.objects.filter(pk=need.pk, status=NeedStatus.FOLLOW_UP).update(
            status=NeedStatus.CLOSED, resolved_at=follow_up.done_at)
        audit_record(actor=actor, action="need.close", target=need,
                     org_unit_path=follow_up.org_unit.path,
                     changes={"follow_up": follow_up.pk, "via": "follow_up.done"})
    return follow_up
