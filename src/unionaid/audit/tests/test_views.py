"""The audit journal pages: only for auditors, filtered, paged, and every read journaled."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import make_role, make_staff, verified_login
from unionaid.accounts import services as account_services
from unionaid.audit.models import AuditEvent
from unionaid.audit.services import audit_record

LIST = "/audit/"


@pytest.fixture
def auditor(client, personas):
    return verified_login(client, personas.audit_admin)


def _reads(view=None):
    qs = AuditEvent.objects.filter(action="audit.read").order_by("id")
    return [e for e in qs if view is None or e.changes.get("view") == view]


def _journal(n, **kwargs):
    with transaction.atomic():
        for _ in range(n):
            audit_record(actor=None, **kwargs)


@pytest.mark.parametrize("path", [LIST, "/audit/export/", "/audit/1/"])
def test_it_is_not_found_for_anyone_without_audit_view(client, personas, path):
    client.force_login(personas.team_cadre)
    assert client.get(path).status_code == 404
    verified_login(client, personas.security_admin)
    assert client.get(path).status_code == 404
    assert not _reads()


def test_an_auditor_must_pass_the_second_factor_first(client, personas):
    client.force_login(personas.audit_admin)
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp-setup")
    assert not _reads()


def test_the_list_shows_events_and_its_own_read_is_journaled(auditor, personas):
    response = auditor.get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert "assignment.grant" in html
    reads = _reads("list")
    assert len(reads) == 1
    assert reads[0].actor_id == personas.audit_admin.pk
    assert reads[0].changes["filters"] == {}


def test_it_filters_by_actor_action_outcome_and_target(auditor, personas):
    _journal(3, action="auth.login_failed", outcome="denied", actor_label="ghost",
             target_type="accounts.user", target_label="ghost")
    response = auditor.get(LIST, {"actor": "ghost", "outcome": "denied"})
    rows = response.context["page"].rows
    assert len(rows) == 3
    assert {(e.actor_label, e.outcome) for e in rows} == {("ghost", "denied")}

    response = auditor.get(LIST, {"action": "assignment."})
    assert {e.action for e in response.context["page"].rows} == {"assignment.grant"}

    target = personas.team_cadre.pk
    response = auditor.get(LIST, {"target_type": "accounts.user", "target_id": target})
    assert response.context["page"].rows
    assert {e.target_id for e in response.context["page"].rows} == {str(target)}

    last = _reads("list")[-1]
    assert last.changes["filters"] == {"target_type": "accounts.user", "target_id": str(target)}


def test_it_filters_by_date_range_in_local_days(auditor):
    today = timezone.localdate()
    response = auditor.get(LIST, {"date_from": today.isoformat(), "date_to": today.isoformat()})
    assert response.context["page"].rows
    yesterday = today - dt.timedelta(days=1)
    response = auditor.get(LIST, {"date_to": yesterday.isoformat()})
    assert response.context["page"].rows == []
    response = auditor.get(LIST, {"date_from": today.isoformat(),
                                  "date_to": yesterday.isoformat()})
    assert "结束日期不能早于开始日期" in response.content.decode()


def test_it_pages_by_fifty_without_counting(auditor, django_assert_max_num_queries):
    _journal(70, action="test.bulk")
    response = auditor.get(LIST, {"action": "test.bulk"})
    page = response.context["page"]
    assert len(page.rows) == 50
    assert page.has_next
    html = response.content.decode()
    assert f"before={page.next_before}" in html
    second = auditor.get(LIST, {"action": "test.bulk", "before": page.next_before})
    rows = second.context["page"].rows
    assert len(rows) == 20
    assert not second.context["page"].has_next
    assert max(e.id for e in rows) < min(e.id for e in page.rows)
    with django_assert_max_num_queries(25) as ctx:
        auditor.get(LIST, {"action": "test.bulk"})
    assert not any(
        "COUNT(" in q["sql"].upper() and "AUDIT_AUDITEVENT" in q["sql"].upper()
        for q in ctx.captured_queries
    )


def test_the_detail_shows_before_and_after_and_is_journaled(auditor, personas, roles):
    account_services.role_save(
        actor=personas.security_admin, role=roles["cadre"], code="cadre", name="班组干事",
        permissions=["members.view"], data_scope="unit",
    )
    event = AuditEvent.objects.filter(action="role.save").latest("id")
    response = auditor.get(reverse("audit:event-detail", args=[event.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "变更前" in html
    assert "unit_and_below" in html  # before
    assert "班组干事" in html  # after
    assert response.context["hash_ok"] is True
    read = _reads("detail")[-1]
    assert read.target_id == str(event.pk)


def test_a_unit_auditor_sees_only_events_of_their_unit(client, union, roles, personas):
    role = make_role("station-audit", ["audit.view"])
    station_auditor = make_staff("station_auditor", union.station_a, [role])
    verified_login(client, station_auditor)
    inside = AuditEvent.objects.filter(org_unit_path__startswith=union.station_a.path).first()
    outside = AuditEvent.objects.filter(org_unit_path__startswith=union.station_b.path).first()
    assert inside is not None
    assert outside is not None
    rows = client.get(LIST).context["page"].rows
    assert rows
    assert all(e.org_unit_path.startswith(union.station_a.path) for e in rows)
    assert client.get(reverse("audit:event-detail", args=[outside.pk])).status_code == 404
    assert client.get(reverse("audit:event-detail", args=[inside.pk])).status_code == 200


def test_the_export_is_an_xlsx_of_the_filtered_journal_and_is_journaled(auditor):
    _journal(4, action="test.export", target_label="导出测试")
    response = auditor.get("/audit/export/", {"action": "test.export"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "编号"
    assert len(rows) == 5
    assert {r[5] for r in rows[1:]} == {"test.export"}
    read = _reads("export")[-1]
    assert read.changes == {"view": "export", "filters": {"action": "test.export"}, "rows": 4}


def test_an_ended_audit_post_closes_the_journal_on_the_next_request(auditor, personas):
    assert auditor.get(LIST).status_code == 200
    post = personas.audit_admin.assignments.get()
    account_services.assignment_end(actor=personas.security_admin, assignment=post)
    response = auditor.get(LIST)
    assert response.status_code == 302  # last post ended: logged out
    assert Client().get(LIST).status_code == 302


def test_the_export_writes_formula_like_text_as_text(auditor):
    """A label that begins like a formula (a member named =HYPERLINK(…)) stays text in the
    auditor's .xlsx: never a live formula."""
    _journal(1, action="test.formula", target_label='=HYPERLINK("http://x","点击")')
    response = auditor.get("/audit/export/", {"action": "test.formula"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cell = sheet.cell(row=2, column=10)
    assert cell.data_type == "s"
    assert cell.value == "'=HYPERLINK(\"http://x\",\"点击\")"
