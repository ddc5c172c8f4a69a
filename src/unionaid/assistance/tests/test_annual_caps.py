"""Yearly caps across items as data: versions in force from a date (a change applies to the next
check, not to checks already made), edited on a page and through the API by catalog
maintainers only, refused with Chinese messages and nothing saved, journaled."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from unionaid.assistance import caps, selectors, services
from unionaid.assistance.models import AnnualCap, Application
from unionaid.assistance.services.catalog_load import catalog_load_defaults
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied, ServiceError

PAGE = "/assistance/catalog/caps/"


def estimate(item, member, days: int) -> Decimal:
    return selectors.item_estimate(item=item, member=member, facts={"days": days})["amount"]


@pytest.fixture
def hospital(make_item):
    return make_item(code="yl-zybz", name="住院医疗补助", period_kind="case",
                     facts=[{"name": "days", "label": "住院天数", "type": "int"}],
                     eligibility=[], required_materials=[],
                     amount_rule={"kind": "per_unit", "fact": "days", "rate": 100, "unit": "天",
                                  "ceiling": 3000})


def test_a_changed_cap_is_applied_to_the_next_check(worker, staff, categories, hospital):
    services.annual_cap_save(actor=staff.catalog_admin, category=categories["zhuyi"],
                             per_person=2500)
    assert estimate(hospital, worker.member, 30) == Decimal("2500.00")
    services.annual_cap_save(actor=staff.catalog_admin, category=categories["zhuyi"],
                             per_person=1200)  # same day: a correction of today's version
    assert estimate(hospital, worker.member, 30) == Decimal("1200.00")
    assert AnnualCap.objects.filter(category=categories["zhuyi"]).count() == 1


def test_a_cap_from_a_later_date_leaves_todays_checks_alone(worker, staff, categories, hospital):
    today = timezone.localdate()
    services.annual_cap_save(actor=staff.catalog_admin, category=categories["zhuyi"],
                             per_person=2500)
    services.annual_cap_save(actor=staff.catalog_admin, category=categories["zhuyi"],
                             per_person=1000, effective_from=today + dt.timedelta(days=2))
    assert estimate(hospital, worker.member, 30) == Decimal("2500.00")
    later = today + dt.timedelta(days=2)
    assert caps.apply_caps(application=Application(member=worker.member, item=hospital),
                           amount=Decimal("3000"), year=later.year, day=later)[0] == 1000
    overview = selectors.annual_cap_overview()
    row = next(r for r in overview["rows"] if r["category"] == categories["zhuyi"])
    assert row["current"].per_person == Decimal("2500.00")
    assert [v.per_person for v in row["scheduled"]] == [Decimal("1000.00")]


def test_the_old_version_stays_and_an_empty_version_lifts_the_cap(
        worker, staff, categories, hospital):
    services.annual_cap_save(actor=staff.catalog_admin, category=None, per_household=2000)
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        services.annual_cap_save(actor=staff.catalog_admin, category=None)  # lifts it
        assert estimate(hospital, worker.member, 30) == Decimal("3000.00")
        assert AnnualCap.objects.filter(category=None).count() == 2


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"per_person": "-5"}, "per_person", "上限须大于 0，不设上限请留空。"),
    ({"per_person": "abc"}, "per_person", "上限须为金额数字。"),
    ({"per_household": "99999999999"}, "per_household", "上限金额过大，请核对。"),
    ({}, "per_person", "请至少填写每人或每户的年度上限。"),
    ({"per_person": "100", "effective_from": dt.date(2000, 1, 1)}, "effective_from",
     "生效日期不能早于今天，已作出的决定按当时的上限，不能改写。"),
])
def test_invalid_values_are_refused_and_nothing_is_saved(staff, values, field, message):
    with pytest.raises(ServiceError) as exc:
        services.annual_cap_save(actor=staff.catalog_admin, category=None, **values)
    assert exc.value.fields == {field: message}
    assert not AnnualCap.objects.exists()
    assert not AuditEvent.objects.filter(action="assistance_cap.save").exists()


def test_only_catalog_maintainers_change_caps(staff):
    with pytest.raises(PermissionDenied):
        services.annual_cap_save(actor=staff.apply_cadre, category=None, per_person=100)
    assert not AnnualCap.objects.exists()


def test_a_change_is_journaled_with_the_old_and_new_amounts(staff, categories):
    services.annual_cap_save(actor=staff.catalog_admin, category=categories["zhuyi"],
                             per_person=3000)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    services.annual_cap_save(actor=staff.catalog_admin, category=categories["zhuyi"],
                             per_person=2000, effective_from=tomorrow)
    event = AuditEvent.objects.filter(action="assistance_cap.save").latest("pk")
    assert event.actor_id == staff.catalog_admin.pk
    assert event.changes["per_person"] == ["3000.00", "2000.00"]
    assert event.changes["effective_from"] == tomorrow.isoformat()


# -- the page -----------------------------------------------------------------------------------

def test_the_page_needs_the_catalog_permission(client, staff):
    client.force_login(staff.apply_cadre)
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, {"per_person": "100",
                              "effective_from": timezone.localdate().isoformat()}).status_code == 404
    assert not AnnualCap.objects.exists()


def test_the_page_saves_a_new_version_and_shows_it(client, staff, categories):
    client.force_login(staff.catalog_admin)
    today = timezone.localdate().isoformat()
    response = client.post(PAGE, {"scope": categories["zhuyi"].pk, "per_person": "15000",
                                  "per_household": "", "effective_from": today})
    assert response.status_code == 302
    cap = AnnualCap.objects.get()
    assert (cap.category, cap.per_person, cap.per_household) == (
        categories["zhuyi"], Decimal("15000.00"), None)
    page = client.get(PAGE).content.decode()
    assert "15,000" in page
    assert AuditEvent.objects.filter(action="assistance_cap.save").count() == 1


def test_the_page_shows_a_chinese_error_and_saves_nothing(client, staff):
    client.force_login(staff.catalog_admin)
    response = client.post(PAGE, {"scope": "", "per_person": "0", "per_household": "",
                                  "effective_from": timezone.localdate().isoformat()})
    assert response.status_code == 400
    assert "上限须大于 0，不设上限请留空。" in response.content.decode()
    assert not AnnualCap.objects.exists()


# -- the API ------------------------------------------------------------------------------------

def test_the_api_reads_and_sets_caps(staff, categories, as_token):
    api = as_token(staff.catalog_admin)
    response = api.put("/assistance/caps/zhuyi", {"per_person": "8000"})
    assert response.status_code == 200, response.json()
    assert response.json()["per_person"] == "8000.00"
    listed = {c["scope"]: c for c in api.get("/assistance/caps").json()["caps"]}
    assert listed["zhuyi"]["per_person"] == "8000.00"
    assert listed["all"]["per_person"] is None
    assert AuditEvent.objects.filter(action="assistance_cap.save").count() == 1


def test_the_api_refuses_with_error_codes(staff, worker, categories, as_token):
    api = as_token(staff.catalog_admin)
    bad = api.put("/assistance/caps/all", {"per_household": "-1"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_item"
    assert bad.json()["fields"] == {"per_household": "上限须大于 0，不设上限请留空。"}
    assert api.put("/assistance/caps/nope", {"per_person": "1"}).json()["code"] == \
        "scope_not_found"
    assert api.put("/assistance/caps/all", {"per_person": True}).status_code == 422
    denied = as_token(worker).put("/assistance/caps/all", {"per_person": "100"})
    assert denied.status_code == 403
    assert denied.json()["code"] == "permission_denied"
    assert not AnnualCap.objects.exists()
    assert as_token(worker).get("/assistance/caps").status_code == 200


def test_a_new_catalogs_first_caps_count_from_the_start_but_later_ones_cannot_backdate(staff):
    catalog_load_defaults(actor=None)  # as `manage.py load_catalog` does
    assert set(AnnualCap.objects.values_list("effective_from", flat=True)) == {
        dt.date(2000, 1, 1)}
    with pytest.raises(ServiceError) as exc:
        services.annual_cap_save(actor=staff.catalog_admin, category=None, per_household=1,
                                 effective_from=dt.date(2001, 1, 1), initial=True)
    assert exc.value.code == "invalid_item"
    assert AnnualCap.objects.count() == 2
