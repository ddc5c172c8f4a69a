"""Maker-checker (四眼原则) on payment batches: whoever made a batch may not confirm it;
exporting the bank file is a download, not a decision, so the cashier who exported it may
confirm. The refusal writes nothing but its journal entry."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied
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

pytestmark = pytest.mark.django_db

SAME_PERSON = "制单人不能确认本批次发放，请由另一位财务人员（出纳）确认。"


@pytest.fixture
def all_rounder(union):
    """A bureau finance post holding both funds.manage and funds.confirm."""
    role = make_role("fin-both", ["org.view", "funds.view", "funds.manage", "funds.confirm"],
                     DataScope.ALL)
    return make_staff("all_rounder", union.bureau, [role])


@pytest.fixture
def batch(union, make_member, finance, source, bureau_budget, reserve_for):
    """Two reserved disbursements in a draft batch made by the bureau finance officer."""
    reserve_for(make_member(union.team_a), 1, 100)
    reserve_for(make_member(union.team_b), 2, 200)
    return services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                 funding_source=source)


def assert_nothing_paid(batch, bureau_budget):
    batch.refresh_from_db()
    assert batch.status == BatchStatus.EXPORTED
    assert batch.confirmed_by is None
    assert batch.confirmed_at is None
    assert set(Disbursement.objects.values_list("status", flat=True)) == {
        DisbursementStatus.IN_BATCH}
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAY).exists()
    bureau_budget.refresh_from_db()
    assert (bureau_budget.reserved, bureau_budget.paid) == (Decimal("300.00"), Decimal(0))
    assert not AuditEvent.objects.filter(action="funds.batch_confirm", outcome="ok").exists()


def test_the_maker_cannot_confirm_their_own_batch(union, finance, source, bureau_budget,
                                                   reserve_for, make_member, all_rounder):
    reserve_for(make_member(union.team_a), 1, 100)
    reserve_for(make_member(union.team_b), 2, 200)
    batch = services.batch_create(actor=all_rounder, org_unit=union.bureau,
                                  funding_source=source)
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    with pytest.raises(PermissionDenied) as exc:
        services.batch_confirm(actor=all_rounder, batch=batch)
    assert exc.value.code == "same_person"
    assert exc.value.message == SAME_PERSON
    assert_nothing_paid(batch, bureau_budget)
    refusal = AuditEvent.objects.get(action="funds.batch_confirm", outcome="denied")
    assert (refusal.actor_id, refusal.target_type, refusal.target_id) == (
        all_rounder.pk, "funds.disbursementbatch", str(batch.pk))
    assert refusal.changes == {"reason": "same_person", "created_by": all_rounder.pk,
                               "exported_by": finance.bureau_cashier.pk}


def test_one_finance_officer_and_one_cashier_complete_a_batch_the_cashier_downloaded(
        finance, bureau_budget, batch):
    # issue 10, item 9: the cashier's download used to make them an "exporter" who could
    # never confirm; with one finance officer and one cashier the batch was stuck for good.
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="xlsx")
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    batch.refresh_from_db()
    assert batch.exported_by == finance.bureau_cashier
    assert services.batch_confirm_refusal(batch=batch, user=finance.bureau_cashier) is None
    confirmed = services.batch_confirm(actor=finance.bureau_cashier, batch=batch)
    assert confirmed.status == BatchStatus.CONFIRMED
    assert confirmed.confirmed_by == finance.bureau_cashier
    assert LedgerEntry.objects.filter(kind=EntryKind.PAY).count() == 4
    assert not AuditEvent.objects.filter(action="funds.batch_confirm", outcome="denied").exists()
    assert services.ledger_recompute() == []


def test_the_maker_who_also_exported_still_cannot_confirm(finance, bureau_budget, all_rounder,
                                                          union, source, reserve_for,
                                                          make_member):
    reserve_for(make_member(union.team_a), 1, 100)
    batch = services.batch_create(actor=all_rounder, org_unit=union.bureau,
                                  funding_source=source)
    services.batch_export(actor=all_rounder, batch=batch, fmt="xlsx")
    with pytest.raises(PermissionDenied) as exc:
        services.batch_confirm(actor=all_rounder, batch=batch)
    assert exc.value.code == "same_person"
    services.batch_confirm(actor=finance.bureau_cashier, batch=batch)
    assert DisbursementBatch.objects.get(pk=batch.pk).confirmed_by == finance.bureau_cashier


def test_confirming_stays_idempotent_for_the_checker_and_refused_to_the_maker(
        finance, bureau_budget, batch):
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    services.batch_confirm(actor=finance.bureau_checker, batch=batch)
    again = services.batch_confirm(actor=finance.bureau_checker, batch=batch)
    assert again.confirmed_by == finance.bureau_checker
    with pytest.raises(PermissionDenied):
        services.batch_confirm(actor=finance.bureau_finance, batch=batch)
    assert LedgerEntry.objects.filter(kind=EntryKind.PAY).count() == 4
    assert AuditEvent.objects.filter(action="funds.batch_confirm", outcome="ok").count() == 1
    assert Budget.objects.get(pk=bureau_budget.pk).paid == Decimal("300.00")


def test_the_batch_page_names_the_maker_exporter_and_confirmer_and_stops_the_maker(
        client, union, finance, source, bureau_budget, reserve_for, make_member, all_rounder):
    reserve_for(make_member(union.team_a), 1, 100)
    batch = services.batch_create(actor=all_rounder, org_unit=union.bureau,
                                  funding_source=source)
    services.batch_export(actor=finance.bureau_cashier, batch=batch, fmt="csv")
    url = reverse("funds:batch-detail", args=[batch.pk])
    confirm_url = reverse("funds:batch-confirm", args=[batch.pk])

    client.force_login(all_rounder)  # made it: sees why the button is off
    html = client.get(url).content.decode()
    assert "all_rounder" in html.split('id="batch-created-by"')[1].split("</dd>")[0]
    assert "bureau_cashier" in html.split('id="batch-exported-by"')[1].split("</dd>")[0]
    assert "尚未确认" in html.split('id="batch-confirmed-by"')[1].split("</dd>")[0]
    assert confirm_url not in html
    assert 'id="confirm-refused"' in html
    assert SAME_PERSON in html
    assert "disabled" in html.split('id="confirm-refused"')[1].split("</div>")[0]
    assert 'style="' not in html

    response = client.post(confirm_url, {"checked": "on"}, follow=True)  # posted anyway
    assert SAME_PERSON in response.content.decode()
    assert DisbursementBatch.objects.get(pk=batch.pk).status == BatchStatus.EXPORTED
    assert AuditEvent.objects.filter(action="funds.batch_confirm", outcome="denied",
                                     actor=all_rounder).count() == 1

    client.force_login(finance.bureau_cashier)  # downloaded the file: may still confirm
    html = client.get(url).content.decode()
    assert confirm_url in html
    assert 'id="confirm-refused"' not in html
    response = client.post(confirm_url, {"checked": "on"}, follow=True)
    assert "已确认发放" in response.content.decode()
    html = client.get(url).content.decode()
    assert "bureau_cashier" in html.split('id="batch-confirmed-by"')[1].split("</dd>")[0]
