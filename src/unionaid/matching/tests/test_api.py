"""/api/v1/matching through the HTTP client: lists in scope, 404 for another unit, errors with
codes, upload, runs, review decisions."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from unionaid.matching.models import Dataset, MatchStatus, PairDecision


@pytest.fixture
def reviewed(union, cadres, make_dataset, make_record, make_match, make_member):
    member = make_member(union.team_a)
    dataset = make_dataset(union.station_a, cadres.station_a, title="十一月低保名单")
    record = make_record(dataset, person=member, phone="16512345678")
    return dataset, make_match(dataset, record, member), member


def test_datasets_are_listed_in_scope_with_keyset_paging(cadres, reviewed, as_token):
    body = as_token(cadres.station_a).get("/matching/datasets?limit=1").json()
    assert [d["title"] for d in body["items"]] == ["十一月低保名单"]
    assert body["next_cursor"] is None
    assert as_token(cadres.station_b).get("/matching/datasets").json()["items"] == []


def test_another_units_cadre_gets_not_found_with_its_code(cadres, reviewed, as_token):
    dataset, match, _member = reviewed
    api = as_token(cadres.station_b)
    for path in (f"/matching/datasets/{dataset.pk}", f"/matching/runs/{match.run_id}",
                 f"/matching/matches/{match.pk}", f"/matching/runs/{match.run_id}/matches"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    response = api.post(f"/matching/matches/{match.pk}/decision", {"decision": "confirmed"})
    assert response.status_code == 404
    assert not PairDecision.objects.exists()


def test_a_match_shows_masked_numbers_and_its_reason(cadres, reviewed, as_token):
    _dataset, match, member = reviewed
    body = as_token(cadres.station_a).get(f"/matching/matches/{match.pk}").json()
    assert body["member_name"] == member.name
    assert body["record"]["id_number_masked"] == member.id_number_masked
    assert "16512345678" not in str(body)
    assert member.id_number not in str(body)
    assert body["reason"] == "姓名、出生日期一致；电话不同"


def test_review_queue_and_decision(cadres, reviewed, as_token):
    _dataset, match, _member = reviewed
    api = as_token(cadres.station_a)
    assert [m["id"] for m in api.get("/matching/review").json()["items"]] == [match.pk]
    response = api.post(f"/matching/matches/{match.pk}/decision", {"decision": "rejected"})
    assert response.status_code == 200
    assert response.json()["status"] == MatchStatus.REJECTED
    assert api.get("/matching/review").json()["items"] == []
    conflict = api.post(f"/matching/matches/{match.pk}/decision", {"decision": "confirmed"})
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "already_decided"
    invalid = api.post(f"/matching/matches/{match.pk}/decision", {"decision": "maybe"})
    assert invalid.status_code == 422


def test_a_viewer_cannot_decide_or_see_the_review_queue(cadres, reviewed, as_token):
    match = reviewed[1]
    api = as_token(cadres.viewer_a)
    assert api.get("/matching/review").status_code == 404
    response = api.post(f"/matching/matches/{match.pk}/decision", {"decision": "confirmed"})
    assert response.status_code == 404


def test_starting_a_run_twice_conflicts(cadres, reviewed, as_token):
    dataset = reviewed[0]
    api = as_token(cadres.station_a)
    Dataset.objects.filter(pk=dataset.pk).update(status="loaded")
    first = api.post(f"/matching/datasets/{dataset.pk}/runs")
    assert first.status_code == 202
    assert first.json()["status"] == "queued"
    again = api.post(f"/matching/datasets/{dataset.pk}/runs")
    assert again.status_code == 409
    assert again.json()["code"] == "run_in_progress"
    runs = api.get(f"/matching/datasets/{dataset.pk}/runs").json()
    assert runs[0]["id"] == first.json()["id"]


def test_upload_through_the_api(cadres, source, union, tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    client = Client()
    client.force_login(cadres.station_a)
    upload = SimpleUploadedFile("dibao.csv", "姓名,身份证号\n张三,\n".encode())
    response = client.post("/api/v1/matching/datasets", {
        "file": upload, "source_id": source.pk, "org_unit_id": union.station_a.pk,
        "title": "API 上传", "dry_run": "true"})
    assert response.status_code == 202
    assert response.json()["title"] == "API 上传"
    other = client.post("/api/v1/matching/datasets", {
        "file": SimpleUploadedFile("x.csv", b"a"), "source_id": source.pk,
        "org_unit_id": union.station_b.pk})
    assert other.status_code == 404
    assert Dataset.objects.count() == 1


def test_sources_are_listed(cadres, source, as_token):
    body = as_token(cadres.station_a).get("/matching/sources").json()
    assert [s["name"] for s in body] == ["民政局低保名单"]


def test_dataset_and_run_actions_through_the_api(cadres, reviewed, as_token):
    dataset, match, _member = reviewed
    api = as_token(cadres.station_a)
    # a finished run cannot be cancelled; a done one cannot be retried
    cancel = api.post(f"/matching/runs/{match.run_id}/cancel")
    assert cancel.status_code == 409
    assert cancel.json()["code"] == "run_finished"
    assert api.post(f"/matching/runs/{match.run_id}/retry").json()["code"] == "not_retryable"
    # loaded data is neither confirmable nor cancellable, but may be purged (once)
    assert api.post(f"/matching/datasets/{dataset.pk}/confirm").json()["code"] == (
        "not_confirmable")
    assert api.post(f"/matching/datasets/{dataset.pk}/cancel").status_code == 409
    purged = api.post(f"/matching/datasets/{dataset.pk}/purge")
    assert purged.status_code == 200
    assert purged.json()["status"] == "purged"
    assert as_token(cadres.station_b).post(
        f"/matching/datasets/{dataset.pk}/purge").status_code == 404
    assert as_token(cadres.viewer_a).post(
        f"/matching/datasets/{dataset.pk}/purge").status_code == 403


def test_sources_are_created_and_changed_by_config_holders_only(cadres, union, source,
                                                                 as_token):
    body = {"kind": "admission", "name": "教育局录取名单", "org_unit_id": union.bureau.pk,
            "retention_days": 120, "column_mapping": {"考生姓名": "name"}}
    assert as_token(cadres.station_a).post("/matching/sources", body).status_code == 404
    admin = as_token(cadres.bureau)
    created = admin.post("/matching/sources", body)
    assert created.status_code == 201
    assert created.json()["column_mapping"] == {"考生姓名": "name"}
    bad = admin.post("/matching/sources", {**body, "column_mapping": {"考生姓名": "salary"}})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_mapping"
    changed = admin.put(f"/matching/sources/{source.pk}", {**body, "name": "低保（民政）",
                                                          "kind": "dibao", "is_active": False})
    assert changed.status_code == 200
    assert changed.json()["is_active"] is False
