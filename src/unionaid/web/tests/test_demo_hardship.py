"""The demo's hardship work (``manage.py demo`` with visits): a campaign with pairings, home
and workplace visits with profiles, and an archive spread over categories and states, all made
through the services (so the journal's chain holds)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from unionaid.archive.models import HardshipRecord, Objection, RecordStatus, WatchEntry
from unionaid.audit.services import audit_verify
from unionaid.visits.models import FollowUp, HouseholdProfile, Pairing, Visit, VisitCampaign

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def test_the_demo_runs_a_campaign_and_builds_an_archive_through_the_services():
    out = StringIO()
    call_command("demo", "--members", "400", "--seed", "11", "--applications", "0",
                 "--visits", "90", stdout=out, skip_checks=True)
    output = out.getvalue()
    # a campaign with pairings, home and workplace visits, each home visit with its profile
    campaign = VisitCampaign.objects.get()
    assert Pairing.objects.filter(campaign=campaign, kind="unit").exists()
    assert Pairing.objects.filter(campaign=campaign, kind="household").exists()
    homes = Visit.objects.filter(kind="home")
    assert homes.count() == 90
    assert Visit.objects.filter(kind="workplace").exists()
    assert HouseholdProfile.objects.filter(visit__in=homes).count() == 90
    assert "走访 (visits) 90" in output
    # an archive over the three categories and the states of a record's life
    records = HardshipRecord.objects.all()
    assert set(records.values_list("category", flat=True)) == {"deep", "relative", "sudden"}
    statuses = set(records.values_list("status", flat=True))
    assert {RecordStatus.PENDING, RecordStatus.ACTIVE, RecordStatus.EXITED} <= statuses
    exited = records.filter(status=RecordStatus.EXITED).first()
    assert FollowUp.objects.filter(hardship_record=exited).count() >= 6
    again = records.filter(previous__isnull=False).select_related("previous").get()
    assert again.previous.status == RecordStatus.EXITED  # re-enrolment keeps the history
    assert again.member_id == again.previous.member_id
    assert not records.filter(calculation={}).exists()
    assert Objection.objects.filter(resolved_at__isnull=True).exists()  # one waits in notice
    assert WatchEntry.objects.filter(removed_at__isnull=True).exists()
    # all of it journaled, and the chain holds
    assert list(audit_verify()) == []
