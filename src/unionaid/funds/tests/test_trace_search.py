"""The auditor finds a payment by the worker's name, ID number (posted only), batch number or
date range, within their trace.view scope; the results lead to the trace page (issue 10,
item 15)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import make_role, make_staff
from unionaid.audit.models import AuditEvent
from unionaid.core import masking
from unionaid.funds import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(union, make_member, finance, source, bureau_budget, reserve_for):
    """Two payments in one confirmed batch (team A, team B) and one waiting (team A)."""
    a = reserve_for(make_member(union.team_a, name="欧阳娜娜"), 1, 100)
    b = reserve_for(make_member(union.team_b, name="李四"), 2, 200)
    batch = services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                  funding_source=source)
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    services.batch_confirm(actor=finance.bureau_cashier, batch=batch)
    c = reserve_for(a.member, 3, 50)
    return a, b, c, batch


def _found(user, **criteria) -> list[int]:
    return [d.pk for d in selectors.trace_search(user=user, **criteria)]


def test_by_name_id_number_batch_and_date(finance, paid):
    a, b, c, batch = paid
    assert _found(finance.tracer, name="欧阳") == [c.pk, a.pk]
    assert _found(finance.tracer, id_number=b.member.id_number) == [b.pk]
    assert _found(finance.tracer, batch=batch.pk) == [b.pk, a.pk]
    today = timezone.localdate()
    assert _found(finance.tracer, date_from=today, date_to=today) == [c.pk, b.pk, a.pk]
    assert _found(finance.tracer, date_to=today - dt.timedelta(days=1)) == []
    assert _found(finance.tracer, name="欧阳", batch=batch.pk) == [a.pk]
    event = AuditEvent.objects.filter(action="funds.trace_search").last()
    assert event.actor_id == finance.tracer.pk


def test_only_within_the_auditors_scope(union, finance, bureau_budget, reserve_for, paid):
    a, b, _c, batch = paid
    services.budget_allocate_down(actor=finance.bureau_finance, parent_budget=bureau_budget,
                                  child_unit=union.station_b, amount=500)
    d = reserve_for(b.member, 4, 70)  # paid from station B's own budget
    role = make_role("station-tracer", ["trace.view"])
    station_b_auditor = make_staff("station_tracer", union.station_b, [role])
    assert _found(station_b_auditor, id_number=b.member.id_number) == [d.pk]
    assert _found(station_b_auditor, name="李") == [d.pk]
    assert _found(station_b_auditor, id_number=a.member.id_number) == []
    assert _found(station_b_auditor, batch=batch.pk) == []  # the bureau's batch
    assert _found(finance.bureau_cashier, id_number=b.member.id_number) == []  # no trace.view


def test_the_page_searches_by_post_and_never_puts_the_id_number_in_a_url(client, finance,
                                                                          paid):
    a, b, _c, batch = paid
    url = reverse("funds:trace-search")
    client.force_login(finance.tracer)
    html = client.get(url).content.decode()
    form = html.split('id="trace-find"')[0].rsplit("<form", 1)[1]
    assert 'method="post"' in form
    assert 'name="id_number"' in html.split('id="trace-find"')[1]

    response = client.post(url, {"id_number": b.member.id_number})
    html = response.content.decode()
    found = html.split('id="trace-found"')[1]
    assert reverse("funds:trace-detail", args=[b.pk]) in found
    assert reverse("funds:trace-detail", args=[a.pk]) not in found
    assert masking.mask_name(b.member.name) in found
    assert b.member.id_number not in found  # not echoed in the results
    event = AuditEvent.objects.get(action="funds.trace_search")
    assert b.member.id_number not in str(event.changes)
    assert event.changes["criteria"]["id_number"] == masking.mask_id_number(b.member.id_number)

    html = client.post(url, {"batch": batch.pk}).content.decode()
    found = html.split('id="trace-found"')[1]
    assert found.count(reverse("funds:trace-detail", args=[a.pk])) == 1
    assert found.count(reverse("funds:trace-detail", args=[b.pk])) == 1

    html = client.post(url, {}).content.decode()
    assert "请至少填写一项查询条件" in html
    html = client.post(url, {"id_number": "110101199001011234"}).content.decode()
    assert "身份证号格式不正确" in html
    # an ID number in the query string is not a search
    html = client.get(url, {"id_number": b.member.id_number}).content.decode()
    assert 'id="trace-found"' not in html
