"""The finance to-dos on the home page (issue 10, item 10): cashiers see the batches waiting
for them to confirm, finance officers the grants waiting for payment."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope
from unionaid.funds import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(union, make_member, finance, source, bureau_budget, reserve_for):
    reserve_for(make_member(union.team_a), 1, 100)
    reserve_for(make_member(union.team_b), 2, 200)
    batch = services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                  funding_source=source)
    reserve_for(make_member(union.team_a), 3, 50)  # waits for the next batch
    return batch


def _card(html: str, key: str) -> str:
    return html.split(f'id="funds-todo-{key}"')[1].split("</a>")[0]


def test_the_cashier_sees_the_batch_to_confirm_and_the_officer_the_grants_to_pay(
        client, finance, waiting):
    client.force_login(finance.bureau_cashier)
    html = client.get("/").content.decode()
    card = _card(html, "batches")
    assert "待确认发放批次" in card
    assert ">1<" in card
    assert 'id="funds-todo-reserved"' not in html
    listing = client.get(reverse("funds:batch-list"), {"status": "waiting"}).content.decode()
    assert reverse("funds:batch-detail", args=[waiting.pk]) in listing

    client.force_login(finance.bureau_finance)
    html = client.get("/").content.decode()
    card = _card(html, "reserved")
    assert "待发放款项" in card
    assert ">1<" in card  # the one not in a batch yet
    assert 'id="funds-todo-batches"' not in html

    services.batch_export(actor=finance.bureau_cashier, batch=waiting, fmt="csv")
    services.batch_confirm(actor=finance.bureau_cashier, batch=waiting)
    client.force_login(finance.bureau_cashier)
    assert 'id="funds-todo-batches"' not in client.get("/").content.decode()
    listing = client.get(reverse("funds:batch-list"), {"status": "waiting"}).content.decode()
    assert reverse("funds:batch-detail", args=[waiting.pk]) not in listing


def test_a_batch_one_made_is_not_ones_to_do(union, finance, waiting):
    role = make_role("fin-both", ["funds.view", "funds.manage", "funds.confirm"], DataScope.ALL)
    both = make_staff("all_rounder", union.bureau, [role])
    todos = {t.key: t.count for t in selectors.funds_todos(user=both)}
    assert todos == {"batches": 1, "reserved": 1}
    mine = services.batch_create(actor=both, org_unit=union.bureau,
                                 funding_source=waiting.funding_source)
    assert mine.disbursements.count() == 1
    todos = {t.key: t.count for t in selectors.funds_todos(user=both)}
    assert todos == {"batches": 1}  # theirs waits on someone else


def test_no_finance_rights_no_finance_todos(finance, waiting):
    assert selectors.funds_todos(user=finance.tracer) == []
