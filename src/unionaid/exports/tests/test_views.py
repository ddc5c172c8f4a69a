"""The pages: background export from the roster and ledger forms, the job page (polled while it
runs), the download (requester only, 24 hours, journaled) and "my exports"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from unionaid.accounts.models import Assignment
from unionaid.audit.models import AuditEvent
from unionaid.exports.models import ExportJob, ExportJobStatus
from unionaid.exports.tests.support import Kinds, ledger_rows, xlsx_rows

MEMBERS_EXPORT = reverse("members_io:export")
# the roster form's background box is handed on (307) to the exports engine's start page
BACKGROUND_MEMBERS_EXPORT = reverse("exports:start", args=["members"])
LEDGER_EXPORT = reverse("archive:ledger-export")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def background_members_export(client, capture, **data):
    with capture(execute=True):
        return client.post(BACKGROUND_MEMBERS_EXPORT, {"background": "1", "reveal": "0", **data})


def test_the_roster_form_offers_a_background_export(personas):
    html = logged_in(personas.station_cadre).get(reverse("members_io:imports")).content.decode()
    assert 'name="background"' in html
    assert "后台导出（大量数据）" in html
    assert reverse("exports:list") in html


def test_a_background_roster_export_runs_and_its_file_downloads_once_done(
        personas, roll, django_capture_on_commit_callbacks):
    client = logged_in(personas.station_cadre)

    response = background_members_export(client, django_capture_on_commit_callbacks, q="张")

    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("exports:job", args=[job.pk])
    assert job.status == ExportJobStatus.DONE
    assert job.params["q"] == "张"
    page = client.get(response["Location"]).content.decode()
    assert "导出完成：共 2 行" in page
    assert 'hx-trigger="every 1s"' not in page
    assert reverse("exports:download", args=[job.pk]) in page
    download = client.get(reverse("exports:download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Cache-Control"] == "no-store"
    assert download["Content-Disposition"].startswith("attachment")
    rows = xlsx_rows(b"".join(download.streaming_content))
    assert {row[0] for row in rows[1:]} == {"张一", "张二"}
    assert roll["team_a"].id_number not in {cell for row in rows for cell in row}
    job.refresh_from_db()
    assert job.downloaded_at is not None
    event = AuditEvent.objects.get(action="export.download")
    assert event.actor_id == personas.station_cadre.pk
    assert event.target_id == str(job.pk)
    assert event.changes["count"] == 2


def test_the_direct_roster_export_is_unchanged_without_the_background_box(personas, roll):
    response = logged_in(personas.station_cadre).post(MEMBERS_EXPORT, {"reveal": "0"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert not ExportJob.objects.exists()


def test_a_background_roster_export_refuses_an_identifier(personas, roll, people,
                                                         django_capture_on_commit_callbacks):
    client = logged_in(personas.station_cadre)

    response = background_members_export(client, django_capture_on_commit_callbacks,
                                         q=roll["team_a"].id_number)

    assert response.status_code == 400
    assert "不能按身份证号或手机号筛选" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_a_background_roster_export_of_an_out_of_scope_unit_is_not_found(
        personas, roll, union, django_capture_on_commit_callbacks):
    client = logged_in(personas.station_cadre)
    response = background_members_export(client, django_capture_on_commit_callbacks,
                                         unit=union.station_b.pk)
    assert response.status_code == 404
    assert not ExportJob.objects.exists()


def test_a_queued_job_page_polls_its_status(personas, roll, django_capture_on_commit_callbacks):
    client = logged_in(personas.station_cadre)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(BACKGROUND_MEMBERS_EXPORT, {"background": "1", "reveal": "0"})
    job = ExportJob.objects.get()

    page = client.get(reverse("exports:job", args=[job.pk])).content.decode()
    fragment = client.get(reverse("exports:job-status", args=[job.pk])).content.decode()

    assert job.status == ExportJobStatus.QUEUED
    for html in (page, fragment):
        assert 'hx-trigger="every 1s"' in html
        assert reverse("exports:job-status", args=[job.pk]) in html
        assert "排队等待中" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # CSP: no inline script
    assert " style=" not in page
    assert "<style" not in page
    download = client.get(reverse("exports:download", args=[job.pk]))
    assert download.status_code == 409
    assert "导出尚未完成" in download.content.decode()


def test_another_user_can_neither_see_nor_download_a_job(
        personas, roll, django_capture_on_commit_callbacks):
    background_members_export(logged_in(personas.station_cadre), django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    other = logged_in(personas.other_cadre)

    for name in ("exports:job", "exports:job-status", "exports:download"):
        assert other.get(reverse(name, args=[job.pk])).status_code == 404
    assert job.pk not in [j.pk for j in other.get(reverse("exports:list")).context["jobs"]]
    assert not AuditEvent.objects.filter(action="export.download").exists()
    denied = AuditEvent.objects.filter(action="access.denied", actor_id=personas.other_cadre.pk)
    assert denied.count() == 3
    assert {e.target_type for e in denied} == {"exports.exportjob"}


def test_an_expired_job_cannot_be_downloaded(personas, roll, django_capture_on_commit_callbacks):
    client = logged_in(personas.station_cadre)
    background_members_export(client, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    response = client.get(reverse("exports:download", args=[job.pk]))

    assert response.status_code == 410
    assert "导出文件已过期" in response.content.decode()
    assert not AuditEvent.objects.filter(action="export.download").exists()
    page = client.get(reverse("exports:job", args=[job.pk])).content.decode()
    assert reverse("exports:download", args=[job.pk]) not in page
    assert "已过期" in page
    listing = client.get(reverse("exports:list")).content.decode()
    assert "已过期" in listing


def test_a_user_who_lost_the_right_cannot_download(personas, roll,
                                                   django_capture_on_commit_callbacks):
    client = logged_in(personas.station_cadre)
    background_members_export(client, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    Assignment.objects.filter(user=personas.station_cadre).delete()

    response = client.get(reverse("exports:download", args=[job.pk]))

    assert response.status_code == 403
    assert "没有导出这些数据的权限" in response.content.decode()


def test_my_exports_lists_my_last_twenty_jobs(personas):
    mine = [ExportJob.objects.create(kind=Kinds.MEMBERS, created_by=personas.station_cadre,
                                     expires_at=timezone.now()) for _n in range(22)]
    ExportJob.objects.create(kind=Kinds.MEMBERS, created_by=personas.other_cadre,
                             expires_at=timezone.now())

    response = logged_in(personas.station_cadre).get(reverse("exports:list"))

    assert response.status_code == 200
    shown = [job.pk for job in response.context["jobs"]]
    assert shown == [job.pk for job in reversed(mine)][:20]
    assert "职工名册" in response.content.decode()


def test_the_ledger_page_queues_a_background_export(ledger_data,
                                                    django_capture_on_commit_callbacks):
    client = logged_in(ledger_data.cadre_a)
    page = client.get(reverse("archive:ledgers")).content.decode()
    assert 'name="background" value="1"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(LEDGER_EXPORT, {
            "kind": "visits", "start": "2026-01-01", "end": "2026-06-01",
            "unit": ledger_data.union.station_a.pk, "background": "1"})

    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("exports:job", args=[job.pk])
    assert job.kind == Kinds.VISITS_LEDGER
    assert job.status == ExportJobStatus.DONE
    assert job.params["unit_name"] == "甲车务段"
    html = client.get(response["Location"]).content.decode()
    assert "2026-01-01 — 2026-06-01" in html
    download = client.get(reverse("exports:download", args=[job.pk]))
    rows = ledger_rows(b"".join(download.streaming_content))
    assert [row[4] for row in rows[2:]] == ["马春花", "甲车间"]


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"start": "2026-06-01", "end": "2026-01-01"}, 400, "开始日期不能晚于结束日期"),
    ({"start": "2026-01-01", "end": "2026-06-01", "unit": "team_b"}, 400, "选择一个有效的选项"),
])
def test_the_ledger_page_refuses_a_bad_background_export(ledger_data, data, status, message):
    if data.get("unit") == "team_b":
        data = {**data, "unit": ledger_data.union.team_b.pk}
    response = logged_in(ledger_data.cadre_a).post(
        LEDGER_EXPORT, {"kind": "archive", "background": "1", **data})
    assert response.status_code == status
    assert message in response.content.decode()
    assert not ExportJob.objects.exists()
