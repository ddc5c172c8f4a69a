"""A toy export kind, registered by this test only, goes through the engine end to end without
any engine code knowing it: started from the generic start page, run by the task as the user,
described on the job page, downloaded. Unknown kinds are refused (``unknown_kind``), and a job
whose kind is no longer registered is not found."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import ServiceError
from unionaid.exports import kinds
from unionaid.exports.models import ExportJob, ExportJobStatus
from unionaid.exports.services import export_job_create
from unionaid.exports.tests.support import Kinds
from unionaid.members import exporting

TOY = "toy_wishes"


class ToyResult:
    def __init__(self, count):
        self.count, self.revealed_count, self.download_name = count, 0, "心愿清单.txt"


def _clean(*, actor, params):
    unit = kinds.unit_param(actor, exporting.PERM, params.get("unit"))
    colour = str(params.get("q") or "红")
    if colour not in ("红", "蓝"):
        raise ServiceError("只有红色和蓝色的心愿", code="bad_colour", fields={"q": "只有红蓝"})
    return {"unit": unit.pk if unit else None, "unit_name": unit.name if unit else "",
            "q": colour, "reveal": False}, unit


def _write(*, actor, unit, params, path, progress):
    lines = [f"{params['q']}色心愿 {n} · {actor.username}" for n in range(3)]
    path.write_text("\n".join(lines), encoding="utf-8")
    progress(3, 3)
    return ToyResult(3)


@pytest.fixture
def toy():
    kind = kinds.ExportKind(
        kind=TOY, title="心愿清单", permission=exporting.PERM, reveal_permission="",
        clean=_clean, write=_write, describe=lambda params: [("颜色", params["q"])])
    kinds.register(kind)
    yield kind
    kinds.unregister(TOY)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_toy_kind_starts_runs_shows_and_downloads(
        toy, personas, roll, django_capture_on_commit_callbacks):
    client = _client(personas.station_cadre)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exports:start", args=[TOY]), {"q": "蓝"})
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("exports:job", args=[job.pk])
    assert (job.kind, job.status, job.row_count, job.params["q"]) == (
        TOY, ExportJobStatus.DONE, 3, "蓝")
    page = client.get(response["Location"]).content.decode()
    assert "后台导出：心愿清单" in page
    assert "蓝" in page
    download = client.get(reverse("exports:download", args=[job.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode().splitlines() == [
        "蓝色心愿 0 · station_cadre", "蓝色心愿 1 · station_cadre",
        "蓝色心愿 2 · station_cadre"]
    assert AuditEvent.objects.get(action="export.download").changes["kind"] == TOY
    refused = client.post(reverse("exports:start", args=[TOY]), {"q": "绿"})
    assert refused.status_code == 400
    assert "只有红色和蓝色的心愿" in refused.content.decode()


def test_an_unknown_kind_is_refused(personas, roll, as_token):
    with pytest.raises(ServiceError) as exc:
        export_job_create(actor=personas.station_cadre, kind=TOY, params={})
    assert exc.value.code == "unknown_kind"
    response = as_token(personas.station_cadre).post("/exports", {"kind": TOY})
    assert (response.status_code, response.json()["code"]) == (422, "unknown_kind")
    page = _client(personas.station_cadre).post(reverse("exports:start", args=[TOY]))
    assert page.status_code == 404
    assert not ExportJob.objects.exists()
    job = ExportJob(kind=TOY, created_by=personas.station_cadre, expires_at="2026-01-01T00:00Z")
    with pytest.raises(ValidationError, match="不支持的导出内容"):
        job.full_clean()


def test_the_download_of_a_job_whose_kind_is_gone_is_not_found(
        toy, personas, roll, as_token, django_capture_on_commit_callbacks):
    client = _client(personas.station_cadre)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exports:start", args=[TOY]), {})
    job = ExportJob.objects.get()
    assert job.status == ExportJobStatus.DONE
    kinds.unregister(TOY)
    assert client.get(reverse("exports:download", args=[job.pk])).status_code == 404
    assert as_token(personas.station_cadre).get(
        f"/exports/{job.pk}/download").status_code == 404
    assert not AuditEvent.objects.filter(action="export.download").exists()
    job_page = client.get(reverse("exports:job", args=[job.pk]))
    assert job_page.status_code == 200  # the requester still sees that it was made
    assert TOY in job_page.content.decode()


def test_the_roster_forms_background_box_is_handed_on_to_the_exports_start_page(
        personas, roll):
    response = _client(personas.station_cadre).post(
        reverse("members_io:export"), {"background": "1", "reveal": "0", "q": "张"})
    assert response.status_code == 307  # the browser posts the same form there
    assert response["Location"] == reverse("exports:start", args=[Kinds.MEMBERS])
    assert not ExportJob.objects.exists()
