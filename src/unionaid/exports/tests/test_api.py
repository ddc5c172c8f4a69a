"""/api/v1/exports: create, poll, download; requester only; expired is 410."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from unionaid.audit.models import AuditEvent
from unionaid.exports.models import ExportJob, ExportJobStatus
from unionaid.exports.tests.support import ledger_rows, xlsx_rows


def test_create_poll_and_download_a_roster_export(
        personas, roll, as_token, django_capture_on_commit_callbacks):
    api = as_token(personas.station_cadre)

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/exports", {"kind": "members", "q": "张"})

    assert created.status_code == 201, created.content
    body = created.json()
    job = ExportJob.objects.get()
    assert body["id"] == job.pk
    assert body["status"] == "queued"  # as answered: the task ran on commit, after
    assert body["status_url"] == f"/api/v1/exports/{job.pk}"
    status = api.get(f"/exports/{job.pk}").json()
    assert status["status"] == "done"
    assert status["row_count"] == 2
    assert status["expired"] is False
    assert status["download_url"] == f"/api/v1/exports/{job.pk}/download"
    download = api.get(f"/exports/{job.pk}/download")
    assert download.status_code == 200
    assert download["Cache-Control"] == "no-store"
    rows = xlsx_rows(b"".join(download.streaming_content))
    assert {row[0] for row in rows[1:]} == {"张一", "张二"}
    assert AuditEvent.objects.filter(action="export.job_create").count() == 1
    assert AuditEvent.objects.filter(action="export.download").count() == 1
    listed = api.get("/exports").json()
    assert [item["id"] for item in listed] == [job.pk]


def test_create_a_ledger_export(ledger_data, as_session, django_capture_on_commit_callbacks):
    api = as_session(ledger_data.cadre_a)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/exports", {"kind": "archive_ledger", "start": "2026-01-01",
                                        "end": "2026-06-01"})
    assert created.status_code == 201, created.content
    job = ExportJob.objects.get()
    assert job.status == ExportJobStatus.DONE
    rows = ledger_rows(b"".join(api.get(f"/exports/{job.pk}/download").streaming_content))
    assert {row[2] for row in rows[2:]} == {"马春花", "刘德明"}


def test_the_api_refuses_what_the_service_refuses(personas, roll, union, as_token, ledger_data):
    api = as_token(personas.station_cadre)

    identifier = api.post("/exports", {"kind": "members", "q": roll["team_a"].id_number})
    out_of_scope = api.post("/exports", {"kind": "members", "unit_id": union.station_b.pk})
    no_right = api.post("/exports", {"kind": "visits_ledger", "start": "2026-01-01",
                                     "end": "2026-06-01"})
    bad_kind = api.post("/exports", {"kind": "funds"})
    no_dates = as_token(ledger_data.cadre_a).post("/exports", {"kind": "visits_ledger"})

    assert identifier.status_code == 400
    assert identifier.json()["code"] == "identifier_in_query"
    assert out_of_scope.status_code == 404
    assert no_right.status_code == 403
    assert bad_kind.status_code == 422
    assert no_dates.status_code == 400
    assert no_dates.json()["code"] == "invalid_period"
    assert not ExportJob.objects.exists()


def test_another_user_gets_404_and_an_expired_job_410(
        personas, roll, as_token, django_capture_on_commit_callbacks):
    owner = as_token(personas.station_cadre)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = owner.post("/exports", {"kind": "members"}).json()["id"]
    other = as_token(personas.other_cadre)

    assert other.get(f"/exports/{job_id}").status_code == 404
    assert other.get(f"/exports/{job_id}/download").status_code == 404
    assert other.get("/exports").json() == []

    ExportJob.objects.filter(pk=job_id).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    expired = owner.get(f"/exports/{job_id}/download")
    assert expired.status_code == 410
    assert expired.json()["code"] == "expired"
    assert "已过期" in expired.json()["message"]
    status = owner.get(f"/exports/{job_id}").json()
    assert status["expired"] is True
    assert status["download_url"] is None
    assert not AuditEvent.objects.filter(action="export.download").exists()


def test_a_third_export_at_once_is_409(personas, roll, as_token,
                                       django_capture_on_commit_callbacks):
    api = as_token(personas.station_cadre)
    with django_capture_on_commit_callbacks(execute=False):
        for _n in range(2):
            assert api.post("/exports", {"kind": "members"}).status_code == 201

    refused = api.post("/exports", {"kind": "members"})

    assert refused.status_code == 409
    assert refused.json()["code"] == "too_many_exports"
    assert ExportJob.objects.count() == 2
