"""A batch pays money to bank accounts: a worker with no account on file is never put in one
(the bank file would carry an empty account). Their reserved money waits until the account is
registered."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import make_role, make_staff
from unionaid.audit.models import AuditEvent
from unionaid.core import masking
from unionaid.core.errors import Conflict, ServiceError
from unionaid.funds import services
from unionaid.funds.models import Disbursement, DisbursementBatch, DisbursementStatus
from unionaid.notifications.models import Notification

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
    client.force_login(finance.bureau_finance)
    html = client.get(reverse("funds:disbursement-list"), {"status": "reserved"}).content.decode()
    assert html.count("未登记银行账号，暂不能列入批次") == 1


# -- issue 10, item 10: say who was left out, and tell the cadre who can register the account --

@pytest.fixture
def cadres(union):
    """The team cadre of team A (members.change there) and a station-wide one above them."""
    team = make_role("team-cadre", ["members.view", "members.change"])
    return {"team": make_staff("team_cadre", union.team_a, [team]),
            "station": make_staff("station_cadre", union.station_a, [team])}


def test_the_batch_form_lists_the_grants_left_out_and_why(client, union, finance, two):
    _with_account, without = two
    client.force_login(finance.bureau_finance)
    html = client.get(reverse("funds:batch-list")).content.decode()
    panel = html.split('id="left-out"')[1].split("</table>")[0]
    assert "有 1 笔已核准待发放的款项不会列入批次：职工未登记银行账号" in panel
    assert f"#{without.pk}" in panel
    assert masking.mask_name(without.member.name) in panel
    assert without.member.name not in html  # masked
    assert "测试事项2" in panel  # the item, from the registered subject
    assert "400.00" in panel
    assert union.team_a.name in panel

    response = client.post(reverse("funds:batch-list"), {
        "org_unit": union.bureau.pk, "funding_source": without.budget.funding_source.pk,
    }, follow=True)
    assert "已生成发放批次，共 1 笔。另有 1 笔因职工未登记银行账号未列入" in response.content.decode()


def test_a_cashier_sees_no_left_out_list(client, finance, two):
    client.force_login(finance.bureau_cashier)
    assert 'id="left-out"' not in client.get(reverse("funds:batch-list")).content.decode()


def test_making_a_batch_tells_the_nearest_cadre_once(union, finance, source, two, cadres):
    _with_account, without = two
    services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                          funding_source=source)
    notes = Notification.objects.all()
    assert [n.recipient for n in notes] == [cadres["team"]]  # the nearest post only
    note = notes[0]
    assert note.link == reverse("members:member-edit", args=[without.member_id])
    assert masking.mask_name(without.member.name) in note.title
    assert without.member.name not in note.title + note.body
    assert "400.00" in note.body
    event = AuditEvent.objects.get(action="funds.missing_account_notify")
    assert event.changes == {"disbursements": [without.pk], "notices": 1}

    # a second batch while the notice is unread: not told again
    with pytest.raises(ServiceError):
        services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                              funding_source=source)
    assert Notification.objects.count() == 1


def test_a_batch_refused_for_want_of_accounts_still_tells_the_cadre(
        union, make_member, finance, source, bureau_budget, reserve_for, cadres):
    reserve_for(make_member(union.team_a, bank_account=""), 1, 300)
    with pytest.raises(ServiceError) as exc:
        services.batch_create(actor=finance.bureau_finance, org_unit=union.bureau,
                              funding_source=source)
    assert exc.value.code == "nothing_to_batch"
    assert not DisbursementBatch.objects.exists()
    assert [n.recipient for n in Notification.objects.all()] == [cadres["team"]]
    assert AuditEvent.objects.filter(action="funds.missing_account_notify").count() == 1
