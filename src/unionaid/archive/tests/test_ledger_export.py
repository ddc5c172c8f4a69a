"""The two ledgers exported to .xlsx: columns, values, masking, period, scope, audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import BytesIO, StringIO

import openpyxl
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from conftest import verified_login
from unionaid.archive.ledgers.archive_ledger import export_archive_ledger
from unionaid.archive.ledgers.visit_ledger import export_visit_ledger
from unionaid.archive.models import HardshipRecord, RecordStatus
from unionaid.archive.tests.helpers_lists import add_profile, add_record, lists_fixture  # noqa: F401
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import NotFound, PermissionDenied, ServiceError
from unionaid.funds.models import Budget, Disbursement, DisbursementStatus, FundingSource
from unionaid.members.models import ConsentKind
from unionaid.members.services import consent_grant
from unionaid.visits.models import (
    NeedKind,
    NeedStatus,
    Visit,
    VisitCampaign,
    VisitKind,
    VisitNeed,
)

START, END = dt.date(2026, 1, 1), dt.date(2026, 6, 1)


def sheet_of(path_or_bytes):
    source = BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    sheet = openpyxl.load_workbook(source).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    headers = rows[1]
    data = [dict(zip(headers, row, strict=True)) for row in rows[2:]]
    return rows[0][0], headers, data


def pay(member, amount: str, when: dt.datetime, n: int) -> None:
    source, _created = FundingSource.objects.get_or_create(code="fund", defaults={"name": "工会经费"})
    budget, _created = Budget.objects.get_or_create(org_unit=member.org_unit,
                                                     funding_source=source, year=when.year)
    Disbursement.objects.create(subject_kind="test", subject_id=n, budget=budget, member=member,
                                amount=Decimal(amount), status=DisbursementStatus.PAID,
                                paid_at=when)


@pytest.fixture
def archive_rows(lists, make_member):
    union = lists.union
    sick = make_member(union.team_a, name="张秀英", phone="13812345678")
    profile = add_profile(sick, "1200", taken_on=dt.date(2025, 3, 1), size=4,
                          causes="illness,schooling", housing="rent", major_illness=True)
    active = add_record(sick, profile=profile, enrolled_on=dt.date(2025, 3, 1),
                        next_recheck_on=dt.date(2026, 3, 1))
    consent_grant(actor=lists.registrar, member=sick, kind=ConsentKind.HEALTH)
    pay(sick, "500.00", timezone.make_aware(dt.datetime(2026, 2, 1, 10)), 1)
    pay(sick, "800.00", timezone.make_aware(dt.datetime(2025, 12, 1, 10)), 2)
    left_in_period = add_record(make_member(union.team_a, name="刘德明"),
                                status=RecordStatus.EXITED, enrolled_on=dt.date(2024, 5, 1),
                                exited_on=dt.date(2026, 2, 10))
    add_record(make_member(union.team_a, name="周早退"), status=RecordStatus.EXITED,
               enrolled_on=dt.date(2024, 5, 1), exited_on=dt.date(2025, 12, 31))
    add_record(make_member(union.team_a, name="吴待批"), status=RecordStatus.PENDING,
               enrolled_on=None)
    add_record(make_member(union.team_a, name="郑晚到"), enrolled_on=dt.date(2026, 6, 2))
    add_record(make_member(union.team_b, name="孙乙段"), enrolled_on=dt.date(2025, 1, 1))
    closed = add_record(make_member(union.workshop_a, name="钱退休"), status=RecordStatus.CLOSED,
                        enrolled_on=dt.date(2024, 1, 1))
    HardshipRecord.objects.filter(pk=closed.pk).update(close_reason="retirement",
                                                       closed_on=dt.date(2026, 4, 1))
    return {"active": active, "left": left_in_period}


def test_archive_ledger_columns_and_values_masked(lists, archive_rows):
    result = export_archive_ledger(actor=lists.cadre_a, unit=None, start=START, end=END)
    title, headers, rows = sheet_of(result.path)
    result.path.unlink()
    assert title == "甲车务段 困难职工档案台账（2026-01-01 至 2026-06-01）"
    assert headers[:8] == ["序号", "单位", "姓名", "性别", "身份证号", "出生年月", "联系电话",
                           "家庭人口"]
    assert {"家庭年收入（元）", "人均月收入（元）", "困难类别", "致困原因", "住房情况", "健康状况",
            "建档日期", "状态", "脱困日期", "本期帮扶次数", "本期帮扶金额（元）"} <= set(headers)
    # unit path order (车间 before its 班组), then enrolment date
    assert [row["姓名"] for row in rows] == ["钱退休", "刘德明", "张秀英"]
    assert result.count == 3
    assert rows[0]["状态"] == "已销档"
    assert rows[0]["备注"] == "销档（退休，2026-04-01）"
    row = next(r for r in rows if r["姓名"] == "张秀英")
    member = archive_rows["active"].member
    assert row["身份证号"] == member.id_number_masked
    assert "*" in row["身份证号"]
    assert row["出生年月"] == str(member.birth_date.year)
    assert row["联系电话"] == "138****5678"
    assert row["单位"] == "甲一班组"
    assert row["家庭人口"] == 4
    assert row["人均月收入（元）"] == 1200
    assert row["家庭年收入（元）"] == 1200 * 4 * 12
    assert row["困难类别"] == "相对困难"
    assert row["致困原因"] == "因病、子女上学"
    assert row["住房情况"] == "租房"
    assert row["健康状况"] == "大病/慢病"
    assert row["建档日期"] == dt.datetime(2025, 3, 1)
    assert row["状态"] == "在档"
    assert row["本期帮扶次数"] == 1
    assert row["本期帮扶金额（元）"] == 500
    left = next(r for r in rows if r["姓名"] == "刘德明")
    assert left["状态"] == "已解困脱困"
    assert left["脱困日期"] == dt.datetime(2026, 2, 10)
    assert left["健康状况"] == "未授权"  # no health consent
    assert left["本期帮扶次数"] == 0
    event = AuditEvent.objects.get(action="archive.ledger_export")
    assert event.changes["count"] == 3
    assert event.changes["revealed"] is False


def test_archive_ledger_reveals_for_a_permitted_reader(lists, archive_rows):
    member = archive_rows["active"].member
    result = export_archive_ledger(actor=lists.cadre_a, unit=lists.union.team_a, start=START,
                                   end=END, reveal=True)
    _title, _headers, rows = sheet_of(result.path)
    result.path.unlink()
    row = next(r for r in rows if r["姓名"] == "张秀英")
    assert row["身份证号"] == member.id_number
    assert row["联系电话"] == "13812345678"
    assert row["出生年月"] == member.birth_date.strftime("%Y-%m")
    assert AuditEvent.objects.get(action="archive.ledger_export").changes["revealed_count"] == 2
    assert result.count == 2  # team A only
    with pytest.raises(PermissionDenied):
        export_archive_ledger(actor=lists.workshop_cadre, unit=None, start=START, end=END,
                              reveal=True)


def test_archive_ledger_is_scoped_to_the_readers_subtree(lists, archive_rows):
    result = export_archive_ledger(actor=lists.cadre_b, unit=None, start=START, end=END)
    title, _headers, rows = sheet_of(result.path)
    result.path.unlink()
    assert [row["姓名"] for row in rows] == ["孙乙段"]
    assert title.startswith("乙机务段")
    with pytest.raises(NotFound):
        export_archive_ledger(actor=lists.cadre_b, unit=lists.union.team_a, start=START, end=END)
    with pytest.raises(ServiceError):
        export_archive_ledger(actor=lists.cadre_a, unit=None, start=END, end=START)
    with pytest.raises(PermissionDenied):
        export_archive_ledger(actor=lists.registrar, unit=None, start=START, end=END)


@pytest.fixture
def visits(lists, make_member):
    union = lists.union
    campaign = VisitCampaign.objects.create(name="2026 春节大走访", org_unit=union.station_a,
                                            starts_on=START, ends_on=END)
    member = make_member(union.team_a, name="马春花")
    home = Visit.objects.create(member=member, org_unit=union.team_a, campaign=campaign,
                                visited_on=dt.date(2026, 1, 20), visitors="王干事、李干事",
                                place="家中", summary="配偶住院，家中无人照顾",
                                satisfaction=5, hardship_found=True,
                                recorded_by=lists.cadre_a)
    profile = add_profile(member, "950.50", taken_on=dt.date(2026, 1, 20), size=3,
                          causes="illness")
    profile.visit = home
    profile.save(update_fields=["visit"])
    VisitNeed.objects.create(visit=home, kind=NeedKind.MONEY, note="医药费",
                             status=NeedStatus.APPLICATION)
    VisitNeed.objects.create(visit=home, kind=NeedKind.JOB, status=NeedStatus.CLOSED)
    Visit.objects.create(kind=VisitKind.WORKPLACE, visited_unit=union.workshop_a,
                         org_unit=union.workshop_a, visited_on=dt.date(2026, 2, 3),
                         visitors="王干事", recorded_by=lists.cadre_a)
    Visit.objects.create(member=member, org_unit=union.team_a, visited_on=dt.date(2025, 12, 1),
                         visitors="旧", recorded_by=lists.cadre_a)
    Visit.objects.create(member=make_member(union.team_b, name="乙段人"), org_unit=union.team_b,
                         visited_on=dt.date(2026, 1, 5), visitors="乙", recorded_by=lists.cadre_b)
    return home


def test_visit_ledger_columns_and_values(lists, visits):
    result = export_visit_ledger(actor=lists.cadre_a, unit=None, start=START, end=END)
    title, headers, rows = sheet_of(result.path)
    result.path.unlink()
    assert title == "甲车务段 走访台账（2026-01-01 至 2026-06-01）"
    assert headers == ["序号", "走访日期", "走访类型", "所属单位", "走访对象", "走访人员", "走访地点",
                       "所属行动", "家庭人口", "人均月收入（元）", "致困原因", "发现困难", "发现需求",
                       "解决情况", "满意度", "备注"]
    assert [row["走访对象"] for row in rows] == ["马春花", "甲车间"]
    home = rows[0]
    assert home["序号"] == 1
    assert home["走访日期"] == dt.datetime(2026, 1, 20)
    assert home["走访类型"] == "入户走访"
    assert home["所属行动"] == "2026 春节大走访"
    assert home["家庭人口"] == 3
    assert home["人均月收入（元）"] == 950.5
    assert not home["致困原因"]  # 因病 is health data: shown only with the health consent
    assert home["发现困难"] == "是"
    assert home["发现需求"] == "资金帮扶（医药费）、就业岗位"
    assert home["解决情况"] == "资金帮扶：已转帮扶申请；就业岗位：已解决"
    assert home["满意度"] == "非常满意"
    assert home["备注"] == "配偶住院，家中无人照顾"
    assert rows[1]["走访类型"] == "走访单位"
    assert rows[1]["家庭人口"] is None
    assert AuditEvent.objects.get(action="visits.ledger_export").changes["count"] == 2
    with pytest.raises(PermissionDenied):
        export_visit_ledger(actor=lists.viewer_a, unit=None, start=START, end=END)


def test_archive_ledger_reads_without_a_query_per_row(lists, archive_rows, make_member,
                                                     django_assert_max_num_queries):
    for _n in range(6):
        add_record(make_member(lists.union.team_a), enrolled_on=dt.date(2025, 6, 1))
    with django_assert_max_num_queries(12):
        result = export_archive_ledger(actor=lists.cadre_a, unit=None, start=START, end=END,
                                       reveal=True)
    result.path.unlink()
    assert result.count == 9


def test_visit_ledger_reads_without_a_query_per_row(lists, visits, django_assert_max_num_queries):
    for n in range(5):
        Visit.objects.create(member=visits.member, org_unit=lists.union.team_a,
                             visited_on=dt.date(2026, 3, n + 1), visitors=f"干事{n}",
                             recorded_by=lists.cadre_a)
    with django_assert_max_num_queries(12):
        result = export_visit_ledger(actor=lists.cadre_a, unit=None, start=START, end=END)
    result.path.unlink()
    assert result.count == 7


def test_export_page_api_and_command(lists, archive_rows, visits, tmp_path):
    client = verified_login(Client(), lists.cadre_a)
    page = client.get("/archive/ledgers/")
    assert page.status_code == 200
    assert "导出完整身份证号" in page.content.decode()
    response = client.post("/archive/ledgers/export/", {
        "kind": "archive", "start": "2026-01-01", "end": "2026-06-01",
        "unit": lists.union.station_a.pk})
    assert response.status_code == 200
    _title, _headers, rows = sheet_of(b"".join(response.streaming_content))
    assert {row["姓名"] for row in rows} == {"张秀英", "刘德明", "钱退休"}
    assert "*" in rows[0]["身份证号"]
    other = verified_login(Client(), lists.cadre_b).post("/archive/ledgers/export/", {
        "kind": "archive", "start": "2026-01-01", "end": "2026-06-01",
        "unit": lists.union.station_a.pk})
    assert other.status_code == 400  # not a unit the form offers them
    api = client.get("/api/v1/archive/ledgers/export?kind=visits&start=2026-01-01&end=2026-06-01")
    assert api.status_code == 200
    assert api["X-Row-Count"] == "2"
    assert client.get("/api/v1/archive/ledgers/export?kind=archive&start=2026-01-01"
                      f"&end=2026-06-01&unit_id={lists.union.team_b.pk}").status_code == 404
    out = tmp_path / "ledger.xlsx"
    call_command("ledger_export", "--as", "cadre_b", "--kind", "archive", "--from", "2026-01-01",
                 "--to", "2026-06-01", "--out", str(out), stdout=StringIO())
    _title, _headers, rows = sheet_of(out)
    assert [row["姓名"] for row in rows] == ["孙乙段"]


def test_visit_ledger_shows_illness_as_a_cause_only_with_health_consent(lists, visits):
    consent_grant(actor=lists.registrar, member=visits.member, kind=ConsentKind.HEALTH)
    result = export_visit_ledger(actor=lists.cadre_a, unit=None, start=START, end=END)
    _title, _headers, rows = sheet_of(result.path)
    result.path.unlink()
    assert rows[0]["致困原因"] == "因病"
