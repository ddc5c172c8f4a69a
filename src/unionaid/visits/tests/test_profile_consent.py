"""The one reader of household profiles (``visits.selectors.profiles``) gives the same answer to
every reader: the visit page, the profile history page, the API (visit and profile history),
the visit form's prefill, the facts an application is pre-filled with and the archive (record
page and API). Each reader is one line in
``READERS``: what it gives (as text) and the markers that show health or children's data in
it. A reader that never shows household members (the archive's) has no children's markers;
``test_the_archive_never_shows_the_children`` pins that.
"""
# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client

from conftest import make_role, make_staff, verified_login
from unionaid.archive.models import HardshipRecord, RecordStatus
from unionaid.core.testing.api import ApiClient
from unionaid.members.models import ConsentKind
from unionaid.members.services import consent_grant, consent_withdraw
from unionaid.visits.selectors.profiles import Purpose, latest_profile, profile_for
from unionaid.visits.services import needs as need_services
from unionaid.visits.services import visits as visit_services

from .helpers_records import household, new_uuid, rec, visit_data  # noqa: F401

CHILD = {"name": "欧阳小红", "relation": "child", "age": 8, "health": "healthy",
         "schooling": "primary", "occupation": ""}
ILLNESS_LOSS = {"kind": "major_illness", "amount": "80000", "note": "突发脑梗住院"}


@pytest.fixture
def case(rec):
    """A household with health data (a spouse with a major illness, 因病, medical spending, an
    illness loss, a health note) and a child of 8 at primary school, recorded on a visit with
    both consents, and enrolled in the hardship archive on that snapshot."""
    profile = household(
        household=[*household()["household"], CHILD],
        causes=["illness", "low_income"], sudden_loss=ILLNESS_LOSS,
        schooling=[{"name": "欧阳小红", "stage": "primary", "annual_cost": "1500",
                    "private": False}],
        expenses={"medical_annual": "36000", "schooling_annual": "1500",
                  "other_rigid_annual": "0"})
    visit, _ = visit_services.visit_submit(
        actor=rec.visitor_a, client_uuid=new_uuid(),
        data=visit_data(rec.member, profile=profile,
                        consent={"health": True, "children": True, "method": "书面签字"}))
    snapshot = visit.profile
    record = HardshipRecord.objects.create(
        member=rec.member, org_unit_id=rec.member.org_unit_id, status=RecordStatus.ACTIVE,
        category="relative", computed_category="relative", profile=snapshot,
        per_capita_monthly=snapshot.per_capita_monthly, dibao_standard=Decimal("800"),
        causes=snapshot.causes, created_by=rec.visitor_a)
    archivist = make_staff("archivist_a", rec.union.station_a, [make_role(
        "r_archivist", ["org.view", "members.view", "visits.view", "archive.view"])])
    return SimpleNamespace(rec=rec, visit=visit, record=record, archivist=archivist)


def _page(user, url: str) -> str:
    client = Client()
    verified_login(client, user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _api(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = ApiClient(client).get(url)
    assert response.status_code == 200
    return json.dumps(response.json(), ensure_ascii=False)


@dataclass(frozen=True)
class Reader:
    name: str
    read: Callable[[SimpleNamespace], str]
    health: tuple[str, ...]  # each shows only with the health consent in force
    children: tuple[str, ...] = ()  # each shows only with the children's consent in force
    never: tuple[str, ...] = ("每周透析",)  # the health note: a viewer never gets it in clear


READERS = [
    Reader("visit page", lambda c: _page(c.rec.visitor_a, f"/visits/{c.visit.pk}/"),
           health=("因病", "突发重大疾病", "36,000.00", "field-profile-health-"),
           children=("欧阳**", "小学")),
    Reader("history page",
           lambda c: _page(c.rec.visitor_a, f"/visits/members/{c.rec.member.pk}/profiles/"),
           health=("因病", "大病：有")),
    Reader("visit API", lambda c: _api(c.rec.viewer_a, f"/visits/{c.visit.pk}"),
           health=('"illness"', '"has_major_illness": true')),
    Reader("history API",
           lambda c: _api(c.rec.viewer_a, f"/visits/members/{c.rec.member.pk}/profiles"),
           health=('"illness"', '"major_illness"', '"medical_annual"', '"has_note": true',
                   "突发脑梗"),
           children=("欧阳**", '"primary"')),
    Reader("prefill", lambda c: _page(c.rec.visitor_a, f"/visits/new/?member={c.rec.member.pk}"),
           health=('value="illness" checked', "每周透析", 'value="36000.00"',
                   'value="80000.00"'),
           children=('value="欧阳小红"',), never=()),
    Reader("application facts", lambda c: str(need_services.profile_facts(
        member=c.rec.member, profile=latest_profile(c.rec.member))),
           health=("36000.00", "配偶", "家庭成员突发重病")),
    Reader("archive page", lambda c: _page(c.archivist, f"/archive/{c.record.pk}/"),
           health=("因病",)),
    Reader("archive API", lambda c: _api(c.archivist, f"/archive/records/{c.record.pk}"),
           health=('"illness"',)),
]
ARCHIVE_READERS = [r for r in READERS if r.name.startswith("archive")]


def withdraw(case, kind: str) -> None:
    consent_withdraw(actor=case.rec.visitor_a, member=case.rec.member, kind=kind)


def grant(case, kind: str) -> None:
    consent_grant(actor=case.rec.visitor_a, member=case.rec.member, kind=kind)


def shown(text: str, markers) -> list[str]:
    return [m for m in markers if m in text]


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_with_both_consents_a_reader_shows_everything(case, reader):
    text = reader.read(case)
    assert shown(text, reader.health) == list(reader.health)
    assert shown(text, reader.children) == list(reader.children)
    assert shown(text, reader.never) == []


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_without_the_health_consent_a_reader_shows_no_health_data(case, reader):
    withdraw(case, ConsentKind.HEALTH)
    text = reader.read(case)
    assert shown(text, reader.health) == []
    assert shown(text, reader.children) == list(reader.children)  # the other rule is apart


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_without_the_childrens_consent_a_reader_shows_no_childrens_data(case, reader):
    withdraw(case, ConsentKind.CHILDREN)
    text = reader.read(case)
    assert shown(text, reader.children) == []
    assert "欧阳" not in text  # not even masked
    assert shown(text, reader.health) == list(reader.health)


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_consent_is_read_when_reading_so_a_withdrawal_hides_again(case, reader):
    withdraw(case, ConsentKind.HEALTH)
    withdraw(case, ConsentKind.CHILDREN)
    text = reader.read(case)
    assert shown(text, reader.health + reader.children) == []
    grant(case, ConsentKind.HEALTH)
    grant(case, ConsentKind.CHILDREN)
    text = reader.read(case)
    assert shown(text, reader.health + reader.children) == list(reader.health
                                                                + reader.children)
    withdraw(case, ConsentKind.HEALTH)
    withdraw(case, ConsentKind.CHILDREN)
    assert shown(reader.read(case), reader.health + reader.children) == []


@pytest.mark.parametrize("reader", ARCHIVE_READERS, ids=lambda r: r.name)
def test_the_archive_never_shows_the_children(case, reader):
    assert "欧阳" not in reader.read(case)


def test_a_withheld_child_is_marked_and_figures_stay_computed_from_the_full_data(case):
    rec = case.rec
    full = profile_for(reader=rec.viewer_a, member_or_visit=rec.member, purpose=Purpose.VIEW)
    withdraw(case, ConsentKind.CHILDREN)
    withdraw(case, ConsentKind.HEALTH)
    view = profile_for(reader=rec.viewer_a, member_or_visit=case.visit, purpose="view")
    assert view.withheld == {"health", "children"}
    assert view.data["household"][-1] == {"withheld": True}
    assert len(view.data["household"]) == view.household_size == 4
    assert view.data["health"] is None
    assert view.data["sudden_loss"] is None
    assert "medical_annual" not in view.data["expenses"]
    assert view.has_major_illness is None
    # computations may use the withheld data, display may not show it
    for figure in ("annual_income", "rigid_expenses", "per_capita_monthly"):
        assert getattr(view, figure) == getattr(full, figure)
    with pytest.raises(TypeError):
        view.data["household"][0]["name"] = "改名"  # read-only


def test_names_are_masked_for_a_viewer_and_clear_for_the_next_visit(case):
    rec = case.rec
    shown_names = [p["name"] for p in profile_for(
        reader=rec.viewer_a, member_or_visit=rec.member, purpose=Purpose.VIEW).data["household"]]
    assert shown_names == ["王建国", "李**", "王**", "欧阳**"]
    record = profile_for(reader=rec.visitor_a, member_or_visit=rec.member,
                         purpose=Purpose.RECORD)
    assert [p["name"] for p in record.data["household"]][1:] == ["李秀英", "王小明", "欧阳小红"]
    assert record.data["health"]["note"] == "配偶尿毒症，每周透析"


def test_recording_purpose_needs_the_record_right(case):
    from unionaid.core.errors import NotFound

    with pytest.raises(NotFound):
        profile_for(reader=case.rec.viewer_a, member_or_visit=case.rec.member,
                    purpose=Purpose.RECORD)


def test_the_latest_profile_is_one_query(case, django_assert_num_queries):
    with django_assert_num_queries(1):
        latest = latest_profile(case.rec.member)
        assert latest.member.org_unit is not None
        assert latest.recorded_by.display_name
    assert latest.pk == case.visit.profile.pk
