"""A batch pays money to bank accounts: a worker with no account on file is never put in one
(the bank file would carry an empty account). Their reserved money waits until the account is
registered."""

from __future__ import annotations

import pytest

from unionaid.core.errors import Conflict, ServiceError
from unionaid.funds import services
from unionaid.funds.models import Disbursement, DisbursementBatch, DisbursementStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(union, make_member, finance, bureau_budget, reserve_for):
    with_account = reserve_for(make_member(union.team_a), 1, 300)
    without = reserve_for(make_member(union.team_a, bank_account=""), 2, 400)
    return with_account, without


def test_a_batch_of_everything_leaves_out_workers_without_an_account(
        union, finance, source, two):
    with_account, without = two
    batch = services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                                  funding_source=source)
    assert list(batch.disbursements.values_list("pk", flat=True)) == [with_account.pk]
    assert Disbursement.objects.get(pk=without.pk).status == DisbursementStatus.RESERVED
    _name, content = services.batch_export(actor=finance.bureau_finance, batch=batch, fmt="csv")
    assert "未登记" not in content.decode("utf-8-sig")


def test_choosing_a_worker_without_an_account_is_refused_and_writes_nothing(
        union, finance, source, two):
    with pytest.raises(Conflict) as exc:
        services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                              funding_source=source, disbursement_ids=[d.pk for d in two])
    assert exc.value.code == "no_bank_account"
    assert "1 笔的职工未登记银行账号" in exc.value.message
    assert not DisbursementBatch.objects.exists()
    assert set(Disbursement.objects.values_list("status", flat=True)) == {
        DisbursementStatus.RESERVED}


def test_when_every_waiting_worker_lacks_an_account_the_message_says_so(
        union, make_member, finance, source, bureau_budget, reserve_for):
    reserve_for(make_member(union.team_a, bank_account=""), 1, 300)
    with pytest.raises(ServiceError) as exc:
        services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                              funding_source=source)
    assert exc.value.code == "nothing_to_batch"
    assert "未登记银行账号" in exc.value.message


def test_the_disbursement_list_says_which_waiting_grants_lack_an_account(
        client, finance, two):
    from django.urls import reverse

    client.force_login(finance.bureau_finance)
    html = client.get(reverse("funds:disbursement-list"), {"status": "reserved"}).content.decode()
    assert html.count("未登记银行账号，暂不能列入批次") == 1
