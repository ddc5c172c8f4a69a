"""The read log: reads of a member's personal data are recorded (who, whom, when, through
what) apart from the journal's hash chain, and auditors can search them."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import verified_login
from unionaid.audit.models import AuditEvent, ReadEvent
from unionaid.audit.reads import read_record
from unionaid.core.testing.api import ApiClient

READS = "/audit/reads/"


def test_viewing_a_member_page_writes_one_read_event_and_no_journal_entry(
        client, personas, make_member, union):
    member = make_member(union.team_a)
    cadre = verified_login(client, personas.team_cadre)
    journal = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = cadre.get(f"/members/{member.pk}/")
    assert response.status_code == 200
    read = ReadEvent.objects.get()
    assert (read.actor_id, read.actor_label, read.member_id) == (
        personas.team_cadre.pk, "team_cadre", member.pk)
    assert (read.target_type, read.target_id) == ("members.member", str(member.pk))
    assert (read.channel, read.path) == ("page", f"/members/{member.pk}/")
    assert read.org_unit_path == union.team_a.path
    # the read neither appends to the journal nor takes its chain lock (the tail SELECT or,
    # on PostgreSQL, the advisory lock)
    assert AuditEvent.objects.count() == journal
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "audit_auditevent" not in sql
    assert "pg_advisory_xact_lock" not in sql


def test_a_read_through_the_api_is_logged_as_api(personas, make_member, union):
    member = make_member(union.team_a)
    client = Client()
    client.force_login(personas.team_cadre)
    assert ApiClient(client).get(f"/members/{member.pk}").status_code == 200
    read = ReadEvent.objects.get()
    assert (read.channel, read.member_id, read.path) == ("api", member.pk,
                                                         f"/api/v1/members/{member.pk}")


def test_an_out_of_scope_look_is_no_read(client, personas, make_member, union):
    member = make_member(union.team_b)
    cadre = verified_login(client, personas.team_cadre)
    assert cadre.get(f"/members/{member.pk}/").status_code == 404
    assert not ReadEvent.objects.exists()


def test_the_auditor_finds_a_read_by_member_actor_and_date(client, personas, make_member,
                                                           union):
    member = make_member(union.team_a)
    other = make_member(union.team_a)
    cadre = verified_login(Client(), personas.team_cadre)
    assert cadre.get(f"/members/{member.pk}/").status_code == 200
    assert cadre.get(f"/members/{other.pk}/").status_code == 200
    read = ReadEvent.objects.get(member_id=member.pk)

    auditor = verified_login(client, personas.audit_admin)
    day = timezone.localdate(read.at).isoformat()  # the filter's days are Beijing days
    html = auditor.get(READS, {"member_id": member.pk, "actor": "team_cadre",
                               "date_from": day, "date_to": day}).content.decode()
    assert f"/members/{member.pk}/" in html
    assert f"/members/{other.pk}/" not in html
    html = auditor.get(READS, {"actor": "somebody_else"}).content.decode()
    assert f"/members/{member.pk}/" not in html
    html = auditor.get(READS).content.decode()
    assert f"/members/{member.pk}/" in html
    assert f"/members/{other.pk}/" in html
    # the auditor's look is journaled, as every read of the journal is
    assert AuditEvent.objects.filter(action="audit.read", actor=personas.audit_admin,
                                     changes__view="reads").count() == 3


def test_the_read_log_is_for_auditors_only(client, personas):
    cadre = verified_login(client, personas.station_cadre)
    assert cadre.get(READS).status_code == 404


def test_postgresql_refuses_update_and_delete_of_the_read_log(pg_only, personas):
    read = read_record(user=personas.team_cadre, member_id=1, target_type="members.member",
                       target_id=1)
    for sql in ("UPDATE audit_readevent SET member_id = 2 WHERE id = %s",
                "DELETE FROM audit_readevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(sql, [read.id])
    assert ReadEvent.objects.get(id=read.id).member_id == 1


def test_the_auditor_reads_object_types_and_outcomes_in_words(client, personas, make_member,
                                                              union):
    """The read log and the journal name the object (职工, not ``members.member``) and the
    outcome (拒绝, not ``denied``); a type that names no model stays as it is."""
    from unionaid.audit.models import target_type_label

    member = make_member(union.team_a)
    outsider = make_member(union.station_b)
    cadre = verified_login(Client(), personas.team_cadre)
    assert cadre.get(f"/members/{member.pk}/").status_code == 200
    assert cadre.get(f"/members/{outsider.pk}/").status_code == 404  # journaled as denied

    auditor = verified_login(client, personas.audit_admin)
    reads = auditor.get(READS).content.decode()
    assert f"职工 #{member.pk}" in reads
    assert "members.member" not in reads
    journal = auditor.get("/audit/", {"outcome": "denied"}).content.decode()
    assert "拒绝" in journal
    assert ">denied<" not in journal
    assert target_type_label("toy.nothing") == "toy.nothing"
    assert target_type_label("") == ""
