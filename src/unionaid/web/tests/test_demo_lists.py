"""The demo's 政策找职工 lists (``manage.py demo``): a list of each kind imported and matched
through the matching services, review items waiting, the default rules' leads across the 站段,
and the personas who see them."""

from __future__ import annotations

import datetime as dt
import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from unionaid.accounts.access import access_for
from unionaid.accounts.models import User
from unionaid.audit.services import audit_verify
from unionaid.matching.models import (
    Dataset,
    DatasetStatus,
    Lead,
    LeadStatus,
    Match,
    MatchMethod,
    MatchStatus,
    RunStatus,
    SourceKind,
)
from unionaid.org.models import OrgUnit
from unionaid.web.demo import listfiles

pytestmark = pytest.mark.django_db
KINDS = {SourceKind.DIBAO, SourceKind.MEDICAL, SourceKind.ADMISSION, SourceKind.REGISTRY,
         SourceKind.PROPERTY}


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def demo() -> str:
    out = StringIO()
    call_command("demo", "--members", "400", "--seed", "11", "--applications", "0",
                 "--visits", "60", stdout=out, skip_checks=True)
    return out.getvalue()


def station_of(member) -> str:
    return member.org_unit.path[: 2 * OrgUnit.steplen]


def current(qs):
    return [m for m in qs.select_related("dataset", "record", "member__org_unit")
            if m.run_id == m.dataset.current_run_id]


def test_the_demo_imports_and_matches_a_list_of_each_kind_and_raises_leads(demo):
    datasets = list(Dataset.objects.select_related("source", "current_run"))
    assert {d.source.kind for d in datasets} == KINDS
    for dataset in datasets:
        assert dataset.status == DatasetStatus.MATCHED, dataset.title
        assert dataset.current_run.status == RunStatus.DONE
        assert dataset.row_count == dataset.records.count() > 0
        assert not dataset.stored_path  # the uploaded file is gone once imported
        linked = current(Match.objects.filter(dataset=dataset, status__in=Match.LINKED))
        assert linked, dataset.title
    assert "外部数据 (lists) 5" in demo

    linked = current(Match.objects.filter(status__in=Match.LINKED))
    # messy rows still matched: without an ID number (on name and birth date or phone), and
    # through the probabilistic stage (a homophone in the name, no ID number)
    assert any(not m.record.id_hash for m in linked)
    assert any(m.method == MatchMethod.PROBABILISTIC for m in linked)
    # no household member or namesake taken for the member: a confident match whose row has an
    # ID number is the member's own number
    for match in linked:
        if match.record.id_hash:
            assert match.record.id_hash == match.member.id_number_hash, match.reason
    # a relative's row carrying the householder's number waits for a cadre
    review = current(Match.objects.filter(status=MatchStatus.REVIEW))
    assert review
    assert all(r.record.name != r.member.name for r in review)
    # the admission list is matched on the guardian; the student is a column of the record
    admission = [m for m in linked if m.dataset.source.kind == SourceKind.ADMISSION]
    assert admission
    assert all(m.record.extras.get("学生姓名") for m in admission)

    leads = list(Lead.objects.select_related("rule", "member__org_unit"))
    rules = {lead.rule.code for lead in leads}
    assert {"dibao-visit", "dibao-enrol", "medical-dbjz", "admission-jqzx"} <= rules
    assert rules & {"death-close", "property-review"}  # cross-checks of archived households
    assert len({station_of(lead.member) for lead in leads}) >= 2
    assert all(lead.status == LeadStatus.RAISED for lead in leads)
    medical = [lead for lead in leads if lead.rule.code == "medical-dbjz"]
    assert all(lead.amount and lead.amount > 2000 for lead in medical)
    # everything went through the services: journaled, and the chain holds
    assert list(audit_verify()) == []


def test_the_personas_see_the_lists_their_rights_and_scope_allow(demo, client):
    station_cadre = User.objects.get(username="station_cadre")
    station = OrgUnit.objects.filter(depth=2).order_by("path").first()
    assert access_for(station_cadre).covers_unit("matching.review", station)
    workshop_cadre = access_for(User.objects.get(username="workshop_cadre"))
    assert workshop_cadre.has_perm("matching.view")  # sees their members' leads
    assert not workshop_cadre.has_perm("matching.review")
    assert not workshop_cadre.has_perm("matching.manage")
    ours = Lead.objects.filter(member__org_unit__path__startswith=station.path)
    theirs = Lead.objects.exclude(member__org_unit__path__startswith=station.path)
    assert ours.exists()
    assert theirs.exists()

    client.force_login(station_cadre)
    response = client.get(reverse("matching:lead-list"))
    assert response.status_code == 200
    shown = {lead.pk for lead in response.context["page"].rows}
    assert shown == set(ours.values_list("pk", flat=True))
    assert client.get(reverse("matching:lead-detail", args=[ours.first().pk])).status_code == 200
    assert client.get(reverse("matching:lead-detail",
                              args=[theirs.first().pk])).status_code == 404

    response = client.get(reverse("matching:review"))
    assert response.status_code == 200
    waiting = response.context["page"].rows
    assert waiting
    assert all(m.member.org_unit.path.startswith(station.path) for m in waiting)
    # the lists belong to the bureau: not the station's to see
    response = client.get(reverse("matching:dataset-list"))
    assert response.status_code == 200
    assert not response.context["page"].rows

    client.force_login(User.objects.get(username="bureau_cadre"))
    response = client.get(reverse("matching:dataset-list"))
    assert len(response.context["page"].rows) == len(KINDS)
    dataset = Dataset.objects.get(source__kind=SourceKind.ADMISSION)
    assert client.get(reverse("matching:dataset-detail", args=[dataset.pk])).status_code == 200
    assert client.get(reverse("matching:run-detail",
                              args=[dataset.current_run_id])).status_code == 200
    assert client.get(reverse("matching:lead-rule-list")).status_code == 200


def test_the_list_values_are_written_the_messy_ways_real_lists_have():
    number = "14010519760516123X"
    assert listfiles.id_text(number, "fullwidth") == "１４０１０５１９７６０５１６１２３Ｘ"
    assert listfiles.id_text(number, "15") == "140105760516123"
    assert listfiles.id_text(number, "lower_x").endswith("x")
    assert listfiles.id_text(number, "spaces") == "140105 19760516 123X"
    assert listfiles.id_text(number, "missing") == ""
    assert listfiles.id_text("140105200105161238", "15") == "140105200105161238"  # born 2001
    day = dt.date(1976, 5, 16)
    assert [listfiles.birth_text(day, s) for s in listfiles.BIRTH_STYLES] == [
        "1976-05-16", "19760516", "1976/5/16", "1976年5月16日"]
    assert listfiles.phone_text("16212345678", "plus86") == "+86 16212345678"
    assert listfiles.phone_text("16212345678", "dashes") == "162-1234-5678"
    assert listfiles.homophone("王伟") == "王玮"
    assert listfiles.spaced("王伟") == "王 伟"
    assert listfiles.address_for(number, random.Random(1)).startswith("山西省太原市小店区")
