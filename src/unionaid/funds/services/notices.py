"""Telling the cadres responsible for a worker that an approved grant waits for their bank
account: a batch leaves out every grant whose worker has no account on file (the bank file
would carry an empty account), and the people who can register it are told.

Who is told: the holders of ``members.change`` posts at the NEAREST unit up the tree (the
member's unit first) that has a holder whose rights cover the member's unit — a bureau-wide post
only when nobody below it covers the unit (the rule of the archive's re-check reminders).

Never twice while unread: each notice's ``link`` is the member's edit page, and a recipient who
still has an unread notice with that link is not told again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.accounts.models import Assignment, DataScope, User
from unionaid.audit.services import audit_record
from unionaid.core import masking
from unionaid.funds.models import Disbursement
from unionaid.notifications.models import Notification
from unionaid.notifications.services import notify
from unionaid.org.models import OrgUnit

MEMBER_EDIT = "members.change"


@dataclass(frozen=True)
class _Grant:
    user_id: int
    scope: str
    unit_id: int
    unit_path: str

    def covers(self, unit: OrgUnit) -> bool:
        if self.scope == DataScope.ALL:
            return True
        if self.scope == DataScope.UNIT_AND_BELOW:
            return unit.path.startswith(self.unit_path)
        return self.scope == DataScope.UNIT and unit.pk == self.unit_id


def _grants() -> list[_Grant]:
    """Every current ``members.change`` grant of an active user (one query; posts are few)."""
    grants = []
    assignments = (Assignment.objects.current(timezone.now())
                   .filter(user__is_active=True, position__is_active=True,
                           position__org_unit__is_closed=False)
                   .select_related("position__org_unit").prefetch_related("position__roles"))
    for assignment in assignments:
        unit = assignment.position.org_unit
        for role in assignment.position.roles.all():
            if MEMBER_EDIT in (role.permissions or []):
                grants.append(_Grant(assignment.user_id, role.data_scope, unit.pk, unit.path))
    return grants


def responsible_for(unit: OrgUnit, grants: list[_Grant]) -> set[int]:
    """The users holding ``members.change`` at the nearest unit that covers ``unit``."""
    covering = [g for g in grants if g.scope != DataScope.SELF and g.covers(unit)]
    nearest = max((len(g.unit_path) for g in covering), default=-1)
    return {g.user_id for g in covering if len(g.unit_path) == nearest}


def missing_account_notify(*, actor, disbursements: Iterable[Disbursement]) -> int:
    """Tell the responsible cadres of each worker of ``disbursements`` (grants left out of a
    batch for want of a bank account) to register it. Runs in the caller's transaction;
    journaled once per call. Returns how many notices were sent."""
    rows = list(disbursements)
    if not rows:
        return 0
    grants = _grants()
    by_unit: dict[int, set[int]] = {}
    users: dict[int, User | None] = {}
    sent = 0
    for d in rows:
        member = d.member
        unit = member.org_unit
        if unit.pk not in by_unit:
            by_unit[unit.pk] = responsible_for(unit, grants)
        link = reverse("members:member-edit", args=[member.pk])
        for user_id in sorted(by_unit[unit.pk]):
            if user_id not in users:
                users[user_id] = User.objects.filter(pk=user_id, is_active=True).first()
            user = users[user_id]
            if user is None or Notification.objects.filter(
                    recipient=user, link=link, read_at__isnull=True).exists():
                continue
            notify(recipient=user,
                   title=_("请补登银行账号：%(name)s") % {"name": masking.mask_name(member.name)},
                   body=_("该职工有一笔已核准的帮扶款（%(amount)s 元）因未登记银行账号，未能列入"
                          "发放批次。请在职工信息中补登银行账号，补登后财务即可发放。")
                   % {"amount": f"{d.amount:,.2f}"},
                   link=link)
            sent += 1
    audit_record(actor=actor, action="funds.missing_account_notify",
                 changes={"disbursements": [d.pk for d in rows], "notices": sent})
    return sent
