"""Set-up for the matching tests: cadres with the matching rights at 站段 A (unit and below)
and 站段 B, a bureau-level manager, a source, and builders that make datasets, records, runs
and matches directly (the engines — files, normalise, linkage — are tested on their own)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from conftest import make_role, make_staff
from unionaid.matching.loading import person_key_for
from unionaid.matching.models import (
    Dataset,
    DatasetStatus,
    ExternalRecord,
    Match,
    MatchRun,
    MatchStatus,
    RunStatus,
    Source,
)
from unionaid.members.selectors import id_number_hash

MATCHING_PERMS = ["org.view", "members.view", "matching.view", "matching.manage",
                  "matching.review"]


@dataclass
class Cadres:
    station_a: object  # 站段 A, unit and below: view, manage, review
    station_b: object  # 站段 B, the same rights there
    bureau: object  # 路局: everything, config included
    viewer_a: object  # 站段 A: view only


@pytest.fixture
def cadres(union) -> Cadres:
    role = make_role("matcher", MATCHING_PERMS)
    admin = make_role("matching-admin", [*MATCHING_PERMS, "matching.config"])
    viewer = make_role("matching-viewer", ["org.view", "members.view", "matching.view"])
    return Cadres(
        station_a=make_staff("match_a", union.station_a, [role]),
        station_b=make_staff("match_b", union.station_b, [role]),
        bureau=make_staff("match_bureau", union.bureau, [admin]),
        viewer_a=make_staff("match_viewer_a", union.station_a, [viewer]),
    )


@pytest.fixture
def source(union) -> Source:
    return Source.objects.create(kind="dibao", name="民政局低保名单", org_unit=union.bureau,
                                 retention_days=90)


@pytest.fixture
def make_dataset(source):
    def _make(unit, user, *, status=DatasetStatus.LOADED, **fields) -> Dataset:
        values = {"title": "低保名单", "file_name": "dibao.csv", "status": status,
                  "uploaded_by": user, "org_unit": unit, "source": source}
        if status == DatasetStatus.LOADED:
            values.update(loaded_at=timezone.now(),
                          purge_after=timezone.now() + dt.timedelta(days=90))
        values.update(fields)
        return Dataset.objects.create(**values)

    return _make


@pytest.fixture
def make_record():
    counter = {"row": 0}

    def _make(dataset, *, person=None, **fields) -> ExternalRecord:
        counter["row"] += 1
        values = {"row_no": counter["row"], "name": "", "id_number": ""}
        if person is not None:
            values.update(name=person.name if hasattr(person, "name") else person["name"],
                          id_number=getattr(person, "id_number", None) or person["id_number"])
        values.update(fields)
        if values["id_number"]:
            values["id_hash"] = id_number_hash(values["id_number"])
            values["id_ok"] = True
        values.setdefault("person_key", person_key_for(
            id18=values["id_number"] or None, name=values["name"],
            birth=values.get("birth_date"), phone=values.get("phone")))
        return ExternalRecord.objects.create(dataset=dataset, **values)

    return _make


@pytest.fixture
def make_match():
    def _make(dataset, record, member, *, status=MatchStatus.REVIEW, run=None, score=0.8,
              current=True) -> Match:
        if run is None:
            run = MatchRun.objects.create(dataset=dataset, started_by=dataset.uploaded_by,
                                          status=RunStatus.DONE)
        if current:
            Dataset.objects.filter(pk=dataset.pk).update(current_run=run,
                                                         status=DatasetStatus.MATCHED)
            dataset.refresh_from_db()
        return Match.objects.create(run=run, dataset=dataset, record=record, member=member,
                                    score=score, method="probabilistic", status=status,
                                    reason="姓名、出生日期一致；电话不同")

    return _make


@pytest.fixture(autouse=True)
def _private_media_root(tmp_path_factory, settings):
    """Temporary copies of lists (``storage.tmp_dir``) go under PRIVATE_MEDIA_ROOT: a private
    one per test, never the project's var/."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path_factory.mktemp("private")


@pytest.fixture
def private_root(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return tmp_path
