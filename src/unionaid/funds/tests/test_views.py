"""The finance back office through the HTTP client: scope, forms, exports, confirmation."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope
from unionaid.audit.models import AuditEvent
from unionaid.funds import services
from unionaid.funds.models import (
    BatchStatus,
    Budget,
    Disbursement,
    DisbursementBatch,
    DisbursementStatus,
    EntryKind,
    LedgerEntry,
)

from .conftest import YEAR

pytestmark = pytest.mark.django_db


def _no_inline_code(response):
    html = response.content.decode()
    assert "<script>" not in html
    assert 'style="' not in html


def test_it_hides_the_finance_pages_from_users_without_funds_permissions(client, personas,
                                                                          bureau_budget):
    client.force_login(personas.station_cadre)
    for url in (reverse("funds:budget-list"),
                reverse("funds:budget-detail", args=[bureau_budget.pk]),
                reverse("funds:batch-list"), reverse("funds:budget-allocate")):
        assert client.get(url).status_code == 404


def test_it_lists_only_budgets_in_the_users_scope(client, union, finance, source, bureau_budget):
    services.budget_allocate_down(actor=finance.bureau_finance, parent_budget=bureau_budget,
                                  child_unit=union.station_a, amount="300")
    services.budget_allocate_down(actor=finance.bureau_finance, parent_budget=bureau_budget,
                                  child_unit=union.station_b, amount="400")
    client.force_login(finance.station_finance)
    response = client.get(reverse("funds:budget-list"))
    assert response.status_code == 200
    budgets = [b.org_unit.name for b in response.context["page"].rows]
    assert budgets == [union.station_a.name]
    _no_inline_code(response)
    b_budget = Budget.objects.get(org_unit=union.station_b)
    assert client.get(reverse("funds:budget-detail", args=[b_budget.pk])).status_code == 404
    assert client.get(reverse("funds:budget-detail",
                              args=[bureau_budget.pk])).status_code == 404


def test_it_allocates_through_the_form_and_shows_the_ledger(client, union, finance, source):
    client.force_login(finance.bureau_finance)
    response = client.post(reverse("funds:budget-allocate"), {
        "org_unit": union.station_a.pk, "funding_source": source.pk, "year": YEAR,
        "amount": "1234.56", "memo": "上级补助",
    })
    budget = Budget.objects.get(org_unit=union.station_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("funds:budget-detail", args=[budget.pk])
    assert budget.available == Decimal("1234.56")
    assert AuditEvent.objects.filter(action="funds.allocate", actor=finance.bureau_finance).exists()
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "1,234.56" in page.content.decode()
    assert len(page.context["page"].rows) == 2
    _no_inline_code(page)


def test_it_keeps_what_was_typed_and_shows_a_chinese_error_for_bad_money(client, union, finance,
                                                                        source):
    client.force_login(finance.bureau_finance)
    response = client.post(reverse("funds:budget-allocate"), {
        "org_unit": union.station_a.pk, "funding_source": source.pk, "year": YEAR,
        "amount": "12.345", "memo": "输错了",
    })
    assert response.status_code == 200
    html = response.content.decode()
    assert "金额最多两位小数" in html or "两位小数" in html
    assert 'value="12.345"' in html
    assert not Budget.objects.exists()


def test_it_shows_the_shortfall_when_allocating_down_too_much(client, union, finance,
                                                             bureau_budget):
    client.force_login(finance.bureau_finance)
    response = client.post(reverse("funds:budget-allocate-down", args=[bureau_budget.pk]),
                           {"child_unit": union.station_a.pk, "amount": "10000.50"})
    assert response.status_code == 200
    assert "还差 0.50 元" in response.content.decode()
    assert not Budget.objects.filter(org_unit=union.station_a, available__gt=0).exists()
    response = client.post(reverse("funds:budget-allocate-down", args=[bureau_budget.pk]),
                           {"child_unit": union.station_a.pk, "amount": "500"})
    assert response.status_code == 302
    assert Budget.objects.get(org_unit=union.station_a).available == Decimal("500.00")


def test_it_saves_a_funding_source_through_the_form(client, finance):
    client.force_login(finance.bureau_finance)
    response = client.post(reverse("funds:source-list"), {"code": "donation", "name": "社会捐赠"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="funds.source_create").exists()
    client.force_login(finance.station_finance)
    response = client.post(reverse("funds:source-list"), {"code": "own", "name": "站段自筹"})
    assert response.status_code == 200
    assert "只有总工会" in response.content.decode()


@pytest.fixture
def reserved(union, make_member, bureau_budget, reserve_for, people):
    return [
        reserve_for(make_member(union.team_a, bank_account=people.bank_account()), 1, "100.00"),
        reserve_for(make_member(union.team_b, bank_account=people.bank_account()), 2, "200.00"),
    ]


def test_it_runs_a_batch_from_creation_to_confirmation(client, union, finance, source, reserved):
    client.force_login(finance.bureau_finance)
    response = client.post(reverse("funds:batch-list"),
                           {"org_unit": union.bureau.pk, "funding_source": source.pk})
    batch = DisbursementBatch.objects.get()
    assert response["Location"] == reverse("funds:batch-detail", args=[batch.pk])
    assert batch.total == Decimal("300.00")

    detail = client.get(reverse("funds:batch-detail", args=[batch.pk]))
    html = detail.content.decode()
    account = reserved[0].member.bank_account
    assert account not in html
    assert account[-4:] in html
    _no_inline_code(detail)

    export = client.post(reverse("funds:batch-export", args=[batch.pk, "csv"]))
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    assert "attachment" in export["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert account not in export.content.decode("utf-8-sig")  # a manager gets masked accounts

    client.force_login(finance.bureau_cashier)
    export = client.post(reverse("funds:batch-export", args=[batch.pk, "xlsx"]))
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditEvent.objects.filter(action="funds.batch_export").count() == 2
    batch.refresh_from_db()
    assert batch.exported_by == finance.bureau_finance  # the first export

    client.force_login(finance.bureau_checker)  # neither the maker nor an exporter
    url = reverse("funds:batch-confirm", args=[batch.pk])
    client.post(url, {})  # the checkbox is required
    assert DisbursementBatch.objects.get().status == BatchStatus.EXPORTED
    client.post(url, {"checked": "on"})
    client.post(url, {"checked": "on"})  # a double click pays once
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CONFIRMED
    assert batch.confirmed_by == finance.bureau_checker
    assert LedgerEntry.objects.filter(kind=EntryKind.PAY).count() == 4
    assert Budget.objects.get(org_unit=union.bureau).paid == Decimal("300.00")


def test_it_refuses_to_confirm_for_a_manager_without_funds_confirm(client, union, finance, source,
                                                                  reserved):
    batch = services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                  funding_source=source)
    services.batch_export(actor=finance.bureau_finance, batch=batch, fmt="csv")
    client.force_login(finance.bureau_finance)
    response = client.post(reverse("funds:batch-confirm", args=[batch.pk]), {"checked": "on"})
    assert response.status_code == 404
    assert DisbursementBatch.objects.get().status == BatchStatus.EXPORTED


def test_it_releases_and_reverses_through_the_forms(client, union, finance, source, reserved):
    client.force_login(finance.bureau_finance)
    url = reverse("funds:disbursement-release", args=[reserved[0].pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "请填写原因" in response.content.decode()
    response = client.post(url, {"reason": "重复申请"})
    assert response.status_code == 302
    assert Disbursement.objects.get(pk=reserved[0].pk).status == DisbursementStatus.RELEASED

    batch = services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                  funding_source=source)
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    services.batch_confirm(actor=finance.bureau_checker, batch=batch)
    client.force_login(finance.bureau_cashier)
    listing = client.get(reverse("funds:disbursement-list"), {"status": "paid"})
    assert [d.pk for d in listing.context["page"].rows] == [reserved[1].pk]
    _no_inline_code(listing)
    response = client.post(reverse("funds:disbursement-reverse", args=[reserved[1].pk]),
                           {"reason": "银行退回"})
    assert response.status_code == 302
    assert Disbursement.objects.get(pk=reserved[1].pk).status == DisbursementStatus.REVERSED
    assert Budget.objects.get(org_unit=union.bureau).available == Decimal("10000.00")
    assert services.ledger_recompute() == []


def test_it_hides_disbursements_outside_the_users_scope(client, union, finance, source, reserved):
    client.force_login(finance.station_finance)
    listing = client.get(reverse("funds:disbursement-list"), {"status": ""})
    assert list(listing.context["page"].rows) == []
    assert client.get(reverse("funds:disbursement-release",
                              args=[reserved[1].pk])).status_code == 404


def test_it_lets_a_scoped_tracer_trace_only_its_own_part(client, union, source, reserved):
    role = make_role("tracer-b", ["trace.view"], DataScope.UNIT_AND_BELOW)
    tracer_b = make_staff("tracer_b", union.station_b, [role])
    client.force_login(tracer_b)
    response = client.get(reverse("funds:trace-detail", args=[reserved[0].pk]))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="access.denied", actor=tracer_b,
                                     target_id=str(reserved[0].pk)).exists()


def test_it_renders_every_finance_page_for_its_users(client, union, finance, source, reserved):
    batch = services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                  funding_source=source)
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    budget = Budget.objects.get(org_unit=union.bureau)
    pages = {
        finance.bureau_finance: [
            reverse("funds:budget-list"), reverse("funds:budget-allocate"),
            reverse("funds:budget-detail", args=[budget.pk]),
            reverse("funds:budget-allocate-down", args=[budget.pk]),
            reverse("funds:source-list"), reverse("funds:disbursement-list"),
            reverse("funds:batch-list"), reverse("funds:batch-detail", args=[batch.pk]),
        ],
        finance.bureau_cashier: [
            reverse("funds:batch-detail", args=[batch.pk]), reverse("funds:batch-list"),
        ],
        finance.tracer: [reverse("funds:trace-search")],
    }
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            _no_inline_code(response)
    client.force_login(finance.bureau_checker)
    html = client.get(reverse("funds:batch-detail", args=[batch.pk])).content.decode()
    assert reverse("funds:batch-confirm", args=[batch.pk]) in html
    services.batch_confirm(actor=finance.bureau_checker, batch=batch)
    client.force_login(finance.bureau_cashier)
    paid = Disbursement.objects.filter(status=DisbursementStatus.PAID).first()
    assert client.get(reverse("funds:disbursement-reverse", args=[paid.pk])).status_code == 200
    client.force_login(finance.tracer)
    assert client.get(reverse("funds:budget-list")).status_code == 404  # trace.view only
    assert client.get(reverse("funds:trace-search"),
                      {"kind": "disbursement", "number": 999}).status_code == 200
