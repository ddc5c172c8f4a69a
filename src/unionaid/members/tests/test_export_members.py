"""Roster export: masked by default, clear only with members.reveal, scoped, audited."""

from __future__ import annotations

from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from python_calamine import CalamineWorkbook

from conftest import make_role, make_staff
from unionaid.accounts import services
from unionaid.accounts.models import DataScope
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import PermissionDenied
from unionaid.members.exporting import export_members
from unionaid.members.importing import import_roster
from unionaid.members.models import Member

EXPORT = reverse("members_io:export")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def roll(union, make_member):
    return {
        "team_a": make_member(union.team_a, bank_account="6222000011112222333"),
        "station_a": make_member(union.station_a),
        "team_b": make_member(union.team_b),
    }


def read_rows(data: bytes) -> list[list]:
    workbook = CalamineWorkbook.from_filelike(BytesIO(data))
    return workbook.get_sheet_by_index(0).to_python()


def everything(rows) -> str:
    return "\n".join(str(cell) for row in rows for cell in row)


def test_a_masked_export_holds_no_clear_id_number(client, personas, roll):
    client.force_login(personas.station_cadre)

    response = client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = read_rows(b"".join(response.streaming_content))
    assert rows[0][:2] == ["姓名", "身份证号"]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {roll["team_a"].name, roll["station_a"].name}  # not station B
    text = everything(rows)
    for member in roll.values():
        assert member.id_number not in text
        assert member.phone not in text
    assert "6222000011112222333" not in text
    for member in roll.values():  # the masked digits are the birth date: only the year shows
        assert member.birth_date.isoformat() not in text
    assert by_name[roll["team_a"].name][1] == roll["team_a"].id_number_masked
    event = AuditEvent.objects.get(action="member.export")
    assert event.changes["count"] == 2
    assert event.changes["revealed"] is False
    assert event.actor_id == personas.station_cadre.pk


def test_a_revealed_export_needs_members_reveal(client, union, roll):
    exporter = make_staff("exporter", union.station_a,
                          [make_role("exporter", ["members.view", "members.export"])])
    client.force_login(exporter)

    response = client.get(EXPORT, {"reveal": "1"})

    assert response.status_code == 403
    assert "无权导出完整" in response.content.decode()
    assert not AuditEvent.objects.filter(action="member.export").exists()
    masked = read_rows(b"".join(client.get(EXPORT).streaming_content))
    assert roll["team_a"].id_number not in everything(masked)


def test_a_revealed_export_shows_clear_numbers_and_is_audited_as_such(client, personas, roll):
    client.force_login(personas.station_cadre)

    response = client.get(EXPORT, {"reveal": "1"})

    text = everything(read_rows(b"".join(response.streaming_content)))
    assert roll["team_a"].id_number in text
    assert roll["team_a"].phone in text
    assert "6222000011112222333" in text
    assert roll["team_b"].id_number not in text
    event = AuditEvent.objects.get(action="member.export")
    assert event.changes["revealed"] is True
    assert event.changes["revealed_count"] == 2


def test_reveal_covers_only_the_units_of_the_reveal_right(union, roll):
    user = make_staff("wide", union.bureau,
                      [make_role("wide-export", ["members.export"], DataScope.ALL)])
    reveal_a = make_role("reveal-a", ["members.reveal"], DataScope.UNIT_AND_BELOW)
    position = services.position_create(actor=None, org_unit=union.station_a, name="兼",
                                        roles=[reveal_a])
    services.assignment_grant(actor=None, user=user, position=position)

    result = export_members(actor=user, reveal=True)

    text = everything(read_rows(result.path.read_bytes()))
    assert result.count == 3
    assert result.revealed_count == 2
    assert roll["team_a"].id_number in text
    assert roll["team_b"].id_number not in text
    assert roll["team_b"].id_number_masked in text


def test_the_export_filters_by_query_and_unit(client, personas, roll, union):
    client.force_login(personas.station_cadre)

    by_id = read_rows(b"".join(client.post(EXPORT, {"q": roll["team_a"].id_number})
                               .streaming_content))
    by_unit = read_rows(b"".join(client.get(EXPORT, {"unit": union.team_a.pk})
                                 .streaming_content))

    assert [row[0] for row in by_id[1:]] == [roll["team_a"].name]
    assert [row[0] for row in by_unit[1:]] == [roll["team_a"].name]
    queries = [e.changes["query"] for e in AuditEvent.objects.filter(action="member.export")]
    assert roll["team_a"].id_number not in "".join(queries)


def test_a_unit_outside_the_export_scope_is_not_found(client, personas, union, roll):
    client.force_login(personas.station_cadre)

    assert client.get(EXPORT, {"unit": union.station_b.pk}).status_code == 404
    assert not AuditEvent.objects.filter(action="member.export").exists()


def test_export_needs_the_export_right(personas, roll):
    with pytest.raises(PermissionDenied):
        export_members(actor=personas.team_cadre)


def test_the_export_command_writes_a_masked_roster(personas, roll, tmp_path):
    out = StringIO()
    target = tmp_path / "out.xlsx"

    call_command("export_members", "--as", "station_cadre", "-o", str(target), stdout=out)

    text = everything(read_rows(target.read_bytes()))
    assert "已导出 2 人" in out.getvalue()
    assert roll["team_a"].id_number_masked in text
    assert roll["team_a"].id_number not in text
    with pytest.raises(CommandError, match="没有导出职工名册的权限"):
        call_command("export_members", "--as", "team_cadre", "--reveal", "-o", str(target))


def test_a_revealed_export_can_be_imported_elsewhere(personas, roll, tmp_path):
    result = export_members(actor=personas.station_cadre, reveal=True,
                            path=tmp_path / "roster.xlsx")
    Member.objects.filter(pk__in=[roll["team_a"].pk, roll["station_a"].pk]).delete()

    imported = import_roster(actor=personas.station_cadre, path=Path(result.path), dry_run=False)

    assert imported.ok, imported.errors
    assert imported.created == 2
    again = Member.objects.get(name=roll["team_a"].name, org_unit=roll["team_a"].org_unit)
    assert again.id_number == roll["team_a"].id_number
    assert again.bank_account == "6222000011112222333"


def test_an_id_number_in_an_export_url_is_refused(client, personas, roll):
    client.force_login(personas.station_cadre)
    number = roll["team_a"].id_number
    response = client.get(EXPORT, {"q": number})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="member.export").exists()
    response = client.post(EXPORT, {"q": number})
    assert response.status_code == 200
    assert AuditEvent.objects.get(action="member.export").changes["count"] == 1


def test_a_name_that_looks_like_a_formula_is_exported_as_text(client, personas, union,
                                                              make_member):
    member = make_member(union.team_a, name="=1+1")
    client.force_login(personas.station_cadre)
    rows = read_rows(b"".join(client.get(EXPORT).streaming_content))
    assert [row[0] for row in rows[1:] if row[1] == member.id_number_masked] == ["'=1+1"]
