from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from unionaid.audit.services import audit_record
from unionaid.core.errors import ServiceError
from unionaid.core.masking import PhoneError, validate_phone
from unionaid.notifications import contacts, kinds
from unionaid.notifications.deliveries import delivery_create
from unionaid.notifications.models import Channel, ChannelPreference, Notification

logger = logging.getLogger(__name__)

# Outbound channels (an SMS gateway, WeChat, a mailbox nobody verified) never carry the
# in-app title or text: a title often names a worker and their hardship ("新的待办：大病救助 ·
# …"). They carry only its public head (the words before the first colon) or a generic line.
TITLE_SEPARATORS = ("：", ":")


def public_title(title: str) -> str:
    """The part of ``title`` that may leave the system: the words before its first colon
    ("新的待办：…" → "新的待办"), or a generic line for a title without one."""
    cut = min((title.find(sep) for sep in TITLE_SEPARATORS if sep in title), default=-1)
    head = title[:cut].strip() if cut > 0 else ""
    return head or _("您有一条新消息")


def public_email_body(note: Notification) -> str:
    """The e-mail text of ``note``: no details, just where to read them."""
    lines = [public_title(note.title), "", _("请登录工会帮扶系统查看详情。")]
    if note.link:
        lines.append(_("查看地址：%(path)s") % {"path": note.link})
    lines.append(_("此邮件由系统自动发送，请勿回复。"))
    return "\n".join(lines)


def notify(*, recipient, title: str, body: str = "", link: str = "") -> Notification:
    """Create an in-app notification, and a delivery on each outbound channel the recipient
    chose (``ChannelPreference``); they go out once the transaction commits."""
    note = Notification.objects.create(recipient=recipient, title=title[:100], body=body[:500],
                                       link=link[:200])
    _fan_out(note)
    return note


def channel_addresses(user, preference: ChannelPreference | None) -> dict[str, str]:
    """The address of each channel the user has chosen and can be reached on."""
    if preference is None:
        return {}
    addresses = {}
    if preference.sms:
        addresses[Channel.SMS] = preference.phone or contacts.phone_from_sources(user)
    if preference.email:
        addresses[Channel.EMAIL] = preference.email_address or user.email
    if preference.wechat:
        addresses[Channel.WECHAT] = preference.wechat_openid
    return {channel: address for channel, address in addresses.items() if address}


def _fan_out(note: Notification) -> None:
    preference = ChannelPreference.objects.filter(user_id=note.recipient_id).first()
    addresses = channel_addresses(note.recipient, preference)
    if not addresses:
        return
    title = public_title(note.title)
    params = {"title": title,
              "time": timezone.localtime(note.created_at).strftime("%Y-%m-%d %H:%M")}
    text = public_email_body(note)
    for channel, address in addresses.items():
        try:
            delivery_create(channel=channel, to=address, kind=kinds.NOTICE.code, params=params,
                            subject=title, body=text, user=note.recipient,
                            notification=note)
        except kinds.UnsafeMessage:
            # The inbox has it; the text message would have carried personal data.
            logger.warning("notification %s: not sent by %s, its title looks like personal data",
                           note.pk, channel)


def send_code(phone: str, code: str, purpose: str) -> None:
    """An urgent text message with a one-time ``code`` to ``phone`` (which may belong to no
    user yet: worker activation). It goes at once, quiet hours or not."""
    try:
        phone = validate_phone(phone)
    except PhoneError as exc:
        raise ServiceError(exc.message, code=exc.code) from None
    if not (code.isdigit() and 4 <= len(code) <= 8):
        raise ServiceError(code="code_invalid")
    with transaction.atomic():
        delivery_create(channel=Channel.SMS, to=phone, kind=kinds.CODE.code,
                        params={"code": code}, urgent=True, purpose=purpose)


def _invalid(field: str, message: str) -> ServiceError:
    return ServiceError(message, code="invalid", fields={field: message})


@transaction.atomic
def preference_save(*, actor, sms: bool, wechat: bool, email: bool, phone: str = "",
                    email_address: str = "") -> ChannelPreference:
    """The user's own choice of outbound channels; a new phone or address given replaces the
    stored one (blank keeps it). A chosen channel needs somewhere to send to."""
    preference, _created = ChannelPreference.objects.select_for_update().get_or_create(user=actor)
    before = {"sms": preference.sms, "wechat": preference.wechat, "email": preference.email}
    if phone:
        try:
            preference.phone = validate_phone(phone)
        except PhoneError as exc:
            raise _invalid("phone", exc.message) from None
    if email_address:
        preference.email_address = email_address.strip()
    if sms and not (preference.phone or contacts.phone_from_sources(actor)):
        raise _invalid("phone", _("要接收短信，请填写手机号。"))
    if email and not (preference.email_address or actor.email):
        raise _invalid("email_address", _("要接收邮件，请填写邮箱地址。"))
    if wechat and not preference.wechat_openid:
        raise _invalid("wechat", _("请先在工会微信小程序中登录，绑定微信后再开启。"))
    preference.sms, preference.wechat, preference.email = sms, wechat, email
    preference.save()
    audit_record(actor=actor, action="notification.preference_change", target=preference,
                 changes={"before": before,
                          "after": {"sms": sms, "wechat": wechat, "email": email},
                          "phone_changed": bool(phone), "email_changed": bool(email_address)})
    return preference


@transaction.atomic
def wechat_openid_bind(*, user, openid: str) -> ChannelPreference:
    """Remember the user's openid (given by WeChat at the mini-program's sign-in)."""
    preference, _created = ChannelPreference.objects.select_for_update().get_or_create(user=user)
    preference.wechat_openid = openid.strip()
    preference.save(update_fields=["wechat_openid", "updated_at"])
    audit_record(actor=user, action="notification.wechat_bind", target=preference)
    return preference


def notification_mark_read(*, user, notification_id: int) -> int:
    return Notification.objects.filter(pk=notification_id, recipient=user,
                                       read_at__isnull=True).update(read_at=timezone.now())


def notification_mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now())
