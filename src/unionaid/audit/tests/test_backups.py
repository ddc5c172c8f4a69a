"""``unionaid backup`` and ``unionaid restore`` (core/backups.py, audit/backups.py).

On SQLite the backup is taken from the in-memory test database through the app's own
connection; on PostgreSQL with pg_dump (the suite runs on both). The round trip restores into a
fresh database (a new SQLite file, or a second PostgreSQL database created and dropped here)
through the real command in a subprocess, as an operator would on a new server.
"""

from __future__ import annotations

import base64
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from unionaid.assistance.models import Application
from unionaid.audit.backups import backup_create, backup_restore, backup_scheduled, keys_check
from unionaid.audit.models import AuditEvent
from unionaid.core import backups, crypto
from unionaid.core.backups import BackupError
from unionaid.funds.models import LedgerEntry
from unionaid.members.models import Member

ROOT = Path(__file__).resolve().parents[4]
COUNTED = {"members": Member, "applications": Application, "ledger": LedgerEntry,
           "audit": AuditEvent}


@pytest.fixture
def committing(transactional_db):
    """Real commits: pg_dump sees only committed rows, and SQLite's backup of the in-memory
    test database can't run inside the test's transaction. On PostgreSQL the
    audit journal and the ledger refuse TRUNCATE, which is how Django empties the database
    after such a test; switch triggers off for this connection just before that flush."""
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")


@pytest.fixture
def real_keys(settings):
    """Explicit keys (not derived from SECRET_KEY), so the test knows every key byte."""
    value_key, index_key = os.urandom(32), os.urandom(32)
    settings.UNIONAID_KEYS = f"k7:{base64.b64encode(value_key).decode()}"
    settings.UNIONAID_ACTIVE_KEY = "k7"
    settings.UNIONAID_INDEX_KEY = base64.b64encode(index_key).decode()
    settings.UNIONAID_DEV_KEYS = False
    crypto.reset_keyring()
    yield SimpleNamespace(value=value_key, index=index_key, settings=settings)
    crypto.reset_keyring()


def backup_bytes(path: Path) -> bytes:
    """Everything a backup file holds, readable: SQLite pages as they are; a pg_dump custom
    file compresses its data, so also its content as pg_restore writes it out."""
    raw = path.read_bytes()
    if connection.vendor == "postgresql":
        raw += subprocess.run(["pg_restore", "--file=-", str(path)], capture_output=True,
                              check=True).stdout
    return raw


def counts() -> dict[str, int]:
    return {name: model.objects.count() for name, model in COUNTED.items()}


# -- writing -------------------------------------------------------------------------------

def test_a_backup_is_one_private_file_with_a_sha256sum_checksum_and_is_journaled(
        committing, tmp_path):
    path = backup_create(tmp_path / "backups", actor_label="ops", via="unionaid backup")

    kind = connection.vendor
    assert path.name.startswith(f"unionaid-{kind}-")
    assert path.suffix == backups.EXTENSIONS[kind]
    sidecar = path.with_name(path.name + ".sha256")
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, sidecar.name]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    digest = backups.file_sha256(path)
    assert sidecar.read_text() == f"{digest}  {path.name}\n"
    if shutil.which("sha256sum"):
        check = subprocess.run(["sha256sum", "-c", sidecar.name], cwd=path.parent,
                               capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr
    assert backups.backup_kind_of(path) == kind

    event = AuditEvent.objects.get(action="backup.create")
    assert (event.outcome, event.actor_label, event.target_label) == ("ok", "ops", path.name)
    assert event.changes["file"] == path.name
    assert event.changes["sha256"] == digest
    assert event.changes["bytes"] == path.stat().st_size
    assert event.changes["via"] == "unionaid backup"


def test_the_backup_command_writes_into_backup_dir_by_default(committing, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "nightly"
    call_command("backup")
    files = list((tmp_path / "nightly").glob("unionaid-*"))
    assert len(files) == 2  # the backup and its checksum
    assert AuditEvent.objects.filter(action="backup.create", outcome="ok").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_keys_never_appear_in_the_backup(committing, real_keys, union, make_member,
                                             tmp_path):
    member = make_member(union.team_a)
    with connection.cursor() as cursor:  # what is stored: the token, not the ID number
        cursor.execute("SELECT id_number_enc FROM members_member WHERE id = %s", [member.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("a1:k7:")

    data = backup_bytes(backup_create(tmp_path))

    assert stored.encode() in data  # the encrypted data is there, as stored …
    assert member.id_number.encode() not in data  # … never in clear
    settings = real_keys.settings
    for secret in (real_keys.value, real_keys.index,
                   settings.UNIONAID_KEYS.encode(), settings.UNIONAID_INDEX_KEY.encode(),
                   base64.b64encode(real_keys.value), real_keys.value.hex().encode(),
                   real_keys.index.hex().encode(), settings.SECRET_KEY.encode()):
        assert secret not in data


# -- retention -----------------------------------------------------------------------------

def _fake_backup(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(b"old")
    path.with_name(name + ".sha256").write_text("x")
    return path


def test_retention_keeps_the_newest_backups_of_the_same_database_and_nothing_else(
        committing, tmp_path):
    kind, label = connection.vendor, backups.database_label()
    ext = backups.EXTENSIONS[kind]
    oldest = _fake_backup(tmp_path, f"unionaid-{kind}-{label}-20200101T000000.000Z{ext}")
    older = _fake_backup(tmp_path, f"unionaid-{kind}-{label}-20210101T000000.000Z{ext}")
    other_db = _fake_backup(tmp_path, f"unionaid-{kind}-elsewhere-20190101T000000.000Z{ext}")
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    lookalike = tmp_path / f"unionaid-{kind}-{label}-20190101T000000.000Z{ext}.bak"
    lookalike.write_text("keep me too")
    sub = tmp_path / "old"
    sub.mkdir()
    nested = _fake_backup(sub, f"unionaid-{kind}-{label}-20180101T000000.000Z{ext}")

    newest = backup_create(tmp_path, keep=2)

    left = {p.name for p in tmp_path.iterdir()}
    assert {newest.name, older.name} <= left
    assert not {oldest.name, oldest.name + ".sha256"} & left
    assert {other_db.name, notes.name, lookalike.name, "old"} <= left
    assert nested.exists()
    event = AuditEvent.objects.get(action="backup.create")
    assert event.changes["pruned"] == [oldest.name]


def test_the_scheduled_job_uses_the_backup_settings(committing, settings, tmp_path):
    settings.BACKUP_DIR, settings.BACKUP_KEEP = tmp_path, 1
    first = backup_scheduled()
    second = backup_scheduled()
    assert first != second
    assert sorted(p.name for p in tmp_path.iterdir()) == [second.name, second.name + ".sha256"]
    assert AuditEvent.objects.filter(action="backup.create").first().changes["via"] == "scheduler"


def test_a_failed_backup_is_journaled_and_leaves_no_file(committing, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise BackupError("disk full", code="backup_failed")

    monkeypatch.setattr(backups, "backup_write", broken)
    with pytest.raises(CommandError, match="disk full"):
        call_command("backup", "--dir", str(tmp_path))
    event = AuditEvent.objects.get(action="backup.create")
    assert event.outcome == "failed"
    assert event.changes == {"via": "unionaid backup", "error": "backup_failed"}
    assert list(tmp_path.iterdir()) == []


def test_keep_must_be_at_least_one(committing, tmp_path):
    with pytest.raises(BackupError):
        backup_create(tmp_path, keep=0)
    assert list(tmp_path.iterdir()) == []


# -- pg_dump / pg_restore ------------------------------------------------------------------

def _fake_tool(folder: Path, name: str, version: str) -> None:
    script = folder / name
    script.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
    script.chmod(0o755)


def test_a_missing_or_older_pg_dump_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    server = SimpleNamespace(pg_version=150004, ensure_connection=lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError, match="找不到 pg_dump") as missing:
        backups.pg_tool("pg_dump", server)
    assert missing.value.code == "backup_tool_missing"

    _fake_tool(tmp_path, "pg_dump", "14.11")
    with pytest.raises(BackupError, match="PostgreSQL 15") as old:
        backups.pg_tool("pg_dump", server)
    assert old.value.code == "backup_tool_too_old"

    _fake_tool(tmp_path, "pg_dump", "15.20 (Debian 15.20-0+deb12u1)")
    assert backups.pg_tool("pg_dump", server) == str(tmp_path / "pg_dump")


def test_the_password_goes_to_pg_dump_through_the_environment_only():
    server = SimpleNamespace(settings_dict={
        "NAME": "unionaid", "USER": "ua", "PASSWORD": "s3cret-pw", "HOST": "db.internal",
        "PORT": "5433", "OPTIONS": {"sslmode": "require", "prepare_threshold": 2}})
    env = backups.pg_environment(server)
    assert (env["PGDATABASE"], env["PGUSER"], env["PGPASSWORD"], env["PGHOST"], env["PGPORT"],
            env["PGSSLMODE"]) == ("unionaid", "ua", "s3cret-pw", "db.internal", "5433", "require")


# -- restoring -----------------------------------------------------------------------------

def test_restore_refuses_a_checksum_mismatch_before_anything_else(committing, tmp_path):
    path = backup_create(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    before = counts()

    with pytest.raises(CommandError, match=r"校验值.*不符") as exc:
        call_command("restore", str(path), "--yes")

    assert "checksum mismatch" in str(exc.value)
    assert counts() == before


def test_restore_refuses_a_backup_without_its_checksum_file(committing, tmp_path):
    path = backup_create(tmp_path)
    path.with_name(path.name + ".sha256").unlink()
    with pytest.raises(CommandError, match="校验文件"):
        call_command("restore", str(path), "--yes")


def test_restore_refuses_a_database_that_is_not_empty_and_writes_nothing(committing, tmp_path):
    path = backup_create(tmp_path)
    before = counts()
    asked = []

    with pytest.raises(BackupError, match="不是空库") as exc:
        backup_restore(path, before_write=lambda: asked.append(True))

    assert exc.value.code == "backup_target_not_empty"
    assert asked == []  # not even asked to confirm
    assert counts() == before
    assert not AuditEvent.objects.filter(action="backup.restore").exists()
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(path), "--yes")


def test_an_empty_database_has_no_tables(db):
    assert not backups.database_is_empty(connection)  # migrated, even before any row
    memory = sqlite3.connect(":memory:")
    fake = SimpleNamespace(introspection=SimpleNamespace(
        table_names=lambda include_views: [r[0] for r in memory.execute(
            "SELECT name FROM sqlite_master")]))
    assert backups.database_is_empty(fake)
    memory.execute("CREATE TABLE t (x)")
    assert not backups.database_is_empty(fake)


def test_the_keys_check_fails_when_other_keys_are_configured(union, make_member, settings):
    make_member(union.team_a)  # encrypted with the suite's keys (derived from SECRET_KEY)
    assert keys_check().ok

    settings.UNIONAID_KEYS = f"dev:{base64.b64encode(os.urandom(32)).decode()}"
    try:
        wrong = keys_check()
        settings.UNIONAID_DEV_KEYS, settings.UNIONAID_KEYS = False, ""
        missing = keys_check()
    finally:
        crypto.reset_keyring()
    assert not wrong.ok
    assert "do not decrypt" in wrong.output
    assert not missing.ok
    assert "not configured" in missing.output


def test_a_file_that_is_not_a_backup_is_refused(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not a database")
    with pytest.raises(BackupError, match="not a unionaid backup"):
        backups.backup_kind_of(path)


# -- the round trip ------------------------------------------------------------------------

TABLES = {"sqlite": "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
          "postgresql": "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'"}


class Target:
    """A fresh, empty database beside the test database, reached by a DATABASE_URL."""

    def __init__(self, tmp_path: Path):
        self.vendor = connection.vendor
        if self.vendor == "sqlite":
            self.path = tmp_path / "restored.sqlite3"
            self.url = f"sqlite:///{self.path}"
            return
        s = connection.settings_dict
        self.name = f"{s['NAME']}_restored"[:63]
        auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
        self.url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{self.name}"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            cursor.execute(f'CREATE DATABASE "{self.name}"')

    def query(self, sql: str):
        if self.vendor == "sqlite":
            db = sqlite3.connect(self.path)
            try:
                return db.execute(sql).fetchall()
            finally:
                db.close()
        import psycopg

        s = connection.settings_dict
        with psycopg.connect(dbname=self.name, user=s["USER"], password=s.get("PASSWORD") or None,
                             host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432) as db:
            return db.execute(sql).fetchall()

    def drop(self) -> None:
        if self.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def run_unionaid(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test",
           "DATABASE_URL": database_url, "UNIONAID_VAR_DIR": str(cwd / "var"),
           "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    return subprocess.run([sys.executable, "-m", "django", *args], env=env, cwd=cwd,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
                          timeout=300)


@pytest.mark.django_db(transaction=True)
def test_the_demo_round_trips_through_backup_and_restore(committing, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    call_command("demo", "--members", "120", "--seed", "11", "--applications", "25",
                 "--visits", "4", stdout=StringIO())
    before = counts()
    assert all(before.values()), before  # the demo has members, applications, ledger, journal
    path = backup_create(tmp_path / "backups", via="test")

    target = Target(tmp_path)
    try:
        unconfirmed = run_unionaid("restore", str(path), database_url=target.url, cwd=tmp_path)
        assert unconfirmed.returncode == 1
        assert "需要确认" in unconfirmed.stderr  # no terminal to ask, no --yes: nothing done
        assert target.query(TABLES[target.vendor])[0][0] == 0

        done = run_unionaid("restore", str(path), "--yes", database_url=target.url, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "[audit_verify] 通过" in done.stdout
        assert "[ledger_check] 通过" in done.stdout
        assert "[keys] 通过" in done.stdout
        restored = {name: target.query(f"SELECT COUNT(*) FROM {model._meta.db_table}")[0][0]
                    for name, model in COUNTED.items()}
        # The backup was taken before its own journal entry; the restore adds its entry.
        assert restored == {**before, "audit": before["audit"] + 1}
        last = target.query("SELECT action, outcome FROM audit_auditevent ORDER BY id DESC")[0]
        assert tuple(last) == ("backup.restore", "ok")

        again = run_unionaid("restore", str(path), "--yes", database_url=target.url,
                             cwd=tmp_path)
        assert again.returncode == 1
        assert "not empty" in again.stderr
        checks = run_unionaid("audit_verify", database_url=target.url, cwd=tmp_path)
        assert checks.returncode == 0, checks.stdout + checks.stderr
    finally:
        target.drop()


def test_a_sqlite_file_is_copied_while_another_connection_writes(tmp_path):
    """A database file is read through a connection of its own (WAL): a writer's open
    transaction neither blocks the backup nor leaks into it."""
    source = tmp_path / "live.sqlite3"
    app = sqlite3.connect(source, isolation_level=None)
    app.execute("PRAGMA journal_mode=WAL")
    app.execute("CREATE TABLE t (x)")
    app.execute("INSERT INTO t VALUES (1)")
    app.execute("BEGIN IMMEDIATE")
    app.execute("INSERT INTO t VALUES (2)")  # not committed when the backup runs
    fake = SimpleNamespace(vendor="sqlite", settings_dict={"NAME": str(source)},
                           in_atomic_block=True)
    try:
        written = backups.backup_write(tmp_path / "out", connection=fake)
    finally:
        app.execute("ROLLBACK")
        app.close()
    assert written.path.name.startswith("unionaid-sqlite-live-")
    copy = sqlite3.connect(written.path)
    try:
        assert copy.execute("SELECT x FROM t").fetchall() == [(1,)]
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        copy.close()
    assert sorted(p.name for p in written.path.parent.iterdir()) == sorted(
        [written.path.name, written.checksum_path.name])


def test_an_in_memory_database_is_not_backed_up_inside_a_transaction(db, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's in-memory test database only")
    with pytest.raises(BackupError) as exc:
        backups.backup_write(tmp_path, connection=connection)
    assert exc.value.code == "backup_in_transaction"
    assert list(tmp_path.iterdir()) == []
