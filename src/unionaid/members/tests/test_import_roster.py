"""Roster import service: all or nothing, every bad row named by its Excel row number."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.db import connection

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied, ServiceError
from unionaid.core.spreadsheets import SpreadsheetTooLarge
from unionaid.core.testing.spreadsheets import sheet_xml, write_raw_xlsx
from unionaid.members import roster_files
from unionaid.members.importing import import_roster
from unionaid.members.models import EmploymentForm, Member, MembershipStatus
from unionaid.members.selectors import id_number_hash
from unionaid.members.tests.io_support import (
    HEADER,
    bad_check_digit,
    person_row,
    write_csv,
    write_xlsx,
)
from unionaid.org.models import OrgUnit


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def importer(personas):
    """station_cadre: members.import over station A and below."""
    return personas.station_cadre


def raw_id_column(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number_enc FROM members_member WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.fixture
def bad_roster(tmp_path, people, make_member, union):
    """Rows 2 and 3 are good; rows 4..9 are each bad in one way."""
    existing = make_member(union.team_a)
    good = person_row(people, "SA-W1-T1")
    rows = [
        good,                                                                     # row 2
        person_row(people, "甲车间"),                                               # row 3
        person_row(people, "SA", 身份证号=bad_check_digit(people.id_number())),     # row 4
        person_row(people, "SA", 姓名=""),                                          # row 5
        person_row(people, "NO-SUCH-UNIT"),                                       # row 6
        person_row(people, "SA", 身份证号=good["身份证号"]),                         # row 7
        person_row(people, "SB-W1-T1"),                                           # row 8
        person_row(people, "SA", 身份证号=existing.id_number),                   # row 9
    ]
    return write_xlsx(tmp_path / "roster.xlsx", rows), rows


def test_it_imports_nothing_and_names_each_bad_row(importer, bad_roster):
    path, _rows = bad_roster
    before = Member.objects.count()

    result = import_roster(actor=importer, path=path, dry_run=False)

    assert Member.objects.count() == before
    assert not AuditEvent.objects.filter(action="member.import").exists()
    assert result.total == 8
    assert result.created == 0
    by_row = {e.row_number: e for e in result.errors}
    assert sorted(by_row) == [4, 5, 6, 7, 8, 9]
    assert by_row[4].column == "身份证号"
    assert "校验位" in by_row[4].message
    assert by_row[5].column == "姓名"
    assert "姓名" in by_row[5].message
    assert by_row[6].column == "单位"
    assert "NO-SUCH-UNIT" in by_row[6].message
    assert "第 2 行" in by_row[7].message
    # Another station's unit reads exactly like an unknown one.
    assert by_row[8].message == by_row[6].message.replace("NO-SUCH-UNIT", "SB-W1-T1")
    assert "已登记" in by_row[9].message


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_id_number_held_out_of_scope_says_neither_whose_nor_where_journaled_once(
    importer, people, tmp_path, make_member, union, dry_run
):
    theirs = [make_member(union.team_b), make_member(union.workshop_b)]
    mine = make_member(union.team_a)
    rows = [
        person_row(people, "SA", 身份证号=theirs[0].id_number),  # row 2
        person_row(people, "SA", 身份证号=theirs[1].id_number),  # row 3
        person_row(people, "SA", 身份证号=mine.id_number),       # row 4
        person_row(people, "SA"),                                # row 5
    ]
    path = write_xlsx(tmp_path / "probe.xlsx", rows)

    result = import_roster(actor=importer, path=path, dry_run=dry_run)

    by_row = {e.row_number: e.message for e in result.errors}
    assert sorted(by_row) == [2, 3, 4]
    assert by_row[2] == by_row[3] == "该身份证号已登记，请联系上级工会核实。"
    assert by_row[4] == "该身份证号已登记为职工。"  # in scope: the plain answer
    for member in theirs:
        for whose_or_where in (member.name, member.org_unit.name, member.org_unit.code):
            assert whose_or_where not in by_row[2] + by_row[3]
    event = AuditEvent.objects.get(action="member.duplicate_id_number")  # one for the file
    assert (event.outcome, event.actor_id) == ("denied", importer.pk)
    assert event.changes["members"] == sorted(m.pk for m in theirs)
    assert event.changes["attempted"] == "member.import"
    assert event.org_unit_path == union.workshop_b.path  # the journal of their units
    text = json.dumps(event.changes, ensure_ascii=False)
    assert not any(m.id_number in text for m in [*theirs, mine])
    assert Member.objects.count() == 3


def test_a_dry_run_reports_every_bad_row_and_writes_nothing(importer, bad_roster):
    path, _rows = bad_roster
    before = Member.objects.count()

    result = import_roster(actor=importer, path=path, dry_run=True)

    assert sorted({e.row_number for e in result.errors}) == [4, 5, 6, 7, 8, 9]
    assert result.error_count == 6
    assert Member.objects.count() == before


def test_a_clean_dry_run_writes_nothing(importer, people, tmp_path):
    path = write_csv(tmp_path / "ok.csv", [person_row(people, "SA") for _ in range(3)])

    result = import_roster(actor=importer, path=path, dry_run=True)

    assert result.ok
    assert result.total == 3
    assert result.created == 0
    assert Member.objects.count() == 0
    assert not AuditEvent.objects.filter(action="member.import").exists()


def test_it_imports_every_row_encrypted_with_one_audit_event(importer, people, tmp_path, union):
    rows = [person_row(people, code) for code in ("SA", "SA-W1", "SA-W1-T1", "甲一班组")]
    path = write_xlsx(tmp_path / "good.xlsx", rows)

    result = import_roster(actor=importer, path=path, dry_run=False)

    assert result.ok
    assert result.total == 4
    assert result.created == 4
    for row in rows:
        member = Member.objects.get(id_number_hash=id_number_hash(row["身份证号"]))
        assert member.name == row["姓名"]
        assert member.id_number == row["身份证号"]
        assert member.phone == row["手机号"]
        assert member.bank_account == row["银行账号"]
        assert member.phone_hash
        assert member.joined_on == dt.date(2015, 3, 1)
        assert member.created_by == importer
        raw = raw_id_column(member.pk)
        assert row["身份证号"] not in raw
        assert row["身份证号"][6:14] not in raw
    assert Member.objects.get(id_number_hash=id_number_hash(rows[3]["身份证号"])).org_unit == \
        union.team_a
    events = AuditEvent.objects.filter(action="member.import")
    assert events.count() == 1
    event = events.get()
    assert event.changes["created"] == 4
    assert event.changes["file"] == "good.xlsx"
    assert event.actor_id == importer.pk
    assert event.org_unit_path == union.station_a.path
    dumped = json.dumps(event.changes, ensure_ascii=False)
    assert not any(row["身份证号"] in dumped for row in rows)
    assert AuditEvent.objects.filter(action="member.create").count() == 0


def test_header_synonyms_and_a_title_row_work(importer, people, tmp_path, union):
    header = ["序号", "名字", "公民身份号码", "联系电话", "所在单位", "用工形式", "会员状态",
              "入会时间", "银行卡号"]
    row = person_row(people, "SA-W1")
    data = {"序号": "1", "名字": row["姓名"], "公民身份号码": row["身份证号"],
            "联系电话": row["手机号"], "所在单位": "甲车间", "用工形式": "劳务派遣",
            "会员状态": "非会员", "入会时间": "2019年7月1日", "银行卡号": row["银行账号"]}
    path = write_xlsx(tmp_path / "synonyms.xlsx", [data], header=header,
                      title="甲车务段职工名册（2026年）")

    result = import_roster(actor=importer, path=path, dry_run=False)

    assert result.ok, result.errors
    member = Member.objects.get()
    assert member.name == row["姓名"]
    assert member.org_unit == union.workshop_a
    assert member.employment_form == EmploymentForm.DISPATCHED
    assert member.membership_status == MembershipStatus.NON_MEMBER
    assert member.joined_on == dt.date(2019, 7, 1)


@pytest.mark.parametrize("header", [["证件号码", "姓名", "部门", "手机"],
                                    ["身份证号码", "姓名", "班组", "电话"]])
def test_other_header_synonyms_work(importer, people, tmp_path, header, union):
    person = people.person()
    values = dict(zip(header, [person["id_number"], person["name"], "甲一班组",
                               person["phone"]], strict=True))
    path = write_csv(tmp_path / "r.csv", [values], header=header)

    result = import_roster(actor=importer, path=path, dry_run=False)

    assert result.ok, result.errors
    assert Member.objects.get().org_unit == union.team_a


def test_a_gb18030_csv_imports(importer, people, tmp_path):
    rows = [person_row(people, "甲车务段"), person_row(people, "SA", 姓名="欧阳娜娜")]
    path = write_csv(tmp_path / "gbk.csv", rows, encoding="gb18030")
    assert "欧阳".encode("gb18030") in path.read_bytes()

    result = import_roster(actor=importer, path=path, dry_run=False)

    assert result.ok, result.errors
    assert sorted(Member.objects.values_list("name", flat=True)) == sorted(
        r["姓名"] for r in rows)


def test_a_utf8_bom_csv_imports(importer, people, tmp_path):
    path = write_csv(tmp_path / "bom.csv", [person_row(people, "SA")], encoding="utf-8-sig")

    result = import_roster(actor=importer, path=path, dry_run=False)

    assert result.ok
    assert Member.objects.count() == 1


def test_an_ambiguous_unit_name_is_a_row_error(importer, people, tmp_path, union):
    for code in ("SA-W2", "SA-W3"):
        OrgUnit.objects.add_child(OrgUnit.objects.get(pk=union.station_a.pk),
                                  create_kwargs={"name": "检修车间", "code": code})
    path = write_csv(tmp_path / "a.csv", [person_row(people, "检修车间"),
                                          person_row(people, "SA-W3")])

    result = import_roster(actor=importer, path=path, dry_run=False)

    assert [(e.row_number, e.column) for e in result.errors] == [(2, "单位")]
    assert "多个单位" in result.errors[0].message
    assert Member.objects.count() == 0


def test_an_id_number_stored_as_an_excel_number_is_reported(importer, people, tmp_path):
    row = person_row(people, "SA", 身份证号="140105199001011234")
    path = write_xlsx(tmp_path / "n.xlsx", [row], numbers=("身份证号",))

    result = import_roster(actor=importer, path=path, dry_run=True)

    assert [(e.row_number, e.column) for e in result.errors] == [(2, "身份证号")]
    assert "文本" in result.errors[0].message


def test_a_missing_required_column_is_reported(importer, people, tmp_path):
    header = ["姓名", "身份证号", "手机号"]
    path = write_csv(tmp_path / "m.csv", [person_row(people, "SA")], header=header)

    result = import_roster(actor=importer, path=path, dry_run=False)

    assert [(e.row_number, e.column) for e in result.errors] == [(1, "单位")]
    assert Member.objects.count() == 0


def test_bad_choice_and_date_values_are_row_errors(importer, people, tmp_path):
    rows = [person_row(people, "SA", 用工形式="临时工"),
            person_row(people, "SA", 入会日期="去年"),
            person_row(people, "SA", 手机号="12345")]
    path = write_csv(tmp_path / "c.csv", rows)

    result = import_roster(actor=importer, path=path, dry_run=True)

    assert [(e.row_number, e.column) for e in result.errors] == [
        (2, "用工形式"), (3, "入会日期"), (4, "手机号")]


def test_stored_errors_can_be_capped_but_are_all_counted(importer, people, tmp_path):
    rows = [person_row(people, "NOPE") for _ in range(5)]
    path = write_csv(tmp_path / "cap.csv", rows)

    result = import_roster(actor=importer, path=path, dry_run=True, max_errors=2)

    assert result.error_count == 5
    assert len(result.errors) == 2


def test_it_refuses_a_user_without_the_import_right(personas, people, tmp_path):
    path = write_csv(tmp_path / "x.csv", [person_row(people, "SA-W1-T1")])

    with pytest.raises(PermissionDenied):
        import_roster(actor=personas.team_cadre, path=path, dry_run=True)
    assert Member.objects.count() == 0


def test_an_unreadable_file_is_a_service_error(importer, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")

    with pytest.raises(ServiceError) as exc:
        import_roster(actor=importer, path=path, dry_run=True)
    assert exc.value.code == "bad_file"


def test_progress_is_reported_for_both_passes(importer, people, tmp_path):
    path = write_csv(tmp_path / "p.csv", [person_row(people, "SA") for _ in range(3)])
    calls = []

    import_roster(actor=importer, path=path, dry_run=False,
                  progress=lambda stage, done, total: calls.append((stage, done, total)))

    assert ("checking", 3, 3) in calls
    assert calls[-1] == ("writing", 3, 3)


def test_the_clear_id_number_never_reaches_the_logs(importer, people, tmp_path, caplog,
                                                    bad_roster):
    caplog.set_level(logging.DEBUG)
    rows = [person_row(people, "SA") for _ in range(3)]
    good = write_csv(tmp_path / "good.csv", rows)
    bad_path, bad_rows = bad_roster

    import_roster(actor=importer, path=bad_path, dry_run=False)
    import_roster(actor=importer, path=good, dry_run=False)

    assert Member.objects.filter(name__in=[r["姓名"] for r in rows]).count() == 3
    assert "roster import" in caplog.text  # the summary line was logged
    for row in rows + bad_rows:
        assert row["身份证号"] not in caplog.text
        assert row["手机号"] not in caplog.text


# -- size limits: checked before the file is read ------------------------------------------------

@pytest.fixture
def calamine_must_not_read(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the workbook was read")

    monkeypatch.setattr(roster_files.CalamineWorkbook, "from_path", refuse)


def test_a_roster_with_too_many_rows_is_refused_before_it_is_read(
    importer, people, tmp_path, settings, calamine_must_not_read,
):
    settings.MEMBERS_IMPORT_MAX_ROWS = 3
    path = write_xlsx(tmp_path / "long.xlsx", [person_row(people, "SA") for _ in range(3)])

    with pytest.raises(SpreadsheetTooLarge, match="最多 3 行"):
        import_roster(actor=importer, path=path, dry_run=False)
    assert Member.objects.count() == 0
    assert not AuditEvent.objects.filter(action="member.import").exists()


def test_a_roster_that_unzips_past_the_limit_is_refused_before_it_is_read(
    importer, tmp_path, settings, calamine_must_not_read,
):
    settings.MEMBERS_IMPORT_MAX_UNPACKED_MB = 1
    path = write_raw_xlsx(tmp_path / "bomb.xlsx",
                          sheet_xml([["姓名", "身份证号", "单位"]], padding=3 << 20))

    with pytest.raises(SpreadsheetTooLarge, match="解压后超过 1 MB"):
        import_roster(actor=importer, path=path, dry_run=False)
    assert Member.objects.count() == 0


def test_a_csv_roster_past_the_row_or_column_limit_writes_nothing(
    importer, people, tmp_path, settings,
):
    settings.MEMBERS_IMPORT_MAX_ROWS = 3
    settings.IMPORT_MAX_COLUMNS = 8
    long = write_csv(tmp_path / "long.csv", [person_row(people, "SA") for _ in range(3)])
    wide = write_csv(tmp_path / "wide.csv", [person_row(people, "SA")],
                     header=[*HEADER, "备注"])

    with pytest.raises(SpreadsheetTooLarge, match="最多 3 行"):
        import_roster(actor=importer, path=long, dry_run=False)
    with pytest.raises(SpreadsheetTooLarge, match="最多 8 列"):
        import_roster(actor=importer, path=wide, dry_run=False)
    assert Member.objects.count() == 0


def test_a_roster_within_the_limits_imports(importer, people, tmp_path, settings):
    settings.MEMBERS_IMPORT_MAX_ROWS = 3  # the header and two rows
    path = write_xlsx(tmp_path / "ok.xlsx", [person_row(people, "SA") for _ in range(2)])

    assert import_roster(actor=importer, path=path, dry_run=False).created == 2
