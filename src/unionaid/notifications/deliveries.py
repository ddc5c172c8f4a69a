"""Deliveries: one message on one outbound channel, sent with retries and back-off.

``delivery_create`` checks the message (``kinds.template_params``), stores it encrypted with the
recipient masked for the pages, and, once committed, enqueues ``send_delivery`` so that it goes
out at once; a non-urgent one created in quiet hours waits for their end. ``deliveries_send_due``
(a frequent periodic job) sends whatever is due: the deferred, the retries, and any the task
queue lost.

Sending claims a row with one conditional UPDATE (attempts + 1 if still the value read, next
attempt pushed a short lease past the real clock), so two workers never send the same message and
a worker killed mid-send leaves it due again after the lease; the outcome is written only while
the claim is still the latest. A failed send is retried after ``NOTIFICATION_RETRY_SECONDS``
doubled per attempt from the time it failed (capped at a day); after ``NOTIFICATION_MAX_ATTEMPTS``, or an answer no retry can fix, it
is failed for good, and a system admin may queue it again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from unionaid.audit.services import audit_record
from unionaid.core.errors import Conflict
from unionaid.core.masking import mask_phone
from unionaid.notifications import contacts, kinds
from unionaid.notifications.models import Channel, Delivery, DeliveryStatus, Notification
from unionaid.notifications.senders import OutboundMessage, SendError, sender_for

logger = logging.getLogger(__name__)

# A claimed delivery is due again after this if its worker never reports back.
LEASE = dt.timedelta(minutes=5)
MAX_BACKOFF = dt.timedelta(days=1)
BATCH = 200


def _parse_hhmm(text: str) -> dt.time:
    hours, minutes = text.strip().split(":")
    return dt.time(int(hours), int(minutes))


def quiet_hours() -> tuple[dt.time, dt.time] | None:
    spec = (getattr(settings, "NOTIFICATION_QUIET_HOURS", "") or "").strip()
    if not spec:
        return None
    start, end = spec.split("-")
    return _parse_hhmm(start), _parse_hhmm(end)


def quiet_until(at: dt.datetime) -> dt.datetime | None:
    """The end of the quiet hours ``at`` falls in (local time), or None outside them."""
    window = quiet_hours()
    if window is None:
        return None
    start, end = window
    tz = timezone.get_default_timezone()
    local = timezone.localtime(at, tz)
    now = local.time()
    if start <= end:
        inside = start <= now < end
        end_day = local.date()
    else:  # across midnight: 22:00-07:00
        inside = now >= start or now < end
        end_day = local.date() + dt.timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=tz)


def first_attempt_at(*, urgent: bool, now: dt.datetime) -> dt.datetime:
    """Now, or for a non-urgent message in quiet hours, their end."""
    return now if urgent else (quiet_until(now) or now)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2 × base, 4 × base …"""
    base = dt.timedelta(seconds=settings.NOTIFICATION_RETRY_SECONDS)
    return min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def mask_recipient(channel: str, to: str) -> str:
    if channel == Channel.SMS:
        return mask_phone(to)
    if channel == Channel.EMAIL:
        return contacts.mask_email(to)
    return contacts.mask_openid(to)


def delivery_create(*, channel: str, to: str, kind: str, params: dict | None = None,
                    subject: str = "", body: str = "", urgent: bool | None = None, user=None,
                    notification: Notification | None = None, purpose: str = "",
                    now: dt.datetime | None = None) -> Delivery:
    """Queue one message. SMS and WeChat carry only the kind's template parameters, checked
    for personal data (``kinds.UnsafeMessage``); e-mail carries the in-app text."""
    kind_spec = kinds.KINDS.get(kind)
    checked = kinds.template_params(kind, params or {})
    if urgent is None:
        urgent = bool(kind_spec and kind_spec.urgent)
    now = now or timezone.now()
    payload = {"params": checked}
    if channel == Channel.EMAIL:
        payload.update(subject=subject[:200], body=body)
    delivery = Delivery.objects.create(
        notification=notification, user=user, channel=channel, kind=kind, purpose=purpose[:40],
        recipient=to, recipient_masked=mask_recipient(channel, to)[:64],
        payload=json.dumps(payload, ensure_ascii=False), urgent=urgent,
        next_attempt_at=first_attempt_at(urgent=urgent, now=now), created_at=now,
    )
    if delivery.next_attempt_at <= now:
        transaction.on_commit(lambda: send_delivery.enqueue(delivery.pk), robust=True)
    return delivery


def _message(delivery: Delivery) -> OutboundMessage:
    payload = json.loads(delivery.payload or "{}")
    return OutboundMessage(channel=delivery.channel, to=delivery.recipient, kind=delivery.kind,
                           params=payload.get("params", {}), subject=payload.get("subject", ""),
                           body=payload.get("body", ""), reference=str(delivery.pk))


def delivery_send(delivery_id: int, *, now: dt.datetime | None = None) -> bool:
    """Send one delivery if it is due at ``now`` and nobody else is sending it; whether it went
    out. ``now`` only decides what is due (a batch shares its tick's time); the lease and any
    retry are timed by the clock when they are set, so a row claimed late in a slow batch still
    gets a lease in the future."""
    now = now or timezone.now()
    row = (Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED,
                                   next_attempt_at__lte=now)
           .values_list("attempts", flat=True).first())
    if row is None:
        return False
    attempts = row + 1
    # The claim: attempts is our token; whoever bumped it first owns this attempt.
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.QUEUED, next_attempt_at__lte=now, attempts=row,
    ).update(attempts=attempts, next_attempt_at=timezone.now() + LEASE)
    if not claimed:
        return False
    delivery = Delivery.objects.get(pk=delivery_id)
    try:
        provider_id = sender_for(delivery.channel).send(_message(delivery))
    except SendError as exc:
        _record_failure(delivery, exc)
        return False
    except Exception:  # a bug in a sender: keep the queue going, the traceback is redacted
        logger.exception("delivery %s: sender failed", delivery.pk)
        _record_failure(delivery, SendError("internal"))
        return False
    fields = {"status": DeliveryStatus.SENT, "sent_at": timezone.now(), "next_attempt_at": None,
              "provider_message_id": provider_id[:100], "last_error": ""}
    if delivery.urgent:  # a one-time code is of no use once sent: don't keep it
        fields["payload"] = ""
    if not _ours(delivery).update(**fields):
        logger.warning("delivery %s: sent after its lease ran out (claimed again meanwhile)",
                       delivery.pk)
    logger.info("delivery %s sent (%s, attempt %s)", delivery.pk, delivery.channel,
                delivery.attempts)
    return True


def _ours(delivery: Delivery):
    """The row, as long as the claim that read ``delivery`` is still the latest one."""
    return Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.QUEUED,
                                   attempts=delivery.attempts)


def _record_failure(delivery: Delivery, exc: SendError) -> None:
    give_up = exc.permanent or delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
    if give_up:
        fields = {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    else:
        retry_at = timezone.now() + backoff(delivery.attempts)
        if not delivery.urgent:
            retry_at = quiet_until(retry_at) or retry_at
        fields = {"next_attempt_at": retry_at}
    if not _ours(delivery).update(last_error=exc.code, **fields):
        logger.warning("delivery %s: failure not recorded, claimed again meanwhile", delivery.pk)
        return
    logger.warning("delivery %s (%s) attempt %s failed: %s%s", delivery.pk, delivery.channel,
                   delivery.attempts, exc.code, " (given up)" if give_up else "")


def deliveries_send_due(now: dt.datetime | None = None) -> int:
    """Send the deliveries that are due (a frequent periodic job); how many went out."""
    now = now or timezone.now()
    due = list(Delivery.objects.filter(status=DeliveryStatus.QUEUED, next_attempt_at__lte=now)
               .order_by("-urgent", "next_attempt_at", "pk").values_list("pk", flat=True)[:BATCH])
    return sum(delivery_send(pk, now=now) for pk in due)


@task()
def send_delivery(delivery_id: int) -> dict:
    """Send one delivery right after it was queued (the periodic job catches the rest)."""
    return {"delivery": delivery_id, "sent": delivery_send(delivery_id)}


@transaction.atomic
def delivery_retry(*, actor, delivery_id: int) -> Delivery:
    """Queue a failed delivery again, attempts from zero (a system admin's action)."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status != DeliveryStatus.FAILED:
        raise Conflict(code="delivery_not_failed")
    if not delivery.payload:
        raise Conflict(code="delivery_payload_gone")
    now = timezone.now()
    delivery.status = DeliveryStatus.QUEUED
    delivery.attempts = 0
    delivery.next_attempt_at = first_attempt_at(urgent=delivery.urgent, now=now)
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit_record(actor=actor, action="notification.delivery_retry", target=delivery,
                 changes={"channel": delivery.channel, "kind": delivery.kind,
                          "last_error": delivery.last_error})
    if delivery.next_attempt_at <= now:
        transaction.on_commit(lambda: send_delivery.enqueue(delivery.pk), robust=True)
    return delivery
