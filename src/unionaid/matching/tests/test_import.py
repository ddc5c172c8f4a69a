"""Importing a department's list: upload → background load (files.load_file →
normalise.normalise_table) → encrypted records, all or nothing, problems by row; a check (dry
run) writes nothing; a file that cannot be read fails whole; the upload is deleted when done."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict
from unionaid.matching import loading, services
from unionaid.matching.models import Dataset, DatasetStatus, ExternalRecord


@pytest.fixture
def private(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def listed(union, make_member):
    """Two workers of 站段 A and the text of a 低保 list naming them (one without an ID)."""
    first, second = make_member(union.team_a), make_member(union.team_a)
    text = (
        "姓名,身份证号,出生日期,手机号,家庭住址,救助金额\n"
        f"{first.name},{first.id_number},{first.birth_date:%Y-%m-%d},16512345678,某市某路1号,3200\n"
        f"{second.name},,{second.birth_date:%Y-%m-%d},,某市某路2号,1800\n"
        "赵某,12345,1980-01-01,,某市某路3号,900\n"
    )
    return first, second, text


@pytest.fixture
def upload(cadres, source, union, private, django_capture_on_commit_callbacks):
    def _upload(content: str | bytes, *, dry_run: bool = False,
                name: str = "dibao.csv") -> Dataset:
        data = content.encode("utf-8") if isinstance(content, str) else content
        with django_capture_on_commit_callbacks(execute=True):
            dataset = services.dataset_upload(
                actor=cadres.station_a, source=source, org_unit=union.station_a,
                upload=SimpleUploadedFile(name, data), dry_run=dry_run)
        dataset.refresh_from_db()
        return dataset

    return _upload


def test_a_list_is_loaded_encrypted_with_its_problems_by_row(listed, upload, private):
    first, _second, text = listed
    dataset = upload(text)
    assert dataset.status == DatasetStatus.LOADED, dataset.message
    assert dataset.row_count == 3
    assert dataset.purge_after is not None
    assert dataset.loaded_at is not None
    records = list(ExternalRecord.objects.filter(dataset=dataset).order_by("row_no"))
    assert [r.row_no for r in records] == [1, 2, 3]
    assert records[0].id_hash == first.id_number_hash  # joins members on the keyed hash
    assert records[0].phone == "16512345678"
    assert "3200" in records[0].extra
    assert records[1].id_number == ""
    assert records[1].person_key.startswith("b:")
    # row 3 (sheet row 4) has an unreadable ID number: reported, still imported
    assert any(p["row"] == 4 and p["column"] == "身份证号" for p in dataset.problems)
    assert isinstance(records[2].problems, list)
    assert records[2].problems
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number_enc, phone_enc, address_enc, extra_enc "
                       "FROM matching_externalrecord WHERE id = %s", [records[0].pk])
        stored = " ".join(cursor.fetchone())
    for clear in (first.id_number, "16512345678", "某市某路1号", "3200"):
        assert clear not in stored
    assert not list(private.rglob("*.csv"))  # the upload is gone once loaded
    assert AuditEvent.objects.filter(action="matching.dataset_load",
                                     target_id=str(dataset.pk)).exists()


def test_a_check_writes_nothing_and_import_now_needs_no_second_upload(
        listed, upload, cadres, django_capture_on_commit_callbacks):
    dataset = upload(listed[2], dry_run=True)
    assert (dataset.status, dataset.checked, dataset.row_count) == (DatasetStatus.UPLOADED,
                                                                    True, 3)
    assert dataset.problem_count >= 1
    assert not ExternalRecord.objects.exists()
    assert dataset.stored_path
    with django_capture_on_commit_callbacks(execute=True):
        services.dataset_confirm(actor=cadres.station_a, dataset=dataset)
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.LOADED
    assert ExternalRecord.objects.filter(dataset=dataset).count() == 3
    assert dataset.stored_path == ""


def test_a_file_without_identifying_columns_fails_whole(upload, private):
    dataset = upload("序号,备注\n1,无\n")
    assert dataset.status == DatasetStatus.FAILED
    assert dataset.message
    assert not ExternalRecord.objects.exists()
    assert not list(private.rglob("*.csv"))


def _fail_while_writing(listed, upload, monkeypatch) -> Dataset:
    """Import with the second batch of records failing to write."""
    monkeypatch.setattr(loading, "BATCH", 2)
    calls = {"n": 0}
    real = loading.write_records

    def failing(batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(batch)

    monkeypatch.setattr(loading, "write_records", failing)
    return upload(listed[2])


def test_a_failure_while_writing_leaves_nothing_half_imported(listed, upload, monkeypatch):
    dataset = _fail_while_writing(listed, upload, monkeypatch)
    assert dataset.status == DatasetStatus.FAILED
    assert "系统内部错误" in dataset.message
    assert not ExternalRecord.objects.exists()


def test_an_import_that_failed_for_a_system_error_can_be_retried(
        listed, upload, monkeypatch, cadres, django_capture_on_commit_callbacks, private):
    dataset = _fail_while_writing(listed, upload, monkeypatch)
    assert dataset.status == DatasetStatus.FAILED
    assert dataset.stored_path  # kept for the retry
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.dataset_retry(actor=cadres.station_a, dataset=dataset)
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.LOADED
    assert dataset.records.count() == 3
    assert not list(private.rglob("*.csv"))
    with pytest.raises(Conflict):
        services.dataset_retry(actor=cadres.station_a, dataset=dataset)


def test_a_cancelled_upload_is_not_loaded_and_its_file_goes(listed, cadres, source, union,
                                                            private):
    dataset = services.dataset_upload(
        actor=cadres.station_a, source=source, org_unit=union.station_a,
        upload=SimpleUploadedFile("dibao.csv", listed[2].encode()), enqueue=False)
    services.dataset_cancel(actor=cadres.station_a, dataset=dataset)
    assert loading.dataset_load_run(dataset.pk, dry_run=False) == {"dataset": dataset.pk,
                                                                   "skipped": True}
    assert not list(private.rglob("*.csv"))


def test_the_command_line_imports_a_list(listed, cadres, source, union, private, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(listed[2], encoding="utf-8")
    call_command("matching_import", str(path), source=source.pk, unit=union.station_a.code,
                 username=cadres.station_a.username)
    dataset = Dataset.objects.get()
    assert dataset.status == DatasetStatus.LOADED
    assert dataset.records.count() == 3


def test_a_messy_id_number_is_normalised_before_it_is_hashed(union, make_member, upload):
    member = make_member(union.team_a)
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in member.id_number)
    messy = f"{wide[:6]} {wide[6:14]} {wide[14:]}".lower()  # full-width, spaced, lower-case x
    dataset = upload(f"姓名,身份证号\n {member.name} ,{messy}\n")
    assert dataset.status == DatasetStatus.LOADED, dataset.message
    record = dataset.records.get()
    assert record.id_hash == member.id_number_hash
    assert record.name == member.name
    assert record.problems == []


def test_an_xlsx_with_a_title_row_and_two_sheets_is_loaded_by_sheet_and_row(
        union, make_member, upload, tmp_path):
    import openpyxl

    first, second = make_member(union.team_a), make_member(union.team_a)
    book = openpyxl.Workbook()
    for sheet, member in ((book.active, first), (book.create_sheet(), second)):
        sheet.title = "城区" if member is first else "郊区"
        sheet.append(["2026年11月低保名单"])
        sheet.append(["姓名", "公民身份号码", "联系电话", "家庭住址"])
        sheet.append([member.name, member.id_number, member.phone, "某路1号"])
    path = tmp_path / "dibao.xlsx"
    book.save(path)
    dataset = upload(path.read_bytes(), name="dibao.xlsx")
    assert dataset.status == DatasetStatus.LOADED, dataset.message
    records = list(dataset.records.order_by("row_no"))
    assert [(r.row_no, r.sheet, r.sheet_row) for r in records] == [(1, "城区", 3), (2, "郊区", 3)]
    assert [r.id_hash for r in records] == [first.id_number_hash, second.id_number_hash]


def test_the_sources_column_mapping_names_headers_the_reader_does_not_know(
        union, make_member, upload, source):
    member = make_member(union.team_a)
    source.column_mapping = {"救助对象": "name", "证照号": "id_number"}
    source.save(update_fields=["column_mapping"])
    dataset = upload(f"救助对象,证照号,救助金额\n{member.name},{member.id_number},500\n")
    assert dataset.status == DatasetStatus.LOADED, dataset.message
    assert dataset.columns["name"] == "救助对象"
    record = dataset.records.get()
    assert record.id_hash == member.id_number_hash
    assert record.extras.get("救助金额", record.extras.get("amount")) == "500"


def test_cancelling_a_running_import_writes_nothing(listed, cadres, source, union, private,
                                                     monkeypatch):
    from unionaid.matching import normalise

    dataset = services.dataset_upload(
        actor=cadres.station_a, source=source, org_unit=union.station_a,
        upload=SimpleUploadedFile("dibao.csv", listed[2].encode()), enqueue=False)
    real = normalise.normalise_table

    def cancel_while_normalising(*args, **kwargs):
        services.dataset_cancel(actor=cadres.station_a, dataset=Dataset.objects.get(pk=dataset.pk))
        return real(*args, **kwargs)

    monkeypatch.setattr(normalise, "normalise_table", cancel_while_normalising)
    assert loading.dataset_load_run(dataset.pk, dry_run=False)["status"] == "cancelled"
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.CANCELLED
    assert not ExternalRecord.objects.exists()
    assert not list(private.rglob("*.csv"))
