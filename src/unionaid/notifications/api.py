"""/api/v1/notifications: the caller's own in-app inbox. Anybody else's notification is
"not found"."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from unionaid.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, keyset_page, next_link
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, QuerySchema
from unionaid.notifications import selectors, services

router = Router(tags=["notifications"])


# -- GET / --------------------------------------------------------------------------------------

class NotificationListQuery(QuerySchema):
    unread: bool = Field(False, description="只看未读")
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class NotificationOut(Schema):
    id: int
    title: str
    body: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationListOut(Schema):
    unread_count: int = Field(..., description=f"未读条数（最多数到 {selectors.BADGE_CAP + 1}）")
    items: list[NotificationOut]
    next_cursor: str | None
    next: str | None


@router.get("", response={200: NotificationListOut, **READ_ERRORS, 422: ErrorOut},
            summary="我的消息（最新的在前）")
def notification_list(request, response: HttpResponse, filters: Query[NotificationListQuery]):
    qs = selectors.notifications_for(user=request.auth, unread_only=filters.unread)
    page = keyset_page(qs, cursor=filters.cursor, limit=filters.limit)
    response["Cache-Control"] = "no-store"
    return {"unread_count": selectors.unread_count(user=request.auth), "items": page.items,
            "next_cursor": page.next_cursor, "next": next_link(request, page.next_cursor)}


# -- POST /{id}/read ----------------------------------------------------------------------------

class NotificationReadOut(Schema):
    id: int
    read_at: dt.datetime | None


@router.post("/{notification_id}/read", response={200: NotificationReadOut, **WRITE_ERRORS},
             summary="标记为已读")
def notification_read(request, notification_id: int):
    note = selectors.notification_get_for_user(user=request.auth, pk=notification_id)
    services.notification_mark_read(user=request.auth, notification_id=note.pk)
    note.refresh_from_db(fields=["read_at"])
    return note
