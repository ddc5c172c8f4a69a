"""Upload page, background job (ImmediateBackend) and job page with progress and errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope
from unionaid.audit.models import AuditEvent
from unionaid.core.testing.spreadsheets import sheet_xml, write_raw_xlsx
from unionaid.members.models import ImportJob, ImportJobStatus, Member
from unionaid.members.tests.io_support import bad_check_digit, person_row, write_csv, write_xlsx

IMPORTS = reverse("members_io:imports")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def cadre_client(client, personas):
    client.force_login(personas.station_cadre)
    return client


def upload(client, path: Path, mode: str, capture):
    with capture(execute=True), path.open("rb") as fh:
        return client.post(IMPORTS, {"file": SimpleUploadedFile(path.name, fh.read()),
                                     "mode": mode})


def stored_files(settings) -> list[Path]:
    root = Path(settings.PRIVATE_MEDIA_ROOT) / "imports"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_the_upload_page_runs_the_job_and_the_job_page_shows_the_errors(
    cadre_client, people, tmp_path, settings, django_capture_on_commit_callbacks,
):
    rows = [person_row(people, "SA"),
            person_row(people, "SA", 身份证号=bad_check_digit(people.id_number())),
            person_row(people, "SA", 姓名="")]
    path = write_xlsx(tmp_path / "名册.xlsx", rows)

    response = upload(cadre_client, path, "import", django_capture_on_commit_callbacks)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("members_io:job", args=[job.pk])
    assert job.status == ImportJobStatus.DONE
    assert not job.dry_run
    assert job.file_name == "名册.xlsx"
    assert job.total == 3
    assert job.created == 0
    assert job.error_count == 2
    assert [e["row_number"] for e in job.errors] == [3, 4]
    assert Member.objects.count() == 0
    assert stored_files(settings) == []  # the clear-text upload is gone
    page = cadre_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "第 3 行" in html
    assert "身份证号校验位错误" in html
    assert "第 4 行" in html
    assert "请填写姓名" in html
    assert "没有导入任何数据" in html
    assert 'hx-trigger="every 1s"' not in html
    assert rows[0]["身份证号"] not in html


def test_a_clean_check_can_then_be_imported_without_a_second_upload(
    cadre_client, people, tmp_path, settings, django_capture_on_commit_callbacks, union,
):
    rows = [person_row(people, "SA-W1-T1") for _ in range(4)]
    path = write_csv(tmp_path / "ok.csv", rows, encoding="gb18030")

    response = upload(cadre_client, path, "check", django_capture_on_commit_callbacks)

    check = ImportJob.objects.get()
    assert check.status == ImportJobStatus.DONE
    assert check.dry_run
    assert check.error_count == 0
    assert Member.objects.count() == 0
    page = cadre_client.get(response["Location"]).content.decode()
    assert "检查通过" in page
    assert "确认导入" in page
    assert len(stored_files(settings)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        confirm = cadre_client.post(reverse("members_io:job-confirm", args=[check.pk]))

    real = ImportJob.objects.exclude(pk=check.pk).get()
    assert confirm["Location"] == reverse("members_io:job", args=[real.pk])
    assert real.status == ImportJobStatus.DONE
    assert real.created == 4
    assert Member.objects.filter(org_unit=union.team_a).count() == 4
    assert AuditEvent.objects.filter(action="member.import").count() == 1
    assert stored_files(settings) == []
    assert "新增职工 4 人" in cadre_client.get(confirm["Location"]).content.decode()
    # The same check can't be imported twice.
    again = cadre_client.post(reverse("members_io:job-confirm", args=[check.pk]))
    assert again.status_code == 400
    assert Member.objects.count() == 4


@pytest.mark.parametrize(("name", "content", "message"), [
    ("roster.xlsx", "姓名,身份证号,单位\n".encode(), "不是 .xlsx"),
    ("roster.csv", b"PK\x03\x04rest-of-a-zip", "不是 .csv"),
    ("roster.xls", b"\xd0\xcf\x11\xe0old", "只支持"),
    ("roster.txt", b"hello", "只支持"),
])
def test_it_checks_the_extension_and_the_content(cadre_client, settings, name, content, message):
    response = cadre_client.post(IMPORTS, {"file": SimpleUploadedFile(name, content),
                                           "mode": "check"})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'value="check" id="id_mode_0" checked' in response.content.decode()  # choice kept
    assert not ImportJob.objects.exists()
    assert stored_files(settings) == []


def test_it_refuses_a_file_over_the_size_limit(cadre_client, settings, people, tmp_path):
    settings.MEMBERS_IMPORT_MAX_BYTES = 50
    path = write_csv(tmp_path / "big.csv", [person_row(people, "SA")])

    response = cadre_client.post(IMPORTS, {"file": SimpleUploadedFile(path.name,
                                                                      path.read_bytes()),
                                           "mode": "import"})

    assert response.status_code == 400
    assert "文件太大" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_status_fragment_polls_while_the_job_runs(cadre_client, personas):
    job = ImportJob.objects.create(created_by=personas.station_cadre, file_name="x.csv",
                                   status=ImportJobStatus.RUNNING, stage="checking",
                                   total=10_000, processed=2_500)
    url = reverse("members_io:job-status", args=[job.pk])

    running = cadre_client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert 'value="25"' in running
    assert "2500" in running

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.DONE, created=10_000,
                                               processed=10_000)
    done = cadre_client.get(url).content.decode()
    assert "hx-trigger" not in done
    assert "10000" in done


def test_a_job_is_hidden_from_a_cadre_of_another_station(client, personas, union):
    job = ImportJob.objects.create(created_by=personas.station_cadre, file_name="x.csv",
                                   org_unit=union.station_a)
    client.force_login(personas.other_cadre)

    for name in ("members_io:job", "members_io:job-status"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("members_io:job-confirm", args=[job.pk])).status_code == 404
    assert "x.csv" not in client.get(IMPORTS).content.decode()


def test_an_importer_over_the_same_scope_sees_the_job(client, personas, union, roles):
    job = ImportJob.objects.create(created_by=personas.station_cadre, file_name="x.csv",
                                   org_unit=union.station_a)
    bureau = make_staff("bureau_importer", union.bureau,
                        [make_role("importer", ["members.import"], DataScope.UNIT_AND_BELOW)])
    client.force_login(bureau)

    assert client.get(reverse("members_io:job", args=[job.pk])).status_code == 200
    assert "x.csv" in client.get(IMPORTS).content.decode()


def test_the_job_records_the_uploaders_unit_and_the_upload_is_audited(
    cadre_client, personas, people, tmp_path, union, django_capture_on_commit_callbacks,
):
    path = write_csv(tmp_path / "ok.csv", [person_row(people, "SA")])

    upload(cadre_client, path, "check", django_capture_on_commit_callbacks)

    job = ImportJob.objects.get()
    assert job.org_unit == union.station_a
    event = AuditEvent.objects.get(action="member.import_upload")
    assert event.target_id == str(job.pk)
    assert event.actor_id == personas.station_cadre.pk


def test_the_imports_page_is_not_found_without_the_import_right(client, personas):
    client.force_login(personas.team_cadre)

    assert client.get(IMPORTS).status_code == 404


def test_a_failed_run_is_shown_with_its_reason(
    cadre_client, tmp_path, django_capture_on_commit_callbacks,
):
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<not-a-workbook/>")

    response = upload(cadre_client, path, "import", django_capture_on_commit_callbacks)

    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.FAILED
    assert "任务失败" in cadre_client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("hostile", ["bomb", "rows", "columns"])
def test_a_hostile_workbook_is_refused_at_upload_with_nothing_kept(
    cadre_client, people, tmp_path, settings, hostile,
):
    settings.MEMBERS_IMPORT_MAX_UNPACKED_MB = 1
    settings.MEMBERS_IMPORT_MAX_ROWS = 5
    settings.IMPORT_MAX_COLUMNS = 10
    header = ["姓名", "身份证号", "单位"]
    sheet, message = {
        "bomb": (sheet_xml([header], padding=3 << 20), "解压后超过 1 MB"),
        "rows": (sheet_xml([header] + [["张三", "x", "SA"]] * 5), "最多 5 行"),
        "columns": (sheet_xml([header + ["备注"] * 8]), "最多 10 列"),
    }[hostile]
    path = write_raw_xlsx(tmp_path / "hostile.xlsx", sheet)

    response = cadre_client.post(IMPORTS, {"file": SimpleUploadedFile(path.name,
                                                                      path.read_bytes()),
                                           "mode": "import"})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not Member.objects.exists()
    assert stored_files(settings) == []


def test_the_upload_page_states_the_limits(cadre_client, settings):
    settings.MEMBERS_IMPORT_MAX_ROWS = 50_000
    settings.MEMBERS_IMPORT_MAX_UNPACKED_MB = 40

    html = cadre_client.get(IMPORTS).content.decode()

    assert "最大 40 MB，最多 50,000 行。" in html
