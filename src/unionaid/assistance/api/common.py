"""Helpers shared by the assistance API modules."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from unionaid.accounts.access import access_for
from unionaid.assistance import selectors
from unionaid.assistance.models import AssistanceItem
from unionaid.core.errors import NotFound, ServiceError
from unionaid.members.selectors import member_get_for_user


def no_store(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"


def item_for(user, code: str) -> AssistanceItem:
    """An item open today by code; catalog maintainers also reach closed ones."""
    code = (code or "").strip().lower()
    include_inactive = access_for(user).has_perm("assistance.catalog")
    item = None
    if "\x00" not in code:  # no code holds one (and PostgreSQL can't compare with it)
        item = selectors.catalog_items(include_inactive=include_inactive).filter(
            code=code).first()
    if item is None:
        raise NotFound(_("帮扶项目不存在或已停用。"))
    return item


def member_for(user, member_id: int | None, *, perm: str):
    """The caller's own member record, or (for cadres) one in their ``perm`` scope."""
    if member_id is None or member_id == user.member_id:
        if not user.member_id:
            message = _("请指定为哪位职工办理（member_id）。")
            raise ServiceError(message, code="member_required", fields={"member_id": message})
        return member_get_for_user(user=user, pk=user.member_id)
    return member_get_for_user(user=user, pk=member_id, perm=perm)


def file_url(attachment_id: int, *, thumb: bool = False) -> str:
    url = reverse("api:assistance-attachment-file", kwargs={"attachment_id": attachment_id})
    return f"{url}?thumb=true" if thumb else url
