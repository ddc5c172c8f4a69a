"""/checks: the same scope and rules as the pages, with the API's error codes."""

from __future__ import annotations

import pytest

from unionaid.audit.models import AuditEvent, ReadEvent
from unionaid.checks import services
from unionaid.checks.models import Finding, FindingStatus, SampledCase
from unionaid.checks.tests.conftest import case, found


@pytest.fixture
def findings(union, planted, make_member):
    member = make_member(union.team_a)
    planted.extend([found(union.team_a, 1, member=member, amount="900"),
                    found(union.team_b, 2, amount="500")])
    services.checks_run(actor=None, keys=["test.planted"])
    return {f.fingerprint: f for f in Finding.objects.all()}


def test_checks_are_listed_with_counts_in_scope(findings, auditors, as_token):
    response = as_token(auditors["station"]).get("/checks")
    assert response.status_code == 200
    [row] = [r for r in response.json() if r["key"] == "test.planted"]
    assert (row["open"], row["explained"], row["resolved"]) == (1, 0, 0)
    assert row["last_run_at"] is not None


def test_without_the_right_the_api_answers_403(findings, personas, as_token):
    response = as_token(personas.station_cadre).get("/checks")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_findings_and_one_finding_in_scope(findings, auditors, as_session):
    api = as_session(auditors["station"])
    rows = api.get("/checks/test.planted/findings?status=open").json()
    assert [r["summary"] for r in rows] == ["疑点1"]
    assert api.get("/checks/test.nothing/findings").json()["code"] == "not_found"
    inside = api.get(f"/checks/findings/{findings['fp-1'].pk}")
    assert inside.status_code == 200
    assert inside.json()["evidence"] == {"依据": "第1条"}
    assert ReadEvent.objects.get().channel == "api"
    outside = api.get(f"/checks/findings/{findings['fp-2'].pk}")
    assert outside.status_code == 404
    assert outside.json()["code"] == "not_found"


def test_explain_and_reopen_through_the_api(findings, auditors, as_token):
    api = as_token(auditors["station"])
    pk = findings["fp-1"].pk
    bad = api.post(f"/checks/findings/{pk}/explain", {"text": " "})
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_error"
    assert api.post(f"/checks/findings/{pk}/reopen", {}).json()["code"] == "not_explained"
    done = api.post(f"/checks/findings/{pk}/explain", {"text": "已核实"})
    assert done.status_code == 200
    body = done.json()
    assert body["status"] == FindingStatus.EXPLAINED
    assert body["explained_by"]
    assert [n["kind"] for n in body["notes"]] == ["explain"]
    again = api.post(f"/checks/findings/{pk}/reopen", {"text": "再查"})
    assert again.json()["status"] == FindingStatus.OPEN
    assert AuditEvent.objects.filter(action__startswith="checks.finding_").count() == 2


def test_a_read_only_auditor_may_not_explain(findings, auditors, as_token):
    response = as_token(auditors["reader"]).post(
        f"/checks/findings/{findings['fp-1'].pk}/explain", {"text": "看过"})
    assert response.status_code == 403


def test_run_samples_and_reviews_through_the_api(union, planted, cases, auditors, as_token):
    planted.append(found(union.team_a, 1))
    api = as_token(auditors["station"])
    [result] = list(api.post("/checks/run", {"key": "test.planted"}).json())
    assert result == {"key": "test.planted", "found": 1, "new": 1, "resolved": 0}
    cases.extend([case(union.team_a, 1), case(union.team_a, 2)])
    [population] = [p for p in api.get("/checks/populations").json() if p["key"] == "test.cases"]
    assert population["items"] == [{"code": "it-a", "name": "项目甲"},
                                   {"code": "it-b", "name": "项目乙"}]
    drawn = api.post("/checks/samples", {"rule": "random", "population": "test.cases",
                                                 "org_unit_id": union.station_a.pk,
                                                 "percent": 50, "seed": 7})
    assert drawn.status_code == 201, drawn.json()
    body = drawn.json()
    assert body["seed"] == 7
    assert len(body["cases"]) == 1
    outside = api.post("/checks/samples", {"rule": "random", "population": "test.cases",
                                                   "org_unit_id": union.station_b.pk,
                                                   "percent": 50})
    assert outside.status_code == 404
    case_id = body["cases"][0]["id"]
    reviewed = api.post(f"/checks/cases/{case_id}/review",
                        {"outcome": "issue", "note": "金额不符"})
    assert reviewed.status_code == 200
    assert reviewed.json()["outcome"] == "issue"
    assert SampledCase.objects.get(pk=case_id).note == "金额不符"
    assert [s["id"] for s in api.get("/checks/samples").json()] == [body["id"]]
    assert api.get(f"/checks/samples/{body['id']}").json()["cases"][0]["outcome"] \
        == "issue"
