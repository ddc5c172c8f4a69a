"""Near-static lookups kept under the access stamp (``core.memo``): read once per stamp, and
never stale after a change, in any process (the database triggers change the stamp)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from unionaid.core import memo
from unionaid.org import services as org_services
from unionaid.org.models import OrgLevel, UnionProfile

pytestmark = pytest.mark.django_db


def _lookups(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries
            if "org_unionprofile" in q["sql"] or "org_orglevel" in q["sql"]]


def test_without_a_request_stamp_a_lookup_is_computed_each_time():
    calls = []
    assert memo.kept("test.key", lambda: calls.append(1) or 7) == 7
    assert memo.kept("test.key", lambda: calls.append(1) or 7) == 7
    assert len(calls) == 2


def test_pages_read_the_union_name_and_level_names_once_per_stamp(client, personas, union):
    memo.clear()
    UnionProfile.objects.create(name="示例铁路局工会")
    client.force_login(personas.station_cadre)
    assert "示例铁路局工会" in client.get("/approvals/todo/").content.decode()
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/approvals/todo/").content.decode()
    assert "示例铁路局工会" in page
    assert _lookups(ctx) == []  # both kept under the unchanged stamp

    # A change anywhere (here a plain UPDATE, as another process would make) changes the stamp:
    # the next page reads the new name.
    UnionProfile.objects.update(name="示例市总工会")
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/approvals/todo/").content.decode()
    assert "示例市总工会" in page
    assert "示例铁路局工会" not in page
    assert any("org_unionprofile" in sql for sql in _lookups(ctx))


def test_a_renamed_level_shows_on_the_next_page(client, personas, union):
    memo.clear()
    client.force_login(personas.station_cadre)
    client.get("/approvals/todo/")
    depth = union.station_a.depth
    org_services.orglevel_set(actor=personas.bureau_admin, depth=depth, name="基层站段")
    assert OrgLevel.objects.get(depth=depth).name == "基层站段"
    page = client.get("/approvals/todo/?more=1").content.decode()
    assert "（基层站段）" in page  # the unit filter labels each unit with its level


def test_a_post_request_never_uses_a_kept_value(rf):
    tokens = memo.begin_request(read_only=False)
    try:
        memo.note_stamp(42)
        calls = []
        memo.kept("test.post", lambda: calls.append(1))
        memo.kept("test.post", lambda: calls.append(1))
        assert len(calls) == 2
    finally:
        memo.end_request(tokens)

