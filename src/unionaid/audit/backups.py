"""Journaled backups and restores (``unionaid backup``, ``unionaid restore``, the nightly job).

``backup_create`` writes one backup file and its checksum (``core.backups``: SQLite's online
backup, pg_dump on PostgreSQL), prunes older backups of the same database when asked to keep
only so many, and journals what it wrote (file name, size, checksum, who or what ran it). It
lives here, in the audit app, because it is the lowest layer that can write the journal, so an
engine (the scheduler) may call it as well as the command.

``backup_restore`` checks the file's checksum, refuses a database that is not empty, restores,
then runs the project's consistency checks (``audit_verify``, ``ledger_check``: the hash chain
and the ledger balances, run by their command names so this layer imports no domain), checks
that the configured keys decrypt a sample of the restored personal data, and journals the
restore with the results in the restored database.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, transaction

from unionaid.audit.services import audit_record
from unionaid.core import backups, crypto
from unionaid.core.backups import BackupError
from unionaid.core.management.commands.keys_rotate import encrypted_models

TARGET_TYPE = "backup"
# Run after a restore, in this order; each exits non-zero (CommandError) on a problem.
RESTORE_CHECKS = ("audit_verify", "ledger_check")
KEYS_CHECK = "keys"
KEYS_SAMPLE = 20  # stored values tried per model with encrypted fields


def system_user() -> str:
    """Who runs a command on the server: the operating-system account."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "system"


def _journal(*, action: str, outcome: str, actor, actor_label: str, target_label: str,
             changes: dict) -> None:
    with transaction.atomic():
        audit_record(actor=actor, actor_label=actor_label, action=action, outcome=outcome,
                     target_type=TARGET_TYPE, target_label=target_label[:200], changes=changes)


def backup_create(dest_dir: Path | str, *, keep: int | None = None, actor=None,
                  actor_label: str = "scheduler", via: str = "scheduler") -> Path:
    """Back up the database into ``dest_dir``: one file and its ``.sha256``, mode 0600; with
    ``keep``, delete all but the ``keep`` newest backups of this database in that folder
    (never any other file). Journals ``backup.create`` (``failed`` with the error code if it
    could not be written). Returns the backup file's path."""
    if keep is not None and keep < 1:
        raise BackupError("保留份数至少为 1。 (keep at least 1 backup)", code="backup_keep")
    try:
        written = backups.backup_write(dest_dir)
        pruned = backups.backup_prune(dest_dir, keep=keep, kind=written.kind,
                                      label=backups.database_label()) if keep else []
    except (BackupError, OSError) as exc:
        code = getattr(exc, "code", type(exc).__name__)
        _journal(action="backup.create", outcome="failed", actor=actor, actor_label=actor_label,
                 target_label=str(dest_dir), changes={"via": via, "error": code})
        raise
    _journal(action="backup.create", outcome="ok", actor=actor, actor_label=actor_label,
             target_label=written.path.name,
             changes={"via": via, "file": written.path.name, "folder": str(written.path.parent),
                      "bytes": written.size, "sha256": written.sha256, "kind": written.kind,
                      "pruned": [p.name for p in pruned]})
    return written.path


def backup_scheduled() -> Path:
    """The nightly job: ``backup_create`` into BACKUP_DIR, keeping BACKUP_KEEP backups."""
    return backup_create(settings.BACKUP_DIR, keep=settings.BACKUP_KEEP, via="scheduler",
                         actor_label="scheduler")


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    output: str


@dataclass(frozen=True)
class RestoreResult:
    file: Path
    sha256: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def run_check(name: str) -> CheckResult:
    out = StringIO()
    try:
        call_command(name, stdout=out, stderr=out)
    except Exception as exc:  # a failed check is a result to report, not a crash
        out.write(f"{exc}\n")
        return CheckResult(name=name, ok=False, output=out.getvalue().strip())
    return CheckResult(name=name, ok=True, output=out.getvalue().strip())


def keys_check(*, sample: int = KEYS_SAMPLE) -> CheckResult:
    """Do the configured keys open the restored data? Decrypts the first ``sample`` stored
    values of every model with encrypted fields (raw SQL: the tokens as stored). A backup
    never holds the keys; a restore with missing or other keys fails here, not on the first
    member page."""
    try:
        crypto.reset_keyring()
        keyring = crypto.get_keyring()
    except ImproperlyConfigured as exc:
        return CheckResult(name=KEYS_CHECK, ok=False, output=f"keys not configured: {exc}")
    qn = connection.ops.quote_name
    tried = failed = 0
    for model, fields in encrypted_models():
        columns = ", ".join(qn(f.column) for f in fields)
        with connection.cursor() as cursor:
            # Identifiers from model metadata; nothing from input.
            cursor.execute(f"SELECT {columns} FROM {qn(model._meta.db_table)} "  # noqa: S608
                           f"ORDER BY {qn(model._meta.pk.column)} LIMIT %s", [sample])
            tokens = [token for row in cursor.fetchall() for token in row if token]
        for token in tokens:
            tried += 1
            try:
                keyring.decrypt(token)
            except crypto.DecryptionError:
                failed += 1
    if failed:
        return CheckResult(name=KEYS_CHECK, ok=False, output=(
            f"{failed} of {tried} sampled values do not decrypt with the configured keys: "
            "restore UNIONAID_KEYS / UNIONAID_INDEX_KEY from their safe place"))
    return CheckResult(name=KEYS_CHECK, ok=True,
                       output=f"OK: {tried} sampled encrypted values decrypt")


def backup_restore(path: Path | str, *, actor_label: str = "", via: str = "unionaid restore",
                   before_write: Callable[[], None] | None = None) -> RestoreResult:
    """Restore a backup into the configured database.

    Refuses, writing nothing, a file whose checksum does not match its ``.sha256`` and a
    database that is not empty (``core.backups.database_is_empty``: no tables at all).
    ``before_write`` runs once both passed, just before the restore (the command's
    confirmation question; raising there stops it). Then runs RESTORE_CHECKS and the keys
    check, and journals
    ``backup.restore`` with their outcome in the restored database."""
    path = Path(path)
    digest = backups.checksum_verify(path)
    backups.backup_kind_of(path)
    if not backups.database_is_empty(connection):
        raise BackupError(
            "目标数据库不是空库（已有数据表），未做任何改动。请新建一个空数据库"
            "（不要先执行 migrate）再恢复。 (the target database is not empty: it has tables; "
            "nothing was written. Create a new, empty database — don't migrate it — and "
            "restore into that.)", code="backup_target_not_empty")
    if before_write is not None:
        before_write()
    backups.restore_into(path, connection=connection)
    checks = [*(run_check(name) for name in RESTORE_CHECKS), keys_check()]
    result = RestoreResult(file=path, sha256=digest, checks=checks)
    _journal(action="backup.restore", outcome="ok" if result.ok else "failed", actor=None,
             actor_label=actor_label or system_user(), target_label=path.name,
             changes={"via": via, "file": path.name, "sha256": digest,
                      "bytes": path.stat().st_size,
                      "checks": {c.name: "ok" if c.ok else "failed" for c in checks}})
    return result
