"""Recording a visit through ``visit_submit``: one transaction, idempotent by the draft's
client_uuid, scoped, consent before sensitive data, nothing half-written."""
# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, NotFound, ServiceError
from unionaid.members.models import Consent, ConsentKind
from unionaid.members.services import consent_grant
from unionaid.visits.models import (
    CampaignStatus,
    FollowUp,
    HouseholdProfile,
    Pairing,
    PairingKind,
    Visit,
    VisitCampaign,
    VisitNeed,
    VisitPhoto,
)
from unionaid.visits.services import visits as visit_services
from unionaid.visits.services.profiles import profile_data

from .helpers_records import (  # noqa: F401
    healthy,
    household,
    new_uuid,
    private_media,
    rec,
    today,
    visit_data,
)


def submit(actor, data, key=None, photos=()):
    return visit_services.visit_submit(actor=actor, client_uuid=key or new_uuid(), data=data,
                                       photos=photos)


def nothing_written():
    return (Visit.objects.count(), HouseholdProfile.objects.count(), VisitNeed.objects.count(),
            FollowUp.objects.count(), Consent.objects.count(),
            AuditEvent.objects.filter(action__in=["visit.record", "profile.record",
                                                  "consent.grant"]).count()) == (0,) * 6


def test_a_draft_submitted_twice_creates_one_visit(rec):
    key = new_uuid()
    first, created = submit(rec.visitor_a, visit_data(rec.member), key)
    again, created_again = submit(rec.visitor_a, visit_data(rec.member), key)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Visit.objects.count() == 1
    assert HouseholdProfile.objects.count() == 1
    assert VisitNeed.objects.count() == 1
    assert Consent.objects.filter(kind=ConsentKind.HEALTH).count() == 1
    assert AuditEvent.objects.filter(action="visit.record").count() == 1


def test_a_racing_duplicate_returns_the_winner(rec, monkeypatch):
    """Two submits of one draft at once: both miss the first lookup; the unique client_uuid
    lets one insert win, the other returns the winner instead of failing."""
    key = new_uuid()
    winner, _ = submit(rec.visitor_a, visit_data(rec.member), key)
    real = visit_services.find_by_client_uuid
    calls = []

    def miss_first(k):
        calls.append(k)
        return None if len(calls) == 1 else real(k)

    monkeypatch.setattr(visit_services, "find_by_client_uuid", miss_first)
    loser, created = submit(rec.visitor_a, visit_data(rec.member), key)
    assert created is False
    assert loser.pk == winner.pk
    assert len(calls) == 2
    assert Visit.objects.count() == 1
    assert HouseholdProfile.objects.count() == 1


def test_the_same_draft_from_another_cadre_is_a_conflict(rec):
    key = new_uuid()
    submit(rec.visitor_a, visit_data(rec.member), key)
    with pytest.raises(Conflict) as exc:
        submit(rec.team_visitor, visit_data(rec.member), key)
    assert exc.value.code == "client_uuid_conflict"
    assert Visit.objects.count() == 1


def test_the_same_draft_for_another_member_is_a_conflict(rec, make_member):
    key = new_uuid()
    submit(rec.visitor_a, visit_data(rec.member), key)
    other = make_member(rec.union.team_a)
    with pytest.raises(Conflict) as exc:
        submit(rec.visitor_a, visit_data(other), key)
    assert "另一位职工" in exc.value.message
    assert Visit.objects.count() == 1


def test_a_visit_writes_everything_in_one_step(rec):
    owner_due = (today() + dt.timedelta(days=7)).isoformat()
    data = visit_data(rec.member, follow_ups=[{"title": "联系医院减免", "due_on": owner_due}])
    visit, created = submit(rec.visitor_a, data)
    assert created
    assert visit.org_unit == rec.member.org_unit
    assert visit.recorded_by == rec.visitor_a
    profile = HouseholdProfile.objects.get(visit=visit)
    assert profile.taken_on == visit.visited_on
    assert profile.household_size == 3
    assert profile.per_capita_monthly == Decimal("166.67")
    assert profile_data(profile)["health"]["note"] == "配偶尿毒症，每周透析"
    consent = Consent.objects.get(member=rec.member)
    assert (consent.kind, consent.method, consent.recorded_by) == (
        ConsentKind.HEALTH, "书面签字", rec.visitor_a)
    need = visit.needs.get()
    assert (need.kind, need.status) == ("money", "open")
    follow_up = FollowUp.objects.get(visit=visit)
    assert (follow_up.owner, follow_up.member, follow_up.due_on.isoformat()) == (
        rec.visitor_a, rec.member, owner_due)
    event = AuditEvent.objects.get(action="visit.record")
    assert event.changes["profile"] == profile.pk
    assert event.changes["needs"] == ["money"]
    assert event.changes["consents"] == ["health"]
    assert "王建国" not in str(event.changes)  # the journal keeps no household details
    assert event.org_unit_path == rec.member.org_unit.path


def test_health_data_needs_the_members_consent(rec):
    data = visit_data(rec.member, consent={"health": False})
    with pytest.raises(ServiceError) as exc:
        submit(rec.visitor_a, data)
    assert "consent.health" in exc.value.fields
    assert "健康信息" in exc.value.message
    assert nothing_written()


def test_consent_given_earlier_is_enough_and_not_recorded_twice(rec):
    consent_grant(actor=rec.visitor_a, member=rec.member, kind=ConsentKind.HEALTH)
    submit(rec.visitor_a, visit_data(rec.member, consent={"health": True}))
    assert Consent.objects.filter(member=rec.member, kind=ConsentKind.HEALTH).count() == 1


def test_a_child_under_14_needs_the_children_consent(rec):
    profile = healthy(household=[
        {"name": "赵六", "relation": "self", "age": 40},
        {"name": "赵小六", "relation": "child", "age": 9, "schooling": "primary"}])
    with pytest.raises(ServiceError) as exc:
        submit(rec.visitor_a, visit_data(rec.member, profile=profile, consent={}))
    assert "consent.children" in exc.value.fields
    assert nothing_written()
    visit, _ = submit(rec.visitor_a, visit_data(rec.member, profile=profile,
                                                consent={"children": True, "method": "书面签字"}))
    assert visit.profile.children_in_school == 1
    assert Consent.objects.filter(kind=ConsentKind.CHILDREN).count() == 1


@pytest.mark.parametrize(("change", "field"), [
    # dates as callables: worked out when the test runs, not when it is collected (a run that
    # crosses midnight, Beijing time, would otherwise send "tomorrow" as today)
    ({"visited_on": lambda: (today() + dt.timedelta(days=1)).isoformat()}, "visited_on"),
    ({"visited_on": "2026-13-01"}, "visited_on"),
    ({"visitors": ""}, "visitors"),
    ({"satisfaction": 9}, "satisfaction"),
    ({"profile": None}, "profile"),
    ({"profile": household(incomes=[{"source": "wage", "monthly": "abc"}])},
     "profile.incomes.0.monthly"),
    ({"needs": [{"kind": "lottery", "note": "x"}]}, "needs.0.kind"),
    ({"follow_ups": [{"title": "回访", "due_on": ""}]}, "follow_ups.0.due_on"),
    ({"follow_ups": lambda: [{"title": "", "due_on": today().isoformat()}]}, "follow_ups.0.title"),
    ({"client_uuid": None, "member_id": None}, "member_id"),
])
def test_bad_input_names_the_field_and_leaves_nothing_written(rec, change, field):
    change = {key: value() if callable(value) else value for key, value in change.items()}
    data = visit_data(rec.member, **change)
    with pytest.raises(ServiceError) as exc:
        submit(rec.visitor_a, data)
    assert field in exc.value.fields
    assert exc.value.fields[field]  # a Chinese message for that field
    assert nothing_written()


def test_a_bad_draft_number_is_refused(rec):
    with pytest.raises(ServiceError) as exc:
        visit_services.visit_submit(actor=rec.visitor_a, client_uuid="not-a-uuid",
                                    data=visit_data(rec.member))
    assert "client_uuid" in exc.value.fields


def test_a_follow_up_owner_without_rights_over_the_member_is_refused(rec):
    data = visit_data(rec.member, follow_ups=[{"title": "回访", "owner_id": rec.visitor_b.pk,
                                               "due_on": today().isoformat()}])
    with pytest.raises(ServiceError) as exc:
        submit(rec.visitor_a, data)
    assert "follow_ups.0.owner_id" in exc.value.fields
    assert nothing_written()


def test_a_cadre_out_of_scope_cannot_record_a_visit(rec):
    with pytest.raises(NotFound):
        submit(rec.visitor_b, visit_data(rec.member))
    with pytest.raises(NotFound):  # viewing is not recording
        submit(rec.viewer_a, visit_data(rec.member))
    assert nothing_written()


def test_a_workplace_visit_needs_a_unit_and_may_skip_the_profile(rec):
    base = {"kind": "workplace", "member_id": None, "profile": None, "consent": {}}
    with pytest.raises(ServiceError) as exc:
        submit(rec.visitor_a, visit_data(**base))
    assert "visited_unit_id" in exc.value.fields
    visit, _ = submit(rec.visitor_a, visit_data(**base, visited_unit_id=rec.union.workshop_a.pk))
    assert visit.org_unit == rec.union.workshop_a
    assert visit.needs.count() == 1
    assert not HouseholdProfile.objects.exists()
    with pytest.raises(NotFound):
        submit(rec.visitor_a, visit_data(**base, visited_unit_id=rec.union.workshop_b.pk))


def test_a_workplace_visit_cannot_carry_follow_ups_without_a_member(rec):
    data = visit_data(kind="workplace", member_id=None, profile=None, consent={},
                      visited_unit_id=rec.union.team_a.pk,
                      follow_ups=[{"title": "回访", "due_on": today().isoformat()}])
    with pytest.raises(ServiceError) as exc:
        submit(rec.visitor_a, data)
    assert "follow_ups.0.title" in exc.value.fields


# -- campaigns and pairings -------------------------------------------------------------------

@pytest.fixture
def campaign(rec):
    campaign = VisitCampaign.objects.create(
        name="春季大走访", org_unit=rec.union.station_a, starts_on=today() - dt.timedelta(days=5),
        ends_on=today() + dt.timedelta(days=5))
    return campaign


def pairing_for(campaign, cadre, member):
    return Pairing.objects.create(campaign=campaign, cadre=cadre, kind=PairingKind.HOUSEHOLD,
                                  member=member, org_unit=member.org_unit)


def test_a_pairing_visit_counts_for_its_campaign(rec, campaign):
    pairing = pairing_for(campaign, rec.visitor_a, rec.member)
    visit, _ = submit(rec.visitor_a, visit_data(rec.member, pairing_id=pairing.pk))
    assert (visit.campaign, visit.pairing) == (campaign, pairing)


def test_campaign_and_pairing_rules(rec, campaign, make_member):
    other_member = make_member(rec.union.team_a)
    other_campaign = VisitCampaign.objects.create(
        name="另一行动", org_unit=rec.union.station_a, starts_on=campaign.starts_on,
        ends_on=campaign.ends_on)
    pairing = pairing_for(campaign, rec.visitor_a, rec.member)
    cases = [
        ({"pairing_id": pairing.pk, "campaign_id": other_campaign.pk}, "pairing_id", "不属于"),
        ({"pairing_id": pairing_for(campaign, rec.visitor_a, other_member).pk}, "pairing_id",
         "联系户不一致"),
        ({"campaign_id": campaign.pk,
          "visited_on": (campaign.starts_on - dt.timedelta(days=1)).isoformat()},
         "visited_on", "时间范围"),
    ]
    for change, field, words in cases:
        with pytest.raises(ServiceError) as exc:
            submit(rec.visitor_a, visit_data(rec.member, **change))
        assert field in exc.value.fields, change
        assert words in exc.value.message
    campaign.status = CampaignStatus.CLOSED
    campaign.save()
    with pytest.raises(ServiceError) as exc:
        submit(rec.visitor_a, visit_data(rec.member, campaign_id=campaign.pk))
    assert "不在进行中" in exc.value.message
    assert not Visit.objects.exists()


def test_a_member_outside_the_campaign_area_is_refused(rec):
    campaign = VisitCampaign.objects.create(
        name="乙段走访", org_unit=rec.union.station_b, starts_on=today(), ends_on=today())
    with pytest.raises(ServiceError) as exc:
        submit(rec.visitor_a, visit_data(rec.member, campaign_id=campaign.pk))
    assert "campaign_id" in exc.value.fields


def test_another_cadres_pairing_out_of_scope_is_refused(rec, make_member):
    campaign = VisitCampaign.objects.create(
        name="乙段走访", org_unit=rec.union.bureau, starts_on=today(), ends_on=today())
    pairing = pairing_for(campaign, rec.visitor_b, rec.member_b)
    with pytest.raises(ServiceError) as exc:
        submit(rec.visitor_a, visit_data(rec.member, pairing_id=pairing.pk))
    assert "管辖范围" in exc.value.fields["pairing_id"]


# -- photos with the visit --------------------------------------------------------------------

def test_photos_sent_with_the_visit_are_stored_clean(rec, private_media):
    from unionaid.assistance.tests.helpers import jpeg_bytes, upload

    visit, _ = submit(rec.visitor_a, visit_data(rec.member),
                      photos=[upload("家中.jpg", jpeg_bytes(gps=True))])
    photo = VisitPhoto.objects.get(visit=visit)
    assert photo.content_type == "image/jpeg"
    assert photo.thumbnail_path
    stored = (private_media / photo.storage_path).read_bytes()
    assert b"SyntheticCam" not in stored  # EXIF gone


def test_a_refused_visit_leaves_no_photo_files(rec, private_media):
    from unionaid.assistance.tests.helpers import jpeg_bytes, upload

    data = visit_data(rec.member, consent={"health": False})
    with pytest.raises(ServiceError):
        submit(rec.visitor_a, data, photos=[upload("家中.jpg", jpeg_bytes())])
    files = [p for p in private_media.rglob("*") if p.is_file()] if private_media.exists() else []
    assert files == []
    assert not VisitPhoto.objects.exists()


def test_a_pdf_is_not_a_visit_photo(rec, private_media):
    from unionaid.assistance.tests.helpers import PDF_BYTES, upload

    with pytest.raises(ServiceError) as exc:
        submit(rec.visitor_a, visit_data(rec.member), photos=[upload("诊断.pdf", PDF_BYTES)])
    assert exc.value.code == "file_type"
    assert nothing_written()
    assert not [p for p in private_media.rglob("*") if p.is_file()]


def test_client_uuid_may_be_a_uuid_object(rec):
    key = uuid.uuid4()
    visit, _ = visit_services.visit_submit(actor=rec.visitor_a, client_uuid=key,
                                           data=visit_data(rec.member))
    assert visit.client_uuid == key
