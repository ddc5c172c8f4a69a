"""Reminders: yearly re-checks coming due and follow-ups past their date (the
``recheck_remind`` command, daily).

Who is told about a record due for re-check:

* the cadres responsible for it: the holders of ``archive.manage`` posts at the NEAREST unit up
  the tree (the record's unit first) that has any holder whose rights cover the record's unit.
  A bureau-wide post is told only when no post below it covers the unit, so a bureau admin is
  not flooded with every team's reminders;
* the user who created the record, if their rights still cover its unit (a cadre who moved
  away is not told about records they can no longer open).

A follow-up (``visits.FollowUp``) that is open and due today or earlier is told to its owner.

Never twice: each notice's ``link`` is a fixed address built from the record (or follow-up)
and its due date (``/archive/recheck/open/?record=12&due=2026-12-01``), and a notice whose
recipient already has that link is not sent again. A new due date (after the re-check moved
``next_recheck_on``) is a new notice. No field on the record is needed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from unionaid.accounts.holders import PermissionHolders
from unionaid.accounts.models import User
from unionaid.archive.models import HardshipRecord, RecordStatus
from unionaid.audit.services import audit_record
from unionaid.notifications.models import Notification
from unionaid.notifications.services import notify
from unionaid.visits.models import FollowUp, FollowUpStatus

MANAGE = "archive.manage"
REMIND_DAYS = 30  # a re-check is announced this many days ahead


class _Sent:
    """The reminder links each recipient already has (read once per recipient)."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.links: dict[int, set[str]] = {}

    def has(self, user_id: int, link: str) -> bool:
        if user_id not in self.links:
            self.links[user_id] = set(
                Notification.objects.filter(recipient_id=user_id, link__startswith=self.prefix)
                .values_list("link", flat=True))
        return link in self.links[user_id]

    def add(self, user_id: int, link: str) -> None:
        self.links.setdefault(user_id, set()).add(link)


def reminder_link(*, due: dt.date, record_id: int | None = None,
                  follow_up_id: int | None = None) -> str:
    """The fixed address of one reminder (also its key against sending it twice)."""
    params = {"record": record_id} if record_id else {"follow_up": follow_up_id}
    params["due"] = due.isoformat()
    return f"{reverse('archive:reminder-open')}?{urlencode(params)}"


@transaction.atomic
def recheck_remind(*, today: dt.date | None = None) -> int:
    """Send the re-check and follow-up reminders due ``today``; returns how many notices were
    sent. Running it again the same day (or any later day for the same due dates) sends none."""
    today = today or timezone.localdate()
    now = timezone.now()
    recipients = PermissionHolders(MANAGE, now)
    sent = _Sent(reverse("archive:reminder-open"))
    users: dict[int, User | None] = {}
    counts: dict[str, int] = defaultdict(int)

    def send(user_id: int, link: str, title: str, body: str, kind: str) -> None:
        if user_id not in users:
            users[user_id] = User.objects.filter(pk=user_id, is_active=True).first()
        if users[user_id] is None or sent.has(user_id, link):
            return
        notify(recipient=users[user_id], title=title, body=body, link=link)
        sent.add(user_id, link)
        counts[kind] += 1

    due = (HardshipRecord.objects
           .filter(status=RecordStatus.ACTIVE,
                   next_recheck_on__lte=today + dt.timedelta(days=REMIND_DAYS))
           .select_related("member", "org_unit").order_by("next_recheck_on", "pk"))
    for record in due.iterator(chunk_size=2000):
        nearest, covering = recipients.for_unit(record.org_unit)
        to = set(nearest)
        if record.created_by_id in covering:
            to.add(record.created_by_id)
        link = reminder_link(record_id=record.pk, due=record.next_recheck_on)
        overdue = record.next_recheck_on < today
        title = _("档案复核已逾期") if overdue else _("档案年度复核提醒")
        body = _("%(unit)s %(name)s 的困难职工档案应于 %(date)s 前完成年度复核。") % {
            "unit": record.org_unit.name, "name": record.member.name,
            "date": record.next_recheck_on.isoformat()}
        for user_id in sorted(to):
            send(user_id, link, title, body, "recheck")

    follow_ups = (FollowUp.objects.filter(status=FollowUpStatus.OPEN, due_on__lte=today)
                  .select_related("member").order_by("due_on", "pk"))
    for item in follow_ups.iterator(chunk_size=2000):
        link = reminder_link(follow_up_id=item.pk, due=item.due_on)
        body = _("“%(title)s”（%(name)s）办理期限为 %(date)s，请及时办理。") % {
            "title": item.title, "name": item.member.name, "date": item.due_on.isoformat()}
        send(item.owner_id, link, _("跟进事项到期提醒"), body, "follow_up")

    total = sum(counts.values())
    if total:
        audit_record(actor=None, action="archive.remind", target_type="notifications.notification",
                     target_label="reminders",
                     changes={"date": today.isoformat(), "recheck": counts["recheck"],
                              "follow_up": counts["follow_up"]})
    return total
