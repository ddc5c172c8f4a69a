"""The to-do filter's list of items is kept under the access stamp (``core.memo``); the
catalog's writes change the stamp (migration 0007), so a change shows on the next page."""

from __future__ import annotations

import pytest

from unionaid.assistance.models import AssistanceItem
from unionaid.core import memo

pytestmark = pytest.mark.django_db


def test_a_renamed_catalog_item_shows_in_the_todo_filter_at_once(client, personas, illness):
    memo.clear()
    client.force_login(personas.station_cadre)
    assert f"{illness.name}（{illness.code}）" in client.get("/approvals/todo/").content.decode()
    client.get("/approvals/todo/")  # kept now
    AssistanceItem.objects.filter(pk=illness.pk).update(name="改名后的事项")
    page = client.get("/approvals/todo/").content.decode()
    assert f"改名后的事项（{illness.code}）" in page
