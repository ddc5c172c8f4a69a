"""What the worker's application pages say (issue 10, item 12): the timeline leaves out steps the
engine will skip, a paid application says when and to which card (its last 4 digits), and each
row of "我的申请" says what its date is."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope
from unionaid.approvals import services as approvals
from unionaid.assistance.models import ApplicationStatus
from unionaid.funds import services as funds
from unionaid.funds.models import Disbursement

from .helpers import draft, pending_task, photo, submitted
from .test_progress import detail, timeline_rows


@pytest.fixture
def cashier(union):
    role = make_role("cashier", ["org.view", "funds.view", "funds.confirm"], DataScope.ALL)
    return make_staff("cashier", union.bureau, [role])


def _pay(approvers, cashier, union, source):
    batch = funds.batch_create(actor=approvers.finance, org_unit=union.bureau,
                               funding_source=source)
    funds.batch_export(actor=approvers.finance, batch=batch, fmt="csv")
    funds.batch_confirm(actor=cashier, batch=batch)


def test_a_step_that_will_be_skipped_is_not_listed(client, worker, illness, flow, budget):
    application = submitted(worker, illness, self_paid="5000")  # 1,500: 主席审批 will skip
    client.force_login(worker)

    rows = timeline_rows(detail(client, application).content.decode())

    assert [state for state, _ in rows] == ["current"]
    assert rows[0][1].startswith("1. 站段审核 办理中")


def test_a_step_that_will_run_is_still_listed_as_to_come(client, worker, illness, flow, budget):
    application = submitted(worker, illness)  # 5,000: both steps run
    client.force_login(worker)

    rows = timeline_rows(detail(client, application).content.decode())

    assert [state for state, _ in rows] == ["current", "upcoming"]
    assert rows[1][1].startswith("2. 主席审批 未开始")


def test_a_paid_application_shows_the_payment_date_and_the_card_tail(
        client, worker, approvers, cashier, union, source, illness, flow, budget):
    application = submitted(worker, illness, self_paid="5000")
    approvals.task_decide(actor=approvers.station, task=pending_task(application),
                          decision="approve")
    client.force_login(worker)
    assert 'id="payment"' not in detail(client, application).content.decode()  # not paid yet

    _pay(approvers, cashier, union, source)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PAID
    paid_at = Disbursement.objects.get(subject_id=application.pk).paid_at
    account = worker.member.bank_account
    html = detail(client, application).content.decode()

    assert 'id="payment"' in html
    section = html.split('id="payment"', 1)[1].split("</section>", 1)[0]
    assert "发放日期" in section
    assert timezone.localtime(paid_at).strftime("%Y-%m-%d") in section
    assert "1,500.00" in section
    assert f"银行卡 ****{account[-4:]}" in section
    assert account not in html
    assert account[:6] not in section


def test_my_application_rows_label_their_date_and_year(client, worker, illness, make_item):
    one_off = make_item(code="zk-yw", name="意外致困救助", category="zhukun",
                        period_kind="case")
    yearly = draft(worker, illness)
    once = draft(worker, one_off)
    once.submitted_at = timezone.now() - dt.timedelta(days=3)
    once.save(update_fields=["submitted_at"])
    client.force_login(worker)

    html = client.get(reverse("portal:application-list")).content.decode()

    rows = {name: html.split(name, 1)[1].split("</a>", 1)[0]
            for name in ("大病医疗救助", "意外致困救助")}
    year = timezone.localdate().year
    assert f"{year} 年度" in rows["大病医疗救助"]
    assert f"创建于 {timezone.localtime(yearly.created_at):%Y-%m-%d}" in rows["大病医疗救助"]
    assert "年度" not in rows["意外致困救助"]  # a one-off item has no period to show
    assert f"提交于 {timezone.localtime(once.submitted_at):%Y-%m-%d}" in rows["意外致困救助"]
    assert len(re.findall(r"\d{4}-\d{2}-\d{2}", rows["意外致困救助"])) == 1  # one date, not two


def test_the_material_choice_moves_on_after_each_upload(client, worker, make_item):
    item = make_item(code="yl-zy", name="住院救助",
                     facts=[{"name": "self_paid", "label": "自付医疗费用", "type": "money"}],
                     required_materials=["诊断证明", "费用清单", {"name": "身份证",
                                                                  "required": False}])
    application = draft(worker, item)
    client.force_login(worker)
    url = reverse("portal:attachment-upload", args=[application.pk])
    assert selected(detail(client, application).content.decode()) == "诊断证明"

    chosen = []
    for material in ("诊断证明", "费用清单", "身份证"):
        response = client.post(url, {"material": material, "camera": photo()},
                                HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        chosen.append(selected(response.content.decode()))

    assert chosen == ["费用清单", "身份证", "身份证"]  # the next missing one, then kept


def selected(html: str) -> str:
    select = re.search(r'<select[^>]*name="material".*?</select>', html, re.S).group(0)
    return re.search(r'<option value="([^"]*)" selected', select).group(1)
