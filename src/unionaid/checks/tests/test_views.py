"""The /checks/ pages through the HTTP client: scope, read log, explanation, samples, search."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from unionaid.audit.models import AuditEvent, ReadEvent
from unionaid.checks import services
from unionaid.checks.models import Finding, FindingStatus, Sample, SampledCase
from unionaid.checks.tests.conftest import case, found
from unionaid.funds.models import Budget, Disbursement, DisbursementStatus, FundingSource


@pytest.fixture
def client_for():
    def _client(user):
        client = Client()
        client.force_login(user)
        return client

    return _client


@pytest.fixture
def two_findings(union, planted, make_member):
    member = make_member(union.team_a)
    planted.extend([found(union.team_a, 1, member=member, amount="900"),
                    found(union.team_b, 2, amount="500")])
    services.checks_run(actor=None, keys=["test.planted"])
    return {f.fingerprint: f for f in Finding.objects.all()}, member


def test_the_list_counts_only_findings_in_scope(two_findings, auditors, client_for):
    page = client_for(auditors["station"]).get("/checks/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "测试核查" in body
    assert 'href="/checks/"' in body
    section = body[body.index('id="check-testplanted"'):]
    assert '<span data-count="open">1</span>' in section
    bureau = client_for(auditors["bureau"]).get("/checks/").content.decode()
    assert '<span data-count="open">2</span>' in bureau[bureau.index('id="check-testplanted"'):]


def test_a_check_page_lists_its_findings_in_scope(two_findings, auditors, client_for):
    body = client_for(auditors["station"]).get("/checks/test.planted/").content.decode()
    assert "疑点1" in body
    assert "疑点2" not in body
    assert client_for(auditors["station"]).get("/checks/test.nothing/").status_code == 404


def test_pages_need_the_checks_right(two_findings, personas, client_for):
    assert client_for(personas.station_cadre).get("/checks/").status_code == 404


def test_a_finding_page_is_journaled_and_out_of_scope_is_not_found(two_findings, auditors,
                                                                    client_for):
    findings, member = two_findings
    client = client_for(auditors["station"])
    inside, outside = findings["fp-1"], findings["fp-2"]
    page = client.get(f"/checks/findings/{inside.pk}/")
    assert page.status_code == 200
    assert "第1条" in page.content.decode()
    read = ReadEvent.objects.get()
    assert (read.actor_id, read.member_id, read.target_type, read.target_id, read.channel) == (
        auditors["station"].pk, member.pk, "checks.finding", str(inside.pk), "page")
    assert client.get(f"/checks/findings/{outside.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action="access.denied", target_type="checks.finding",
                                     target_id=str(outside.pk)).count() == 1


def test_an_auditor_explains_a_finding_from_its_page(two_findings, auditors, client_for):
    findings, _member = two_findings
    finding = findings["fp-1"]
    client = client_for(auditors["station"])
    refused = client.post(f"/checks/findings/{finding.pk}/explain/", {"text": ""})
    assert refused.status_code == 422
    response = client.post(f"/checks/findings/{finding.pk}/explain/", {"text": "系夫妻共用账户"})
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.EXPLAINED
    assert finding.explained_by == auditors["station"]
    page = client.get(f"/checks/findings/{finding.pk}/").content.decode()
    assert "系夫妻共用账户" in page
    assert "重新打开" in page
    client.post(f"/checks/findings/{finding.pk}/reopen/", {"text": "需补材料"})
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


def test_a_read_only_auditor_cannot_explain(two_findings, auditors, client_for):
    findings, _member = two_findings
    finding = findings["fp-1"]
    client = client_for(auditors["reader"])
    assert "标记为已说明" not in client.get(f"/checks/findings/{finding.pk}/").content.decode()
    client.post(f"/checks/findings/{finding.pk}/explain/", {"text": "看过"})
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    assert not AuditEvent.objects.filter(action="checks.finding_explain").exists()


def test_running_the_checks_from_the_page(union, planted, auditors, client_for):
    planted.append(found(union.team_a, 1))
    response = client_for(auditors["station"]).post("/checks/run/")
    assert response.status_code == 302
    assert Finding.objects.filter(check_key="test.planted").count() == 1


def test_drawing_and_reviewing_a_sample_from_the_pages(union, cases, auditors, client_for):
    cases.extend([case(union.team_a, 1), case(union.team_b, 2)])
    bureau = client_for(auditors["bureau"])
    response = bureau.post("/checks/samples/", {
        "population": "test.cases", "unit": union.bureau.pk, "rule": "item", "item": "it-a"})
    assert response.status_code == 302
    sample = Sample.objects.get()
    station = client_for(auditors["station"])
    page = station.get(f"/checks/samples/{sample.pk}/").content.decode()
    assert "案例1" in page
    assert "帮扶项目：项目甲" in page  # the rule in words, never its codes
    assert "item=" not in page
    assert "案例2" not in page
    mine = SampledCase.objects.get(subject_id=1)
    station.post(f"/checks/cases/{mine.pk}/review/", {"outcome": "ok", "note": ""})
    mine.refresh_from_db()
    assert mine.outcome == "ok"
    assert mine.reviewer == auditors["station"]
    theirs = SampledCase.objects.get(subject_id=2)
    assert station.post(f"/checks/cases/{theirs.pk}/review/",
                        {"outcome": "ok"}).status_code == 404


def test_search_by_id_number_is_posted_and_shows_the_findings(union, planted, auditors,
                                                              make_member, client_for):
    member = make_member(union.team_a)
    source = FundingSource.objects.create(code="ck", name="工会经费")
    budget = Budget.objects.create(org_unit=union.station_a, funding_source=source,
                                   year=2026, allocated=Decimal(1000), available=Decimal(1000))
    payment = Disbursement.objects.create(subject_kind="test.subject", subject_id=1,
                                          budget=budget, member=member, amount=Decimal(300),
                                          status=DisbursementStatus.PAID,
                                          paid_at=timezone.now())
    planted.append(found(union.team_a, 7, member=member))
    services.checks_run(actor=None, keys=["test.planted"])
    client = client_for(auditors["station"])
    assert client.get("/checks/search/").status_code == 200
    response = client.post("/checks/search/", {"id_number": member.id_number})
    body = response.content.decode()
    assert f'href="/funds/trace/{payment.pk}/"' in body
    assert "疑点7" in body
    assert member.id_number not in body
    event = AuditEvent.objects.get(action="funds.trace_search")
    assert member.id_number not in str(event.changes)
