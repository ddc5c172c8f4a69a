"""The funds ledgers (帮扶资金发放台账, 预算执行台账): the written .xlsx equals the disbursements
and the ledger for a subtree and a period; totals; scope; masking and the journaled reveal; the
background job; bad periods and units; the page and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from conftest import make_role, make_staff
from unionaid.accounts.access import forget_access
from unionaid.accounts.models import Assignment, User
from unionaid.assistance import services
from unionaid.assistance.export_kinds import BUDGET_LEDGER, PAYMENT_LEDGER
from unionaid.assistance.ledgers.budget_ledger import export_budget_ledger
from unionaid.assistance.ledgers.payment_ledger import export_payment_ledger
from unionaid.assistance.models import Application, ApplicationStatus
from unionaid.assistance.tests.conftest import SERIOUS_ILLNESS
from unionaid.audit.models import AuditEvent
from unionaid.core import masking
from unionaid.core.errors import NotFound, PermissionDenied, ServiceError
from unionaid.exports import tasks
from unionaid.exports.models import ExportJob, ExportJobStatus
from unionaid.exports.services import export_job_create
from unionaid.funds import services as funds
from unionaid.funds.models import Budget, Disbursement, DisbursementStatus, FundingSource

YEAR = 2026
START, END = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
SHANGHAI = ZoneInfo("Asia/Shanghai")
ALLOCATED_ON = dt.datetime(YEAR, 3, 10, 10, tzinfo=SHANGHAI)
PAID_ON = dt.datetime(YEAR, 5, 20, 10, tzinfo=SHANGHAI)
REVERSED_ON = dt.datetime(YEAR, 5, 21, 10, tzinfo=SHANGHAI)


def read(path_or_bytes):
    """(title, headers, data rows as dicts, totals rows as lists) of the ledger's sheet."""
    source = BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    sheet = openpyxl.load_workbook(source).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    headers = rows[1]
    data = [dict(zip(headers, row, strict=True)) for row in rows[2:]
            if isinstance(row[0], int)]
    totals = [row for row in rows[2:] if isinstance(row[0], str)]
    return rows[0][0], headers, data, totals


@dataclass
class Ledger:
    finance: User
    cashier: User
    station_viewer: User  # funds.view over 甲车务段 and below
    station_revealer: User  # the same, with members.reveal
    nobody: User  # no funds right
    fund: FundingSource
    warmth: FundingSource
    paid: dict[str, Disbursement]


def _apply(member, item, amount: str, period: str, filer) -> Application:
    return Application.objects.create(
        member=member, item=item, org_unit=member.org_unit, period=period, filed_by=filer,
        amount=Decimal(amount), status=ApplicationStatus.APPROVED)


@pytest.fixture
def ledger(union, staff, make_member, make_item, categories, source) -> Ledger:
    warmth = FundingSource.objects.create(code="warmth", name="送温暖专项")
    illness = make_item()  # 助医, 工会经费
    winter = services.item_save(actor=None, category=categories["zhukun"],
                                funding_source=warmth, **{**SERIOUS_ILLNESS, "code": "zk-dj",
                                                          "name": "冬季送温暖"})
    viewer_role = make_role("fin-view-station", ["org.view", "funds.view"])
    revealer_role = make_role("fin-reveal-station", ["org.view", "funds.view", "members.reveal"])
    people = {
        "station_viewer": make_staff("station_viewer", union.station_a, [viewer_role]),
        "station_revealer": make_staff("station_revealer", union.station_a, [revealer_role]),
        "nobody": make_staff("nobody", union.station_a, [make_role("none", ["org.view"])]),
    }
    # the posts were taken up before the money moved (the fixtures grant them "now")
    Assignment.objects.update(starts_at=dt.datetime(YEAR - 1, 1, 1, tzinfo=SHANGHAI))
    for user in (staff.finance, staff.cashier):
        forget_access(user)
    with time_machine.travel(ALLOCATED_ON, tick=False):
        bureau_fund = funds.budget_allocate(actor=staff.finance, org_unit=union.bureau,
                                            funding_source=source, year=YEAR,
                                            amount=Decimal("100000"))
        funds.budget_allocate_down(actor=staff.finance, parent_budget=bureau_fund,
                                   child_unit=union.station_a, amount=Decimal("20000"))
        funds.budget_allocate(actor=staff.finance, org_unit=union.bureau,
                              funding_source=warmth, year=YEAR, amount=Decimal("10000"))
    zhang = make_member(union.team_a, name="张一", bank_account="6222000011112222333")
    li = make_member(union.workshop_a, name="李二")
    wang = make_member(union.team_b, name="王四")
    apps = {
        "zhang": _apply(zhang, illness, "3000.00", f"{YEAR}", staff.apply_cadre),
        "li": _apply(li, winter, "500.00", f"{YEAR}", staff.apply_cadre),
        "wang": _apply(wang, illness, "1200.00", f"{YEAR}", staff.other_apply),
        "zhang_reversed": _apply(zhang, illness, "800.00", f"{YEAR}-2", staff.apply_cadre),
        "old": _apply(wang, illness, "99.00", f"{YEAR}-old", staff.other_apply),
    }
    with time_machine.travel(PAID_ON, tick=False):
        for app in apps.values():
            funds.reserve(actor=None, subject_kind="assistance.application",
                          subject_id=app.pk, member=app.member, org_unit=app.org_unit,
                          funding_source=app.item.funding_source, year=YEAR,
                          amount=app.amount)
        for funding_source in (source, warmth):
            batch = funds.batch_create(actor=staff.finance, org_unit=union.bureau,
                                       funding_source=funding_source)
            funds.batch_export(actor=staff.finance, batch=batch)
            funds.batch_confirm(actor=staff.cashier, batch=batch)
    paid = {key: Disbursement.objects.get(subject_id=app.pk) for key, app in apps.items()}
    with time_machine.travel(REVERSED_ON, tick=False):
        funds.disbursement_reverse(actor=staff.cashier, disbursement=paid["zhang_reversed"],
                                   reason="账号有误")
    # paid in an earlier year: outside the period
    Disbursement.objects.filter(pk=paid["old"].pk).update(
        paid_at=timezone.make_aware(dt.datetime(YEAR - 1, 12, 31, 12)))
    for d in paid.values():
        d.refresh_from_db()
    return Ledger(finance=staff.finance, cashier=staff.cashier, fund=source, warmth=warmth,
                  paid=paid, **people)


# -- the payment ledger ---------------------------------------------------------------------

def test_the_payment_ledger_has_every_payment_of_the_period_with_its_columns(ledger):
    result = export_payment_ledger(actor=ledger.finance, unit=None, start=START, end=END)
    title, headers, rows, _totals = read(result.path)
    result.path.unlink()

    assert title == f"测试铁路局工会 帮扶资金发放台账（{START.isoformat()} 至 {END.isoformat()}）"
    assert headers == ["序号", "发放日期", "单位", "姓名", "身份证号", "银行账号", "帮扶类别",
                       "帮扶项目", "经费口径", "支出单位", "批次号", "发放编号", "金额（元）",
                       "状态", "备注"]
    expected = (Disbursement.objects.filter(paid_at__date__gte=START, paid_at__date__lte=END)
                .order_by("paid_at", "pk"))
    assert [row["发放编号"] for row in rows] == [d.pk for d in expected]
    assert result.count == len(rows) == 4
    assert [row["序号"] for row in rows] == [1, 2, 3, 4]
    by_id = {row["发放编号"]: row for row in rows}
    zhang = by_id[ledger.paid["zhang"].pk]
    disbursement = ledger.paid["zhang"]
    assert zhang["发放日期"] == dt.datetime(YEAR, 5, 20)
    assert (zhang["单位"], zhang["姓名"], zhang["帮扶类别"], zhang["帮扶项目"],
            zhang["经费口径"], zhang["支出单位"]) == (
        "甲一班组", "张一", "助医", "大病医疗救助", "工会经费", "甲车务段")
    assert zhang["批次号"] == disbursement.batch_id
    assert zhang["金额（元）"] == 3000
    assert zhang["状态"] == "已发放"
    li = by_id[ledger.paid["li"].pk]
    assert (li["帮扶项目"], li["经费口径"], li["支出单位"]) == (
        "冬季送温暖", "送温暖专项", "测试铁路局工会")
    reversed_row = by_id[ledger.paid["zhang_reversed"].pk]
    assert reversed_row["状态"] == "已冲正"
    assert reversed_row["备注"].endswith("冲正：账号有误")
    assert ledger.paid["old"].pk not in by_id  # paid last year


def test_the_payment_ledger_totals_agree_with_the_records(ledger):
    result = export_payment_ledger(actor=ledger.finance, unit=None, start=START, end=END)
    _title, _headers, rows, totals = read(result.path)
    result.path.unlink()

    in_period = Disbursement.objects.filter(paid_at__date__gte=START, paid_at__date__lte=END)
    by_label = {(row[0], row[-1] or ""): row for row in totals}
    total = in_period.aggregate(s=Sum("amount"))["s"]
    assert by_label[("合计", "")][12] == total == Decimal("5500.00")
    assert by_label[("合计", "")][3] == "4 笔"
    assert by_label[("小计", "工会经费")][12] == 5000
    assert by_label[("小计", "送温暖专项")][12] == 500
    assert by_label[("其中已冲正", "")][12] == 800
    still_paid = in_period.filter(status=DisbursementStatus.PAID).aggregate(s=Sum("amount"))["s"]
    assert by_label[("实发合计", "")][12] == still_paid == Decimal("4700.00")
    assert sum(row["金额（元）"] for row in rows) == total
    event = AuditEvent.objects.get(action="assistance.payment_ledger_export")
    assert event.changes["count"] == 4
    assert event.changes["total"] == "5500.00"


def test_the_payment_ledger_has_only_payments_from_budgets_in_scope(ledger, union):
    result = export_payment_ledger(actor=ledger.station_viewer, unit=None, start=START, end=END)
    title, _headers, rows, totals = read(result.path)
    result.path.unlink()

    # 甲车务段's budget paid 张一 twice; 李二 (甲车间) and 王四 were paid from the bureau's
    assert {row["发放编号"] for row in rows} == {ledger.paid["zhang"].pk,
                                               ledger.paid["zhang_reversed"].pk}
    assert title.startswith("甲车务段 帮扶资金发放台账")
    assert next(row for row in totals if row[0] == "合计")[12] == 3800

    # a unit inside the scope narrows it; the bureau's subtree, out of scope, is not found
    result = export_payment_ledger(actor=ledger.finance, unit=union.station_b, start=START,
                                   end=END)
    _title, _headers, rows, _totals = read(result.path)
    result.path.unlink()
    assert [row["姓名"] for row in rows] == []  # 乙机务段 has no budget: the bureau paid 王四
    with pytest.raises(NotFound):
        export_payment_ledger(actor=ledger.station_viewer, unit=union.bureau, start=START,
                              end=END)
    with pytest.raises(PermissionDenied):
        export_payment_ledger(actor=ledger.nobody, unit=None, start=START, end=END)


def test_the_payment_ledger_masks_unless_revealed_and_journals_the_reveal(ledger):
    member = ledger.paid["zhang"].member
    masked = export_payment_ledger(actor=ledger.station_revealer, unit=None, start=START,
                                   end=END)
    _title, _headers, rows, _totals = read(masked.path)
    masked.path.unlink()
    assert {row["身份证号"] for row in rows} == {masking.mask_id_number(member.id_number)}
    assert {row["银行账号"] for row in rows} == {"6222***********2333"}
    assert masked.revealed_count == 0

    revealed = export_payment_ledger(actor=ledger.station_revealer, unit=None, start=START,
                                     end=END, reveal=True)
    _title, _headers, rows, _totals = read(revealed.path)
    revealed.path.unlink()
    assert {row["身份证号"] for row in rows} == {member.id_number}
    assert {row["银行账号"] for row in rows} == {"6222000011112222333"}
    events = list(AuditEvent.objects.filter(action="assistance.payment_ledger_export")
                  .order_by("id"))
    assert [(e.changes["revealed"], e.changes["revealed_count"]) for e in events] == [
        (False, 0), (True, 2)]
    assert all(e.actor_id == ledger.station_revealer.pk for e in events)
    assert member.id_number not in str(events[-1].changes)

    with pytest.raises(PermissionDenied):
        export_payment_ledger(actor=ledger.station_viewer, unit=None, start=START, end=END,
                              reveal=True)


@pytest.mark.parametrize(("start", "end"), [
    (dt.date(2026, 3, 1), dt.date(2026, 2, 1)),  # backwards
    (dt.date(2010, 1, 1), dt.date(2026, 1, 1)),  # over ten years
])
def test_a_bad_period_is_refused_with_a_message(ledger, start, end):
    with pytest.raises(ServiceError) as refused:
        export_payment_ledger(actor=ledger.finance, unit=None, start=start, end=end)
    assert refused.value.code == "invalid_period"
    assert not AuditEvent.objects.filter(action="assistance.payment_ledger_export").exists()


# -- the budget execution ledger ------------------------------------------------------------

def test_the_budget_ledger_equals_the_budgets_and_adds_up(ledger, union):
    result = export_budget_ledger(actor=ledger.finance, unit=None, start=START, end=END)
    title, headers, rows, totals = read(result.path)
    result.path.unlink()

    assert title == (f"测试铁路局工会 {YEAR}年预算执行台账（{START.isoformat()} 至 "
                     f"{END.isoformat()}）")
    assert headers == ["序号", "单位", "经费口径", "年度", "拨入（元）", "下拨（元）",
                       "可支配（元）", "已核定待发（元）", "已发放（元）", "结余（元）",
                       "执行率", "本期发放（元）"]
    budgets = Budget.objects.filter(year=YEAR).order_by("org_unit__path",
                                                        "funding_source__code")
    assert [(row["单位"], row["经费口径"]) for row in rows] == [
        (b.org_unit.name, b.funding_source.name) for b in budgets]
    for row, budget in zip(rows, budgets, strict=True):
        assert row["拨入（元）"] == budget.allocated
        assert row["下拨（元）"] == budget.allocated_down
        assert row["已核定待发（元）"] == budget.reserved
        assert row["已发放（元）"] == budget.paid
        assert row["结余（元）"] == budget.available
        assert row["可支配（元）"] == budget.allocated - budget.allocated_down == (
            budget.reserved + budget.paid + budget.available)
    station = next(row for row in rows if row["单位"] == "甲车务段")
    # 3,000 paid; the 800 paid and reversed in the period is back in 结余
    assert (station["已发放（元）"], station["本期发放（元）"], station["结余（元）"]) == (
        3000, 3000, 17000)
    assert station["执行率"] == "15.0%"
    assert station["本期发放（元）"] == 3000  # 3,800 paid, 800 reversed
    total = next(row for row in totals if row[0] == "合计")
    assert total[8] == sum(b.paid for b in budgets) == Decimal("4799.00")
    assert total[6] == Decimal("110000.00")  # what came in from outside, counted once
    assert next(row for row in totals if row[2] == "送温暖专项")[8] == 500
    assert AuditEvent.objects.get(action="assistance.budget_ledger_export").changes["count"] == 3


def test_the_budget_ledger_gives_the_figures_at_the_end_of_the_period(ledger):
    def station(start, end):
        result = export_budget_ledger(actor=ledger.finance, unit=None, start=start, end=end)
        _title, _headers, rows, _totals = read(result.path)
        result.path.unlink()
        return next(row for row in rows if row["单位"] == "甲车务段")

    before = station(START, dt.date(YEAR, 4, 30))  # allocated, nothing reserved or paid yet
    assert (before["拨入（元）"], before["已发放（元）"], before["结余（元）"]) == (20000, 0, 20000)
    paid_day = station(dt.date(YEAR, 5, 1), dt.date(YEAR, 5, 20))  # before the reversal
    assert (paid_day["已发放（元）"], paid_day["本期发放（元）"], paid_day["结余（元）"]) == (
        3800, 3800, 16200)
    after = station(dt.date(YEAR, 5, 21), END)  # the reversal gives 800 back
    assert (after["已发放（元）"], after["本期发放（元）"], after["结余（元）"]) == (
        3000, -800, 17000)


def test_the_budget_ledger_keeps_to_the_scope_and_one_year(ledger, union):
    result = export_budget_ledger(actor=ledger.station_viewer, unit=None, start=START, end=END)
    _title, _headers, rows, _totals = read(result.path)
    result.path.unlink()
    assert [row["单位"] for row in rows] == ["甲车务段"]
    with pytest.raises(ServiceError) as refused:
        export_budget_ledger(actor=ledger.finance, unit=None, start=dt.date(YEAR - 1, 12, 1),
                             end=END)
    assert refused.value.code == "invalid_period"
    with pytest.raises(NotFound):
        export_budget_ledger(actor=ledger.station_viewer, unit=union.station_b, start=START,
                             end=END)


# -- background jobs ------------------------------------------------------------------------

def _job(capture, **kwargs) -> ExportJob:
    with capture(execute=True):
        job = export_job_create(**kwargs)
    job.refresh_from_db()
    return job


def _all_rows(path):
    sheet = openpyxl.load_workbook(path).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("kind", [PAYMENT_LEDGER, BUDGET_LEDGER])
def test_a_ledger_job_writes_what_the_direct_export_writes(
        ledger, kind, django_capture_on_commit_callbacks):
    job = _job(django_capture_on_commit_callbacks, actor=ledger.station_revealer, kind=kind,
               params={"unit": None, "start": START, "end": END,
                       "reveal": kind == PAYMENT_LEDGER})
    assert job.status == ExportJobStatus.DONE, job.error_message
    direct_export = export_payment_ledger if kind == PAYMENT_LEDGER else export_budget_ledger
    extra = {"reveal": True} if kind == PAYMENT_LEDGER else {}
    direct = direct_export(actor=ledger.station_revealer, unit=None, start=START, end=END,
                           **extra)
    assert _all_rows(tasks.job_file(job)) == _all_rows(direct.path)
    direct.path.unlink()
    assert job.row_count == direct.count
    assert job.revealed_count == (2 if kind == PAYMENT_LEDGER else 0)
    assert job.file_name == direct.download_name
    action = ("assistance.payment_ledger_export" if kind == PAYMENT_LEDGER
              else "assistance.budget_ledger_export")
    assert AuditEvent.objects.filter(action=action).count() == 2
    assert AuditEvent.objects.get(action="export.job_create").changes["kind"] == kind


def test_a_ledger_job_is_refused_up_front_as_the_direct_export_is(
        ledger, union, django_capture_on_commit_callbacks):
    with pytest.raises(NotFound):
        export_job_create(actor=ledger.station_viewer, kind=PAYMENT_LEDGER,
                          params={"unit": union.station_b.pk, "start": START, "end": END})
    with pytest.raises(PermissionDenied):
        export_job_create(actor=ledger.station_viewer, kind=PAYMENT_LEDGER,
                          params={"start": START, "end": END, "reveal": True})
    with pytest.raises(ServiceError) as refused:
        export_job_create(actor=ledger.finance, kind=BUDGET_LEDGER,
                          params={"start": dt.date(YEAR - 1, 1, 1), "end": END})
    assert refused.value.code == "invalid_period"
    with pytest.raises(ServiceError) as refused:
        export_job_create(actor=ledger.finance, kind=PAYMENT_LEDGER, params={"start": "x"})
    assert refused.value.code == "invalid_period"
    assert not ExportJob.objects.exists()


# -- the page and the API -------------------------------------------------------------------

def test_the_page_downloads_a_ledger_and_queues_a_large_one(ledger, client,
                                                             django_capture_on_commit_callbacks):
    client.force_login(ledger.station_viewer)
    budgets = client.get(reverse("funds:budget-list")).content.decode()
    assert f'href="{reverse("assistance:ledgers")}"' in budgets  # the funds pages' 台账 tab
    page = client.get(reverse("assistance:ledgers"))
    assert page.status_code == 200
    assert "帮扶资金发放台账" in page.content.decode()
    assert 'name="reveal"' not in page.content.decode()  # no members.reveal
    form = {"kind": "payments", "start": START.isoformat(), "end": END.isoformat()}
    response = client.post(reverse("assistance:ledger-export"), form)
    assert response.status_code == 200
    _title, _headers, rows, _totals = read(b"".join(response.streaming_content))
    assert len(rows) == 2
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(reverse("assistance:ledger-export"),
                             {**form, "kind": "budgets", "background": "1"})
    job = ExportJob.objects.get()
    assert queued.url == reverse("exports:job", args=[job.pk])
    assert (job.kind, job.status) == (BUDGET_LEDGER, ExportJobStatus.DONE)


def test_the_page_says_what_is_wrong_and_hides_from_others(ledger, client, union):
    client.force_login(ledger.finance)
    response = client.post(reverse("assistance:ledger-export"), {
        "kind": "budgets", "start": f"{YEAR - 1}-01-01", "end": END.isoformat()})
    assert response.status_code == 400
    assert "同一年度" in response.content.decode()
    client.force_login(ledger.nobody)
    assert client.get(reverse("assistance:ledgers")).status_code == 404
    client.force_login(ledger.station_viewer)
    assert client.post(reverse("assistance:ledger-export"), {
        "kind": "payments", "unit": union.station_b.pk, "start": START.isoformat(),
        "end": END.isoformat()}).status_code == 400  # not a choice of the form


def test_the_api_exports_a_ledger_within_the_scope(ledger, as_token, union):
    api = as_token(ledger.station_viewer)

    def url(**query):
        return f"/assistance/ledgers/export?{urlencode(query)}"

    response = api.get(url(kind="payments", start=START.isoformat(), end=END.isoformat()))
    assert response.status_code == 200
    assert response["X-Row-Count"] == "2"
    _title, _headers, rows, _totals = read(b"".join(response.streaming_content))
    assert {row["姓名"] for row in rows} == {"张一"}
    assert api.get(url(kind="payments", start=START.isoformat(), end=END.isoformat(),
                       unit_id=union.station_b.pk)).status_code == 404
    refused = api.get(url(kind="budgets", start=f"{YEAR - 1}-06-01", end=END.isoformat()))
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_period"


def test_the_archive_ledgers_page_points_funds_readers_to_these_ledgers(union, client):
    both = make_staff("both", union.station_a, [make_role(
        "archive-and-funds", ["org.view", "archive.view", "funds.view"])])
    archive_only = make_staff("archive_only", union.station_a, [make_role(
        "archive-only", ["org.view", "archive.view"])])
    link = f'href="{reverse("assistance:ledgers")}"'
    client.force_login(both)
    assert link in client.get(reverse("archive:ledgers")).content.decode()
    client.force_login(archive_only)
    page = client.get(reverse("archive:ledgers"))
    assert page.status_code == 200
    assert link not in page.content.decode()
