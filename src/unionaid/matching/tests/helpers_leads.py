"""Set-up for the lead tests (import the fixtures into a test module): a cadre with the rights
to handle leads in 站段 A (and one in 站段 B), the default catalog, the archive's flows and 低保
line (``archive.tests.helpers_records``), and ``matched(kind, member, extra)``, which makes a
loaded list of that kind with one matched row."""


from __future__ import annotations

import json

import pytest
from django.utils import timezone

from conftest import make_role, make_staff
from unionaid.archive.services.records import record_enrol
from unionaid.archive.tests.helpers_records import (
    approve_all,
    archive,
    clock,
    people,
    record_profile,
)
from unionaid.assistance.services.catalog_load import catalog_load_defaults
from unionaid.matching.models import Dataset, DatasetStatus, MatchStatus, Source

LEAD_PERMS = ["org.view", "members.view", "members.change", "matching.view", "matching.manage",
              "matching.review", "assistance.view", "assistance.apply", "visits.view",
              "visits.record", "archive.view", "archive.manage"]


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def world(union, archive, cadres):
    catalog_load_defaults(actor=None)
    role = make_role("lead_cadre", LEAD_PERMS)
    return {"union": union, "archive": archive, "cadres": cadres,
            "lead_a": make_staff("lead_a", union.station_a, [role], "线索干事"),
            "lead_b": make_staff("lead_b", union.station_b, [role], "线索干事")}


@pytest.fixture
def matched(world, make_record, make_match):
    """``matched(kind, member, extra)``: a loaded list of ``kind`` with one row for ``member``
    carrying ``extra`` (the list's own columns), matched confidently; returns the match."""
    sources: dict[str, Source] = {}

    def _make(kind, member, extra, *, status=MatchStatus.MATCHED, dataset=None, title=None):
        union, user = world["union"], world["cadres"].bureau
        if dataset is None:
            source = sources.get(kind) or Source.objects.create(
                kind=kind, name=f"{kind} 名单", org_unit=union.bureau)
            sources[kind] = source
            dataset = Dataset.objects.create(
                source=source, org_unit=union.bureau, title=title or f"2026年{kind}名单",
                file_name="list.csv", status=DatasetStatus.LOADED, uploaded_by=user,
                loaded_at=timezone.now())
        record = make_record(dataset, person=member,
                             extra=json.dumps(extra, ensure_ascii=False))
        return make_match(dataset, record, member, status=status, score=0.99)

    return _make


def archived(world, member, clock):
    archive = world["archive"]
    record_profile(archive, member, monthly="900")
    record = record_enrol(actor=archive.filer, member=member)
    return approve_all(archive, record, clock)



__all__ = ["archive", "archived", "clock", "matched", "people", "record_profile", "world"]
