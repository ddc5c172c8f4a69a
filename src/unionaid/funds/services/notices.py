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

from django.urls import reverse
from django.utils.translation import gettext as _

from unionaid.accounts.holders import PermissionHolders
from unionaid.accounts.models import User
from unionaid.audit.services import audit_record
from unionaid.core import masking
from unionaid.funds.models import Disbursement
from unionaid.notifications.models import Notification
from unionaid.notifications.services import notify

MEMBER_EDIT = "members.change"


def missing_account_notify(*, actor, disbursements: Iterable[Disbursement]) -> int:
    """Tell the responsible cadres of each worker of ``disbursements`` (grants left out of a
    batch for want of a bank account) to register it. Runs in the caller's transaction;
    journaled once per call. Returns how many notices were sent."""
    rows = list(disbursements)
    if not rows:
        return 0
    holders = PermissionHolders(MEMBER_EDIT)
    users: dict[int, User | None] = {}
    sent = 0
    for d in rows:
        member = d.member
        unit = member.org_unit
        link = reverse("members:member-edit", args=[member.pk])
        for user_id in sorted(holders.nearest(unit)):
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
