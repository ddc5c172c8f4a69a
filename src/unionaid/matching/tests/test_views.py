"""The matching pages through the HTTP client: lists, upload, progress fragment, run results,
review with confirm/reject; a cadre of another unit gets 404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from unionaid.matching.models import Dataset, MatchStatus, PairDecision


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reviewed(union, cadres, make_dataset, make_record, make_match, make_member):
    member = make_member(union.team_a)
    dataset = make_dataset(union.station_a, cadres.station_a, title="十一月低保名单")
    record = make_record(dataset, person=member, phone="16512345678")
    return dataset, make_match(dataset, record, member), member


def test_the_menu_shows_matching_to_those_who_may_see_it(cadres, personas):
    assert "/matching/" in _client(cadres.station_a).get("/").content.decode()
    assert "/matching/" not in _client(personas.team_cadre).get("/").content.decode()


def test_the_dataset_list_shows_the_units_datasets_and_the_upload_form(cadres, reviewed):
    response = _client(cadres.station_a).get("/matching/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "十一月低保名单" in body
    assert 'name="file"' in body
    other = _client(cadres.station_b).get("/matching/").content.decode()
    assert "十一月低保名单" not in other


def test_a_viewer_sees_the_list_without_the_upload_form_and_cannot_post(cadres, reviewed,
                                                                        source, union):
    client = _client(cadres.viewer_a)
    assert 'name="file"' not in client.get("/matching/").content.decode()
    upload = SimpleUploadedFile("a.csv", "姓名\n张三\n".encode())
    response = client.post("/matching/", {"source": source.pk, "org_unit": union.station_a.pk,
                                          "file": upload, "mode": "check"})
    assert response.status_code == 404


def test_an_upload_creates_a_dataset_and_shows_its_page(cadres, source, union, tmp_path,
                                                        settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("dibao.csv", "姓名,身份证号\n张三,\n".encode())
    response = _client(cadres.station_a).post("/matching/", {
        "source": source.pk, "org_unit": union.station_a.pk, "title": "", "file": upload,
        "mode": "check"})
    dataset = Dataset.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/matching/datasets/{dataset.pk}/"
    assert (dataset.org_unit, dataset.title, dataset.uploaded_by) == (
        union.station_a, "dibao.csv", cadres.station_a)
    assert (tmp_path / dataset.stored_path).exists()


def test_an_upload_of_the_wrong_kind_of_file_is_refused_on_the_form(cadres, source, union):
    upload = SimpleUploadedFile("dibao.pdf", b"%PDF-1.4")
    response = _client(cadres.station_a).post("/matching/", {
        "source": source.pk, "org_unit": union.station_a.pk, "file": upload, "mode": "check"})
    assert response.status_code == 400
    assert "只支持 .xlsx、.xls 和 .csv 文件" in response.content.decode()
    assert not Dataset.objects.exists()


def test_the_dataset_page_and_its_polled_fragment(cadres, reviewed):
    dataset = reviewed[0]
    client = _client(cadres.station_a)
    page = client.get(f"/matching/datasets/{dataset.pk}/")
    assert page.status_code == 200
    assert "十一月低保名单" in page.content.decode()
    Dataset.objects.filter(pk=dataset.pk).update(status="loading", done=500, total=1000)
    fragment = client.get(f"/matching/datasets/{dataset.pk}/status/").content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert "500 / 1000（50%）" in fragment


def test_a_cadre_of_another_unit_gets_404_on_every_page(cadres, reviewed):
    dataset, match, _member = reviewed
    client = _client(cadres.station_b)
    for url in (f"/matching/datasets/{dataset.pk}/", f"/matching/datasets/{dataset.pk}/status/",
                f"/matching/runs/{match.run_id}/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/matching/matches/{match.pk}/decide/",
                       {"decision": "confirmed"}).status_code == 404
    assert client.post(f"/matching/datasets/{dataset.pk}/purge/").status_code == 404
    assert not PairDecision.objects.exists()


def test_the_run_page_lists_matches_with_masked_numbers(cadres, reviewed):
    _dataset, match, member = reviewed
    body = _client(cadres.station_a).get(f"/matching/runs/{match.run_id}/").content.decode()
    assert member.name in body
    assert member.id_number not in body
    assert member.id_number_masked in body
    assert "16512345678" not in body


def test_the_review_queue_confirms_through_htmx(cadres, reviewed):
    _dataset, match, _member = reviewed
    client = _client(cadres.station_a)
    queue = client.get("/matching/review/").content.decode()
    assert f'id="match-{match.pk}"' in queue
    response = client.post(f"/matching/matches/{match.pk}/decide/", {"decision": "confirmed"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "已确认" in response.content.decode()
    match.refresh_from_db()
    assert match.status == MatchStatus.CONFIRMED
    assert PairDecision.objects.get().decision == "confirmed"
    assert f'id="match-{match.pk}"' not in client.get("/matching/review/").content.decode()


def test_a_plain_form_rejects_and_returns_to_the_queue(cadres, reviewed):
    match = reviewed[1]
    response = _client(cadres.station_a).post(f"/matching/matches/{match.pk}/decide/",
                                              {"decision": "rejected", "next": "//evil.test/"})
    assert response.status_code == 302
    assert response["Location"] == "/matching/review/"
    match.refresh_from_db()
    assert match.status == MatchStatus.REJECTED


def test_sources_page_and_a_new_source(cadres, source, union):
    client = _client(cadres.bureau)
    assert "民政局低保名单" in client.get("/matching/sources/").content.decode()
    assert client.get("/matching/sources/new/").status_code == 200
    edit = client.get(f"/matching/sources/{source.pk}/").content.decode()
    assert 'value="民政局低保名单"' in edit
    response = client.post("/matching/sources/new/", {
        "kind": "admission", "name": "教育局录取名单", "org_unit": union.bureau.pk,
        "retention_days": 120, "column_mapping": "考生姓名=name\n证件号=id_number",
        "is_active": "on"})
    assert response.status_code == 302
    from unionaid.matching.models import Source

    created = Source.objects.get(name="教育局录取名单")
    assert created.column_mapping == {"考生姓名": "name", "证件号": "id_number"}
    assert _client(cadres.station_a).get("/matching/sources/new/").status_code == 404


def test_the_member_page_names_the_lists_the_worker_is_on(cadres, reviewed):
    _dataset, match, member = reviewed
    client = _client(cadres.station_a)
    assert "summary-matching" not in client.get(f"/members/{member.pk}/").content.decode()
    match.status = MatchStatus.CONFIRMED
    match.save(update_fields=["status"])
    body = client.get(f"/members/{member.pk}/").content.decode()
    assert 'id="summary-matching"' in body
    assert "十一月低保名单" in body


def test_starting_a_run_from_the_dataset_page(cadres, union, make_dataset, make_record,
                                              make_member):
    member = make_member(union.team_a)
    dataset = make_dataset(union.station_a, cadres.station_a)
    make_record(dataset, person=member)
    client = _client(cadres.station_a)
    page = client.get(f"/matching/datasets/{dataset.pk}/").content.decode()
    assert f'action="/matching/datasets/{dataset.pk}/run/"' in page
    response = client.post(f"/matching/datasets/{dataset.pk}/run/")
    run = dataset.runs.get()
    assert response["Location"] == f"/matching/runs/{run.pk}/"
    assert 'hx-trigger="every 1s"' in client.get(f"/matching/runs/{run.pk}/").content.decode()
    # a second start while the first is queued: the message, back on the dataset page
    again = client.post(f"/matching/datasets/{dataset.pk}/run/")
    assert again["Location"] == f"/matching/datasets/{dataset.pk}/"
    assert dataset.runs.count() == 1
    assert _client(cadres.viewer_a).post(
        f"/matching/datasets/{dataset.pk}/run/").status_code == 302
    assert dataset.runs.count() == 1
