"""The retention purge: records past their source's retention are deleted by the scheduler's
job, the purge journaled; links keep their member and decision, lose the external record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict
from unionaid.matching import jobs, services
from unionaid.matching.models import DatasetStatus, ExternalRecord, Match, MatchStatus
from unionaid.schedules.registry import job_or_none


@pytest.fixture
def expired(union, cadres, make_dataset, make_record, make_match, make_member, tmp_path,
            settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    member = make_member(union.team_a)
    (tmp_path / "matching").mkdir()
    (tmp_path / "matching" / "left.csv").write_text("姓名\n张三\n", encoding="utf-8")
    dataset = make_dataset(union.station_a, cadres.station_a, stored_path="matching/left.csv",
                           purge_after=timezone.now() - dt.timedelta(minutes=1))
    kept = make_match(dataset, make_record(dataset, person=member), member,
                      status=MatchStatus.CONFIRMED)
    pending = make_match(dataset, make_record(dataset, name="李四"), make_member(union.team_a),
                         run=kept.run)
    return dataset, kept, pending, tmp_path / "matching" / "left.csv"


def test_the_job_purges_expired_datasets_and_journals_it(union, cadres, expired, make_dataset,
                                                          make_record):
    dataset, kept, pending, stored = expired
    fresh = make_dataset(union.station_a, cadres.station_a)
    make_record(fresh, name="王五")
    summary = jobs.purge(now=timezone.now())
    assert summary == "清除到期数据 1 批，记录 2 条"
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.PURGED
    assert dataset.purged_at is not None
    assert not ExternalRecord.objects.filter(dataset=dataset).exists()
    assert ExternalRecord.objects.filter(dataset=fresh).count() == 1
    assert not stored.exists()
    kept.refresh_from_db()
    assert kept.record is None
    assert kept.status == MatchStatus.CONFIRMED
    assert not Match.objects.filter(pk=pending.pk).exists()
    event = AuditEvent.objects.get(action="matching.dataset_purge")
    assert event.target_id == str(dataset.pk)
    assert event.changes == {"records": 2, "reason": "retention"}
    # a second run finds nothing more to do
    assert jobs.purge(now=timezone.now()) == "清除到期数据 0 批，记录 0 条"


def test_a_busy_dataset_waits_for_the_next_purge(expired):
    dataset = expired[0]
    dataset.status = DatasetStatus.MATCHING
    dataset.save(update_fields=["status"])
    assert services.datasets_purge_expired()["datasets"] == 0
    assert ExternalRecord.objects.filter(dataset=dataset).count() == 2


def test_a_manager_may_purge_early_once(cadres, expired):
    dataset = expired[0]
    assert services.dataset_purge(actor=cadres.station_a, dataset=dataset) == 2
    assert services.dataset_purge(actor=cadres.station_a, dataset=dataset) == 0
    assert AuditEvent.objects.filter(action="matching.dataset_purge").count() == 1


def test_a_running_dataset_cannot_be_purged_by_hand(cadres, expired):
    dataset = expired[0]
    dataset.status = DatasetStatus.LOADING
    dataset.save(update_fields=["status"])
    with pytest.raises(Conflict):
        services.dataset_purge(actor=cadres.station_a, dataset=dataset)


def test_the_purge_is_registered_with_the_scheduler():
    job = job_or_none("matching.purge")
    assert job is not None
    assert job.func is jobs.purge


def test_an_upload_never_imported_is_purged_with_its_file_when_due(cadres, source, union,
                                                                    private_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    dataset = services.dataset_upload(
        actor=cadres.station_a, source=source, org_unit=union.station_a,
        upload=SimpleUploadedFile("a.csv", "姓名\n张三\n".encode()), enqueue=False)
    stored = private_root / dataset.stored_path
    assert stored.exists()
    assert services.datasets_purge_expired()["datasets"] == 0
    later = timezone.now() + dt.timedelta(days=source.retention_days, minutes=1)
    assert services.datasets_purge_expired(now=later)["datasets"] == 1
    assert not stored.exists()
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.PURGED
