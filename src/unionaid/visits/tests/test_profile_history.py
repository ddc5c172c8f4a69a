"""Each visit keeps a dated snapshot of the household profile; history shows how it changed."""
# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

import datetime as dt

from conftest import verified_login
from unionaid.members.models import ConsentKind
from unionaid.members.services import consent_withdraw
from unionaid.visits.models import HouseholdProfile
from unionaid.visits.selectors.records import profiles_for_member
from unionaid.visits.services import visits as visit_services
from unionaid.visits.services.profiles import profile_data

from .helpers_records import household, new_uuid, rec, today, visit_data  # noqa: F401


def record(actor, member, days_ago: int, profile: dict):
    day = (today() - dt.timedelta(days=days_ago)).isoformat()
    visit, _ = visit_services.visit_submit(
        actor=actor, client_uuid=new_uuid(),
        data=visit_data(member, visited_on=day, profile=profile))
    return visit


def two_visits(rec):
    first = record(rec.visitor_a, rec.member, 30, household())
    grown = household(household=[*household()["household"],
                                 {"name": "王奶奶", "relation": "parent", "age": 75,
                                  "health": "chronic"}],
                      incomes=[{"source": "wage", "monthly": "5000"}],
                      causes=["illness"], housing={"kind": "own", "homes": 1})
    second = record(rec.team_visitor, rec.member, 0, grown)
    return first, second


def test_two_visits_keep_two_snapshots_and_the_first_is_unchanged(rec):
    first = record(rec.visitor_a, rec.member, 30, household())
    before = HouseholdProfile.objects.get(visit=first)
    frozen = (before.data_json, before.household_size, before.per_capita_monthly,
              before.taken_on)
    grown = household(household=[*household()["household"],
                                 {"name": "王奶奶", "relation": "parent", "age": 75}])
    second = record(rec.team_visitor, rec.member, 0, grown)
    after = HouseholdProfile.objects.get(visit=first)
    assert (after.data_json, after.household_size, after.per_capita_monthly,
            after.taken_on) == frozen
    assert HouseholdProfile.objects.filter(member=rec.member).count() == 2
    newest = HouseholdProfile.objects.get(visit=second)
    assert newest.household_size == 4
    assert len(profile_data(newest)["household"]) == 4
    assert len(profile_data(after)["household"]) == 3


def test_history_is_newest_first_and_scoped(rec):
    first, second = two_visits(rec)
    history = list(profiles_for_member(user=rec.visitor_a, member=rec.member))
    assert [p.visit_id for p in history] == [second.pk, first.pk]
    assert list(profiles_for_member(user=rec.visitor_b, member=rec.member)) == []


def test_the_history_page_shows_what_changed(client, rec):
    two_visits(rec)
    verified_login(client, rec.viewer_a)
    response = client.get(f"/visits/members/{rec.member.pk}/profiles/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "家庭人口 3 → 4" in html
    assert "人均月收入 166.67 → 250.00 元" in html  # (60,000 − 48,000) ÷ 12 ÷ 4
    assert "不再有的致困原因：子女上学" in html
    assert "住房 租房 → 自有住房" in html
    assert "首次登记" in html
    assert html.index("250.00") < html.index("首次登记")  # newest first


def test_the_history_page_hides_health_flags_without_consent(client, rec):
    two_visits(rec)
    consent_withdraw(actor=rec.visitor_a, member=rec.member, kind=ConsentKind.HEALTH)
    verified_login(client, rec.visitor_a)
    html = client.get(f"/visits/members/{rec.member.pk}/profiles/").content.decode()
    assert "大病：" not in html
    assert "健康状况有变化" not in html


def test_the_history_page_is_404_out_of_scope(client, rec):
    two_visits(rec)
    verified_login(client, rec.visitor_b)
    assert client.get(f"/visits/members/{rec.member.pk}/profiles/").status_code == 404
