"""Rights kept across requests (``accounts.access.cached_access``): cheap while nothing changes,
and every change to what they are made of shows on the next request — whichever way it is
written (services, ``QuerySet.update``, a tree move), and when a post starts or ends by date.

"The next request" is a user loaded afresh (a session's ``request.user``) or found by its API
token, in the same process, so the process cache is what answers."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_role, make_staff
from unionaid.accounts import services
from unionaid.accounts.access import ANONYMOUS, clear_access_cache
from unionaid.accounts.models import AccessStamp, Assignment, Position, Role, User
from unionaid.org import services as org_services
from unionaid.org.models import OrgUnit


@pytest.fixture(autouse=True)
def _empty_cache():
    clear_access_cache()
    yield
    clear_access_cache()


def next_request(user) -> User:
    """The user as the next (session) request loads it."""
    return User.objects.get(pk=user.pk)


def rights(user):
    return next_request(user).access


def scope(access, perm="members.view"):
    return {(g.scope, g.unit_path) for g in access.grants_for(perm)}


@pytest.fixture
def cadre(union, roles):
    return make_staff("cache_cadre", union.station_a, [roles["cadre"]])


def test_a_cached_token_request_costs_one_query_for_token_and_rights(cadre):
    _token, raw = services.api_token_create(actor=cadre, name="app")
    assert services.api_token_authenticate(raw).access.has_perm("members.view")  # kept
    with CaptureQueriesContext(connection) as ctx:
        user = services.api_token_authenticate(raw)
        access = user.access
    assert len(ctx.captured_queries) == 1  # the token, its user and the access stamp
    assert access.has_perm("members.view")


def test_a_cached_session_request_costs_one_stamp_query(cadre):
    rights(cadre)
    user = next_request(cadre)
    with CaptureQueriesContext(connection) as ctx:
        access = user.access
    assert len(ctx.captured_queries) == 1
    assert access.has_perm("members.view")


def test_granting_a_post_shows_on_the_next_request(cadre, union, roles):
    before = rights(cadre)
    position = services.position_create(actor=None, org_unit=union.station_b, name="兼职",
                                        roles=[roles["cadre"]])
    services.assignment_grant(actor=None, user=cadre, position=position)
    after = rights(cadre)
    assert scope(after) == scope(before) | {("unit_and_below", union.station_b.path)}


def test_ending_a_post_shows_on_the_next_request(cadre):
    assert rights(cadre).has_perm("members.view")
    services.assignment_end(actor=None, assignment=Assignment.objects.get(user=cadre))
    assert not rights(cadre).has_perm("members.view")


def test_moving_a_post_to_another_position_by_update_shows(cadre, union, roles):
    assert scope(rights(cadre)) == {("unit_and_below", union.station_a.path)}
    other = services.position_create(actor=None, org_unit=union.team_b, name="乙班组岗",
                                     roles=[roles["cadre"]])
    Assignment.objects.filter(user=cadre).update(position=other)  # no service, no signal
    assert scope(rights(cadre)) == {("unit_and_below", union.team_b.path)}


def test_editing_a_role_shows_on_the_next_request(cadre, union, roles):
    assert not rights(cadre).has_perm("members.reveal")
    role = roles["cadre"]
    services.role_save(actor=None, role=role, code=role.code, name=role.name,
                       permissions=[*role.permissions, "members.reveal"],
                       data_scope=role.data_scope)
    assert rights(cadre).has_perm("members.reveal")
    Role.objects.filter(pk=role.pk).update(data_scope="unit")
    assert scope(rights(cadre)) == {("unit", union.station_a.path)}


def test_taking_a_role_off_a_post_shows(cadre, roles):
    extra = make_role("cache-extra", ["members.export"])
    position = Position.objects.get(assignments__user=cadre)
    position.roles.add(extra)
    assert rights(cadre).has_perm("members.export")
    position.roles.remove(extra)
    assert not rights(cadre).has_perm("members.export")


def test_deactivating_a_post_or_closing_its_unit_shows(cadre, union, roles):
    position = Position.objects.get(assignments__user=cadre)
    assert rights(cadre).has_perm("members.view")
    Position.objects.filter(pk=position.pk).update(is_active=False)
    assert not rights(cadre).has_perm("members.view")
    Position.objects.filter(pk=position.pk).update(is_active=True)
    assert rights(cadre).has_perm("members.view")
    OrgUnit.objects.filter(pk=union.station_a.pk).update(is_closed=True)
    assert not rights(cadre).has_perm("members.view")


def test_moving_or_renaming_the_unit_shows(cadre, union, personas):
    rights(cadre)
    admin = personas.bureau_admin  # org.manage over all units
    org_services.orgunit_move(actor=admin, unit=union.station_a, new_parent=union.station_b)
    moved = OrgUnit.objects.get(pk=union.station_a.pk)
    assert moved.path != union.station_a.path
    assert scope(rights(cadre)) == {("unit_and_below", moved.path)}
    org_services.orgunit_rename(actor=admin, unit=moved, name="改名车务段")
    assert rights(cadre).position_labels[0].startswith("改名车务段·")


def test_deactivating_the_user_shows_on_the_next_request(cadre):
    _token, raw = services.api_token_create(actor=cadre, name="app")
    assert rights(cadre).has_perm("members.view")
    User.objects.filter(pk=cadre.pk).update(is_active=False)  # no stamp change: the user row
    assert rights(cadre) is ANONYMOUS
    assert services.api_token_authenticate(raw) is None


def test_a_revoked_token_stops_on_the_next_request(cadre):
    token, raw = services.api_token_create(actor=cadre, name="app")
    assert services.api_token_authenticate(raw).access.has_perm("members.view")
    services.api_token_revoke(actor=cadre, token_id=token.pk)
    assert services.api_token_authenticate(raw) is None


def test_a_post_ending_by_date_stops_at_that_time(union, roles):
    user = services.user_create(actor=None, username="until_noon", password="Aa1!aaaaaaa")
    position = services.position_create(actor=None, org_unit=union.team_a, name="临时",
                                        roles=[roles["cadre"]])
    noon = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    services.assignment_grant(actor=None, user=user, position=position, ends_at=noon)
    with time_machine.travel(noon - dt.timedelta(seconds=1), tick=False):
        assert rights(user).has_perm("members.view")  # cached from here
    with time_machine.travel(noon, tick=False):
        assert not rights(user).has_perm("members.view")


def test_a_post_starting_by_date_starts_at_that_time(union, roles):
    user = services.user_create(actor=None, username="from_monday", password="Aa1!aaaaaaa")
    position = services.position_create(actor=None, org_unit=union.team_a, name="将任",
                                        roles=[roles["cadre"]])
    monday = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    services.assignment_grant(actor=None, user=user, position=position, starts_at=monday)
    assert not rights(user).has_perm("members.view")  # cached: nothing yet
    with time_machine.travel(monday, tick=False):
        assert rights(user).has_perm("members.view")


def test_rights_computed_inside_a_rolled_back_change_are_not_kept(cadre, union, roles):
    rights(cadre)
    position = services.position_create(actor=None, org_unit=union.station_b, name="回滚",
                                        roles=[roles["cadre"]])
    stamp = AccessStamp.current()
    seen = []

    def grant_then_fail():
        with transaction.atomic():
            services.assignment_grant(actor=None, user=cadre, position=position)
            seen.append(scope(rights(cadre)))  # computed and kept inside the transaction
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        grant_then_fail()
    assert ("unit_and_below", union.station_b.path) in seen[0]
    assert AccessStamp.current() == stamp
    assert ("unit_and_below", union.station_b.path) not in scope(rights(cadre))


def test_without_a_stamp_row_nothing_is_cached(cadre):
    AccessStamp.objects.all().delete()
    assert rights(cadre).has_perm("members.view")
    user = next_request(cadre)
    with CaptureQueriesContext(connection) as ctx:
        assert user.access.has_perm("members.view")
    assert len(ctx.captured_queries) == 2  # posts (with the missing stamp, and devices), their roles


def test_the_first_request_costs_what_it_did_without_the_cache(cadre):
    user = next_request(cadre)
    with CaptureQueriesContext(connection) as ctx:
        assert user.access.has_perm("members.view")
    assert len(ctx.captured_queries) == 2  # posts with the stamp and devices, their roles


def test_ending_a_post_locks_only_the_assignment_row(cadre):
    """Every write to assignments updates the access stamp (a trigger). Ending a post must not
    also lock its unit: the org import locks units after writing the stamp, and the two would
    deadlock on PostgreSQL."""
    with CaptureQueriesContext(connection) as queries:
        services.assignment_end(actor=None, assignment=Assignment.objects.get(user=cadre))
    locking = [q["sql"] for q in queries
               if "FOR UPDATE" in q["sql"] and 'FROM "accounts_assignment"' in q["sql"]]
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes no row locks")
    assert locking
    assert all(sql.endswith('FOR UPDATE OF "accounts_assignment"') for sql in locking), locking
