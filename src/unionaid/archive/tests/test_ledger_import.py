"""Importing an existing archive ledger: dry run, all or nothing, one household one file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from conftest import verified_login
from unionaid.archive.ledgers.archive_import import import_archive_ledger
from unionaid.archive.models import HardshipRecord, RecordStatus
from unionaid.archive.tests.helpers_lists import add_record, lists_fixture  # noqa: F401
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied
from unionaid.core.spreadsheets import SpreadsheetTooLarge
from unionaid.core.testing.spreadsheets import sheet_xml, write_raw_xlsx
from unionaid.members import roster_files
from unionaid.members.models import HouseholdMember
from unionaid.visits.models import HouseholdProfile
from unionaid.visits.services.profiles import profile_data

HEADERS = ["序号", "单位", "姓名", "身份证号", "困难类别", "家庭人口", "家庭年收入（元）", "刚性支出",
           "致困原因", "建档时间", "状态", "脱困时间"]


def row(member=None, *, id_number=None, name=None, category="相对困难", size=3, income=36000,
        rigid=0, causes="因病、子女上学", enrolled="2025-03-01", status="在档", exited=""):
    return ["", "甲一班组", name if name is not None else (member.name if member else "某某"),
            id_number or member.id_number, category, size, income, rigid, causes, enrolled,
            status, exited]


def xlsx(tmp_path, rows, *, title=True, name="ledger.xlsx"):
    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.append(["甲车务段 困难职工档案台账"])
    sheet.append(HEADERS)
    for values in rows:
        sheet.append(values)
    path = tmp_path / name
    book.save(path)
    return path


def run(lists, path, *, dry_run, actor=None):
    return import_archive_ledger(actor=actor or lists.cadre_a, path=path, dry_run=dry_run)


def messages(result) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for error in result.errors:
        found.setdefault(error.row_number, []).append(error.message)
    return found


def test_dry_run_names_every_bad_row_and_writes_nothing(lists, make_member, people, tmp_path):
    good = make_member(lists.union.team_a)
    stranger = people.person()
    path = xlsx(tmp_path, [
        row(good),                                                      # row 3
        row(id_number=stranger["id_number"], name=stranger["name"]),    # row 4
        row(make_member(lists.union.team_a), category="很困难"),          # row 5
        row(make_member(lists.union.team_a), status="已脱困"),            # row 6
        row(make_member(lists.union.team_a), size=0),                   # row 7
        row(make_member(lists.union.team_a), enrolled="2099-01-01"),    # row 8
        row(make_member(lists.union.team_a), causes="因病、运气差"),        # row 9
    ])
    result = run(lists, path, dry_run=True)
    assert result.total == 7
    assert not result.ok
    found = messages(result)
    assert sorted(found) == [4, 5, 6, 7, 8, 9]
    assert "名册中无此身份证号" in found[4][0]
    assert "困难类别" in found[5][0]
    assert "脱困日期" in found[6][0]
    assert "家庭人口" in found[7][0]
    assert "晚于今天" in found[8][0]
    assert "运气差" in found[9][0]
    assert stranger["id_number"] not in str(result.errors)
    assert not HardshipRecord.objects.exists()
    assert not HouseholdProfile.objects.exists()


def test_a_clean_check_then_the_import_writes_every_row(lists, make_member, tmp_path):
    relative = make_member(lists.union.team_a)
    deep = make_member(lists.union.workshop_a)
    exited = make_member(lists.union.team_a)
    path = xlsx(tmp_path, [
        row(relative),
        row(deep, category="相对困难", income=21600, causes="失业"),  # computes as deep
        row(exited, status="已脱困", enrolled="2024-04-01", exited="2025-10-31", causes=""),
    ])
    check = run(lists, path, dry_run=True)
    assert check.ok
    assert (check.active, check.exited, check.flagged) == (2, 1, 1)
    assert not HardshipRecord.objects.exists()
    result = run(lists, path, dry_run=False)
    assert result.ok
    assert result.created == 3
    first = HardshipRecord.objects.get(member=relative)
    assert first.status == RecordStatus.ACTIVE
    assert first.category == "relative"
    assert first.computed_category == "relative"
    assert first.review_flags == []
    assert first.per_capita_monthly == Decimal("1000.00")
    assert first.dibao_standard == Decimal("800.00")
    assert first.causes == "illness,schooling"
    assert first.enrolled_on == dt.date(2025, 3, 1)
    assert first.next_recheck_on >= timezone.localdate()
    assert first.next_recheck_on.month == 3
    assert first.calculation["source"] == "台账导入"
    assert first.calculation["row"] == 3
    assert first.created_by == lists.cadre_a
    profile = first.profile
    assert profile.household_size == 3
    assert profile.annual_income == Decimal("36000.00")
    assert profile.taken_on == dt.date(2025, 3, 1)
    household = profile_data(profile)["household"]
    assert [p["name"] for p in household] == [relative.name, "家庭成员2", "家庭成员3"]
    flagged = HardshipRecord.objects.get(member=deep)
    assert flagged.category == "relative"
    assert flagged.computed_category == "deep"
    assert [f["code"] for f in flagged.review_flags] == ["category_mismatch"]
    left = HardshipRecord.objects.get(member=exited)
    assert left.status == RecordStatus.EXITED
    assert left.exited_on == dt.date(2025, 10, 31)
    assert left.follow_up_until == dt.date(2026, 4, 30)
    assert left.next_recheck_on is None
    event = AuditEvent.objects.get(action="archive.import")
    assert event.changes == {"file": "ledger.xlsx", "total": 3, "created": 3, "active": 2,
                             "exited": 1, "flagged": 1}


def test_no_statement_of_an_import_grows_with_the_number_of_rows(lists, make_member, tmp_path,
                                                               monkeypatch):
    """SQLite refuses a statement with more than 32,766 parameters, so every id list is cut
    into batches: with batches of 4, no statement of a 30-row import takes 30 parameters
    (the earlier chaining query excluded every new record by id)."""
    from django.db import connection

    from unionaid.archive.ledgers import archive_import, import_rows

    monkeypatch.setattr(archive_import, "BATCH", 4)
    monkeypatch.setattr(import_rows, "BATCH", 4)
    members = [make_member(lists.union.team_a) for _n in range(30)]
    earlier = add_record(members[0], status=RecordStatus.EXITED, enrolled_on=dt.date(2023, 1, 1),
                         exited_on=dt.date(2024, 1, 1))
    path = xlsx(tmp_path, [row(member) for member in members])
    sizes: list[int] = []

    def count(execute, sql, params, many, context):
        if not many and sql.lstrip().upper().startswith("SELECT"):
            sizes.append(len(params or ()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        result = run(lists, path, dry_run=False)
    assert result.ok
    assert result.created == 30
    assert max(sizes) < 30
    assert HardshipRecord.objects.get(member=members[0], status=RecordStatus.ACTIVE).previous \
        == earlier  # the chaining still finds the record that was there before


def test_one_bad_row_means_nothing_is_written(lists, make_member, tmp_path):
    path = xlsx(tmp_path, [row(make_member(lists.union.team_a)) for _n in range(3)]
                + [row(make_member(lists.union.team_a), income="很多")], title=False)
    result = run(lists, path, dry_run=False)
    assert not result.ok
    assert [e.row_number for e in result.errors] == [5]
    assert result.created == 0
    assert not HardshipRecord.objects.exists()
    assert not HouseholdProfile.objects.exists()
    assert not AuditEvent.objects.filter(action="archive.import").exists()


def spouses(lists, make_member):
    husband = make_member(lists.union.team_a)
    wife = make_member(lists.union.workshop_a)
    HouseholdMember.objects.create(member=husband, name=wife.name, relation="spouse",
                                   id_number=wife.id_number,
                                   id_number_hash=wife.id_number_hash)
    return husband, wife


def test_one_household_one_open_file_in_the_file(lists, make_member, tmp_path):
    husband, wife = spouses(lists, make_member)
    path = xlsx(tmp_path, [row(husband), row(wife, enrolled="2025-04-01")], title=False)
    result = run(lists, path, dry_run=True)
    assert messages(result) == {3: ["与第 2 行的职工属同一家庭，一户只能有一份在档档案。"]}
    exited = xlsx(tmp_path, [row(husband), row(wife, status="已脱困", enrolled="2023-01-01",
                                               exited="2024-01-01")], title=False, name="b.xlsx")
    assert run(lists, exited, dry_run=True).ok  # history beside an open file is fine


def test_one_household_one_open_file_against_the_archive(lists, make_member, tmp_path):
    husband, wife = spouses(lists, make_member)
    add_record(wife)  # listed by her husband only: still one household
    path = xlsx(tmp_path, [row(husband, enrolled="2025-05-01")], title=False)
    result = run(lists, path, dry_run=False)
    assert "一户一档" in messages(result)[2][0]
    assert HardshipRecord.objects.count() == 1


def test_duplicates_and_a_second_import_of_the_same_ledger(lists, make_member, tmp_path):
    member = make_member(lists.union.team_a)
    twice = xlsx(tmp_path, [row(member), row(member)], title=False)
    assert "重复" in messages(run(lists, twice, dry_run=True))[3][0]
    two_open = xlsx(tmp_path, [row(member), row(member, enrolled="2025-06-01")], title=False,
                    name="open.xlsx")
    assert "只能有一条在档记录" in messages(run(lists, two_open, dry_run=True))[3][0]
    once = xlsx(tmp_path, [row(member, status="已脱困", enrolled="2022-01-01",
                               exited="2023-01-01"), row(member)], title=False, name="ok.xlsx")
    assert run(lists, once, dry_run=False).created == 2
    older, newer = HardshipRecord.objects.filter(member=member).order_by("enrolled_on")
    assert newer.previous_id == older.pk
    again = run(lists, once, dry_run=True)
    assert "已有该职工同一建档日期" in messages(again)[2][0]
    assert HardshipRecord.objects.count() == 2


def test_rows_out_of_scope_or_with_another_name_are_refused(lists, make_member, tmp_path):
    member = make_member(lists.union.team_a)
    path = xlsx(tmp_path, [row(member)], title=False)
    assert "名册中无此身份证号" in messages(run(lists, path, dry_run=True,
                                            actor=lists.cadre_b))[2][0]
    renamed = xlsx(tmp_path, [row(member, name="别人")], title=False, name="r.xlsx")
    assert "姓名与名册" in messages(run(lists, renamed, dry_run=True))[2][0]
    with pytest.raises(PermissionDenied):
        run(lists, path, dry_run=True, actor=lists.viewer_a)


def test_a_csv_ledger_and_a_missing_column(lists, make_member, tmp_path):
    member = make_member(lists.union.team_a)
    csv_path = tmp_path / "ledger.csv"
    csv_path.write_text(
        "身份证号,姓名,困难类别,家庭人口,家庭年收入,致困原因,建档日期\n"
        f"{member.id_number},{member.name},深度困难,2,12000,因病;单亲,2025年3月1日\n",
        encoding="utf-8-sig")
    result = run(lists, csv_path, dry_run=False)
    assert result.created == 1
    record = HardshipRecord.objects.get()
    assert record.category == "deep"
    assert record.causes == "illness,single_parent"
    missing = tmp_path / "missing.csv"
    missing.write_text("身份证号,姓名,困难类别\n", encoding="utf-8")
    result = run(lists, missing, dry_run=True)
    assert any("家庭人口" in e.message for e in result.errors)


# -- through the page and the API ----------------------------------------------------------------

def test_upload_check_confirm_on_the_page(lists, make_member, tmp_path):
    member = make_member(lists.union.team_a)
    path = xlsx(tmp_path, [row(member)])
    client = verified_login(Client(), lists.cadre_a)
    with path.open("rb") as fh:
        checked = client.post("/archive/ledgers/import/", {"file": fh})
    assert checked.status_code == 200
    body = checked.content.decode()
    assert "检查通过" in body
    assert not HardshipRecord.objects.exists()
    token = checked.context["token"]
    assert client.post("/archive/ledgers/import/confirm/",
                       {"token": "0" * 32 + ".xlsx"}).status_code == 409
    done = client.post("/archive/ledgers/import/confirm/", {"token": token})
    assert done.status_code == 200
    assert "已导入 1 条" in done.content.decode()
    assert HardshipRecord.objects.filter(member=member).exists()
    assert client.post("/archive/ledgers/import/confirm/", {"token": token}).status_code == 409


def test_a_bad_file_shows_its_rows_on_the_page(lists, make_member, tmp_path):
    path = xlsx(tmp_path, [row(make_member(lists.union.team_a), category="")])
    client = verified_login(Client(), lists.cadre_a)
    with path.open("rb") as fh:
        checked = client.post("/archive/ledgers/import/", {"file": fh})
    body = checked.content.decode()
    assert "未导入任何数据" in body
    assert "请填写困难类别" in body
    assert "确认导入" not in body
    viewer = verified_login(Client(), lists.viewer_a)
    with path.open("rb") as fh:
        assert viewer.post("/archive/ledgers/import/", {"file": fh}).status_code == 404


def test_the_api_checks_and_imports(lists, make_member, tmp_path):
    member = make_member(lists.union.team_a)
    path = xlsx(tmp_path, [row(member)])
    client = verified_login(Client(), lists.cadre_a)
    with path.open("rb") as fh:
        checked = client.post("/api/v1/archive/ledgers/import", {"file": fh, "dry_run": "true"})
    assert checked.status_code == 200
    assert checked.json()["ok"] is True
    assert checked.json()["created"] == 0
    with path.open("rb") as fh:
        done = client.post("/api/v1/archive/ledgers/import", {"file": fh, "dry_run": "false"})
    assert done.json()["created"] == 1
    assert HardshipRecord.objects.filter(member=member).count() == 1


def test_an_unconfirmed_upload_is_removed_after_a_day(lists, make_member, tmp_path):
    import os

    from django.core.files.uploadedfile import SimpleUploadedFile

    from unionaid.archive.ledgers import archive_import

    content = xlsx(tmp_path, [row(make_member(lists.union.team_a))]).read_bytes()
    old, _name = archive_import.upload_store(SimpleUploadedFile("a.xlsx", content))
    stale = archive_import.upload_path(old)
    two_days_ago = (timezone.now() - dt.timedelta(days=2)).timestamp()
    os.utime(stale, (two_days_ago, two_days_ago))
    new, _name = archive_import.upload_store(SimpleUploadedFile("b.xlsx", content))
    assert archive_import.upload_path(old) is None
    assert archive_import.upload_path(new) is not None
    archive_import.upload_discard(new)
    assert archive_import.upload_path("../../etc/passwd") is None


# -- size limits: a hostile workbook is refused before it is read ----------------------------------

@pytest.mark.parametrize("hostile", ["bomb", "rows", "columns"])
def test_a_hostile_ledger_is_refused_on_the_page_and_the_api_with_nothing_written(
    lists, make_member, tmp_path, settings, hostile,
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.ARCHIVE_IMPORT_MAX_UNPACKED_MB = 1
    settings.ARCHIVE_IMPORT_MAX_ROWS = 4
    settings.IMPORT_MAX_COLUMNS = 15
    member = make_member(lists.union.team_a)
    good = [str(value) for value in row(member)]
    sheet, message = {
        "bomb": (sheet_xml([HEADERS, good], padding=3 << 20), "解压后超过 1 MB"),
        "rows": (sheet_xml([HEADERS] + [good] * 4), "最多 4 行"),
        "columns": (sheet_xml([[*HEADERS, "备注1", "备注2", "备注3", "备注4"], good]),
                    "最多 15 列"),
    }[hostile]
    path = write_raw_xlsx(tmp_path / "hostile.xlsx", sheet)
    client = verified_login(Client(), lists.cadre_a)

    with path.open("rb") as fh:
        page = client.post("/archive/ledgers/import/", {"file": fh})
    with path.open("rb") as fh:
        api = client.post("/api/v1/archive/ledgers/import", {"file": fh, "dry_run": "false"})

    assert page.status_code == 400
    assert message in page.content.decode()
    assert api.status_code == 400
    assert message in api.json()["message"]
    assert not HardshipRecord.objects.exists()
    assert not AuditEvent.objects.filter(action="archive.import").exists()
    assert not list((tmp_path / "private").rglob("*.*"))  # the upload was removed


def test_a_ledger_past_the_limits_is_refused_by_the_importer_itself(
    lists, make_member, tmp_path, settings, monkeypatch,
):
    settings.ARCHIVE_IMPORT_MAX_ROWS = 2
    member = make_member(lists.union.team_a)
    path = xlsx(tmp_path, [row(member)])  # a title row, the header, one row

    def refuse(*args, **kwargs):
        raise AssertionError("the workbook was read")

    monkeypatch.setattr(roster_files.CalamineWorkbook, "from_path", refuse)
    with pytest.raises(SpreadsheetTooLarge, match="最多 2 行"):
        run(lists, path, dry_run=False)
    assert not HardshipRecord.objects.exists()
