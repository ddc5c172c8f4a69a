"""``audit_verify``: the hash chain reports edited and deleted events; PostgreSQL refuses edits."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from unionaid.audit.models import AuditEvent
from unionaid.audit.services import audit_record


@pytest.fixture
def journal(db):
    with transaction.atomic():
        for n in range(5):
            audit_record(actor=None, action="test.event", target_label=f"事件{n}",
                         changes={"n": n})
    return list(AuditEvent.objects.order_by("id"))


def _verify() -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command("audit_verify", stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc.returncode
    return out.getvalue(), 0


def _raw(sql: str, params) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # bypass the trigger
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")


def test_it_reports_ok_with_the_count_on_an_intact_journal(journal):
    output, code = _verify()
    assert code == 0
    assert f"OK: {len(journal)} events" in output


def test_it_reports_an_edited_event_and_exits_1(journal):
    target = journal[2]
    _raw("UPDATE audit_auditevent SET target_label = %s WHERE id = %s", ["篡改", target.id])
    output, code = _verify()
    assert code == 1
    assert f"PROBLEM event {target.id}: content does not match its hash (edited)" in output
    assert "OK" not in output


def test_it_reports_a_deleted_event(journal):
    target = journal[3]
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [target.id])
    output, code = _verify()
    assert code == 1
    assert f"missing events {target.id}..{target.id}" in output
    assert f"PROBLEM event {target.id + 1}: prev_hash does not match" in output


def test_an_edit_that_also_rewrites_the_hash_breaks_the_next_link(journal):
    from unionaid.audit.services import compute_hash

    target = journal[1]
    target.target_label = "伪造"
    _raw("UPDATE audit_auditevent SET target_label = %s, hash = %s WHERE id = %s",
         ["伪造", compute_hash(target), target.id])
    output, code = _verify()
    assert code == 1
    assert f"PROBLEM event {journal[2].id}: prev_hash does not match" in output


def test_postgresql_refuses_update_and_delete_of_the_journal(journal, pg_only):
    for sql in ("UPDATE audit_auditevent SET action = 'x' WHERE id = %s",
                "DELETE FROM audit_auditevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(sql, [journal[0].id])
    assert AuditEvent.objects.get(id=journal[0].id).action == "test.event"
    # Tampering with the trigger bypassed (a superuser) is still caught by the chain.
    _raw("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [journal[0].id])
    output, code = _verify()
    assert code == 1
    assert f"PROBLEM event {journal[0].id}" in output
