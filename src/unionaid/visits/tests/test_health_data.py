"""Health data in the six-clear profile beyond the health block: a cause of hardship 因病 or 因残
and a sudden loss from a major illness need the health consent to be recorded, and are left out
of every display (detail, history, API, pre-filled applications) without it."""
# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

import pytest
from django.test import Client

from conftest import verified_login
from unionaid.assistance import services as assistance_services
from unionaid.core.errors import ServiceError
from unionaid.core.testing.api import ApiClient
from unionaid.funds.models import FundingSource
from unionaid.members.models import ConsentKind
from unionaid.members.services import consent_withdraw
from unionaid.visits import profile as profilelib
from unionaid.visits.models import Visit
from unionaid.visits.services import needs as need_services
from unionaid.visits.services import visits as visit_services

from .helpers_records import healthy, new_uuid, rec, visit_data  # noqa: F401

ILLNESS_LOSS = {"kind": "major_illness", "amount": "80000", "note": "突发脑梗住院"}


def clean(**changes) -> dict:
    return profilelib.clean_profile(healthy(**changes))


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, False),
    ({"causes": ["low_income", "schooling"]}, False),
    ({"sudden_loss": {"kind": "disaster", "amount": "5000"}}, False),
    ({"causes": ["illness"]}, True),
    ({"causes": ["disability"]}, True),
    ({"sudden_loss": ILLNESS_LOSS}, True),
])
def test_illness_causes_and_an_illness_loss_are_health_data(changes, expected):
    assert profilelib.needs_health_consent(clean(**changes)) is expected


@pytest.mark.parametrize("changes", [{"causes": ["illness"]}, {"causes": ["disability"]},
                                     {"sudden_loss": ILLNESS_LOSS}])
def test_they_are_not_recorded_without_the_health_consent(rec, changes):
    data = visit_data(rec.member, profile=healthy(**changes), consent={}, needs=[])
    with pytest.raises(ServiceError) as exc:
        visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(), data=data)
    assert "consent.health" in exc.value.fields
    assert not Visit.objects.exists()


@pytest.fixture
def ill_visit(rec) -> Visit:
    """A healthy-looking household whose hardship comes from an illness and a disability."""
    profile = healthy(causes=["illness", "disability", "low_income"], sudden_loss=ILLNESS_LOSS)
    visit, _ = visit_services.visit_submit(
        actor=rec.visitor_a, client_uuid=new_uuid(),
        data=visit_data(rec.member, profile=profile, consent={"health": True}))
    return visit


def withdraw(rec) -> None:
    consent_withdraw(actor=rec.visitor_a, member=rec.member, kind=ConsentKind.HEALTH)


def test_the_pages_hide_them_once_the_consent_is_withdrawn(client, rec, ill_visit):
    verified_login(client, rec.visitor_a)
    pages = (f"/visits/{ill_visit.pk}/", f"/visits/members/{rec.member.pk}/profiles/",
             f"/visits/new/?member={rec.member.pk}")
    detail, history, _form = (client.get(url).content.decode() for url in pages)
    assert "因病" in detail
    assert "因残" in detail
    assert "突发重大疾病" in detail
    assert "因病" in history
    withdraw(rec)
    detail, history, form = (client.get(url).content.decode() for url in pages)
    for html in (detail, history):
        assert "因病" not in html
        assert "因残" not in html
        assert "收入低" in html
    assert "突发重大疾病" not in detail
    assert "80,000.00" not in detail
    # the next visit does not start from them either (the prefill)
    assert 'value="illness" checked' not in form
    assert 'value="low_income" checked' in form
    assert "80000" not in form


def api_get(user, url: str):
    client = Client()
    client.force_login(user)
    return ApiClient(client).get(url).json()


def test_the_api_leaves_them_out_once_the_consent_is_withdrawn(rec, ill_visit):
    detail = api_get(rec.viewer_a, f"/visits/{ill_visit.pk}")
    assert detail["profile"]["causes"] == ["disability", "illness", "low_income"]
    withdraw(rec)
    detail = api_get(rec.viewer_a, f"/visits/{ill_visit.pk}")
    assert detail["profile"]["causes"] == ["low_income"]
    (row,) = api_get(rec.viewer_a, f"/visits/members/{rec.member.pk}/profiles")
    assert row["causes"] == ["low_income"]
    assert row["data"]["causes"] == ["low_income"]
    assert row["data"]["sudden_loss"] is None
    assert "突发脑梗" not in str(row)


@pytest.fixture
def sudden_item(db):
    category = assistance_services.category_save(actor=None, code="zhukun", name="助困")
    source = FundingSource.objects.create(code="ghjf", name="工会经费")
    return assistance_services.item_save(
        actor=None, category=category, funding_source=source, code="yw-zk", name="意外致困救助",
        facts=[{"name": "cause", "label": "致困原因", "type": "choice",
                "choices": ["家庭成员突发重病", "遭遇自然灾害"]}],
        eligibility=[], amount_rule={"kind": "fixed", "amount": 3000}, required_materials=[])


def test_a_cause_from_an_illness_is_prefilled_only_with_the_health_consent(rec, ill_visit,
                                                                          sudden_item):
    profile = need_services.latest_profile(rec.member)
    facts = need_services.facts_from_profile(item=sudden_item, member=rec.member,
                                             profile=profile)
    assert facts == {"cause": "家庭成员突发重病"}
    withdraw(rec)
    assert need_services.facts_from_profile(item=sudden_item, member=rec.member,
                                            profile=profile) == {}
