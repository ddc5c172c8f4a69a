"""Backups of the database: one file and its checksum, never the keys.

The mechanics only, domain-free: writing a backup file of the configured database, its sha256
sidecar, pruning old ones, checking a file before a restore, and restoring it into an empty
database. The journaled operations and the commands (``unionaid backup``, ``unionaid restore``)
are in ``unionaid.audit.backups``, the lowest layer that can write the journal.

* SQLite: the online backup API (``sqlite3.Connection.backup``) of the app's own connection:
  a consistent copy while the app keeps running, written in rollback-journal mode so that the
  backup is one self-contained file.
* PostgreSQL: ``pg_dump --format=custom`` (consistent: it reads one snapshot). The connection
  details come from the Django database settings through libpq's environment variables
  (PGHOST, PGUSER, PGPASSWORD …), so the password is never on a command line.

A backup file is named ``unionaid-<kind>-<database>-<UTC time>.<ext>``; the sidecar
``<file>.sha256`` holds ``<hex>  <file name>`` (``sha256sum -c`` checks it in that folder). Both
are written under a temporary name, then renamed, with mode 0600.

The file holds the data as stored: personal data stays encrypted and the lookup hashes keyed.
The encryption and index keys (UNIONAID_KEYS, UNIONAID_INDEX_KEY, settings or *_FILE) are not in
the database and are never written here: a restore needs them from their own safe place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.db import connection as default_connection

from unionaid.core.errors import ServiceError

PREFIX = "unionaid"
EXTENSIONS = {"sqlite": ".sqlite3", "postgresql": ".dump"}
CHECKSUM_SUFFIX = ".sha256"
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
_STAMP_FORMAT = "%Y%m%dT%H%M%S"
_STAMP_RE = r"\d{8}T\d{6}\.\d{3}Z"
_CHUNK = 1024 * 1024
# libpq's environment variable for each Django setting / connection option.
_PG_ENV = {"NAME": "PGDATABASE", "USER": "PGUSER", "PASSWORD": "PGPASSWORD", "HOST": "PGHOST",
           "PORT": "PGPORT"}
_PG_OPTION_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
                  "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "passfile": "PGPASSFILE",
                  "service": "PGSERVICE", "connect_timeout": "PGCONNECT_TIMEOUT"}


class BackupError(ServiceError):
    default_code = "backup_failed"
    default_message = "备份或恢复失败。 (backup or restore failed)"


@dataclass(frozen=True)
class BackupFile:
    path: Path
    checksum_path: Path
    sha256: str
    size: int
    kind: str


# -- names ---------------------------------------------------------------------------------

def database_kind(connection=default_connection) -> str:
    vendor = connection.vendor
    if vendor not in EXTENSIONS:
        raise BackupError(f"不支持备份 {vendor} 数据库。 (no backups for a {vendor} database)",
                          code="backup_unsupported")
    return vendor


def database_label(connection=default_connection) -> str:
    """The database's name as it appears in backup file names: the SQLite file's stem or the
    PostgreSQL database name, reduced to letters, digits, '_' and '-'."""
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor == "sqlite":
        if name.startswith("file:"):  # an in-memory test database: file:memorydb_default?…
            name = name[5:].split("?", 1)[0]
        name = Path(name).stem or "memory"
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "db"


def backup_name(kind: str, label: str, when: dt.datetime) -> str:
    stamp = when.astimezone(dt.UTC).strftime(_STAMP_FORMAT) + f".{when.microsecond // 1000:03d}Z"
    return f"{PREFIX}-{kind}-{label}-{stamp}{EXTENSIONS[kind]}"


def backup_name_pattern(kind: str, label: str) -> re.Pattern[str]:
    return re.compile(
        rf"{PREFIX}-{re.escape(kind)}-{re.escape(label)}-{_STAMP_RE}{re.escape(EXTENSIONS[kind])}")


# -- checksums -----------------------------------------------------------------------------

def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_path_for(path: Path) -> Path:
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def checksum_verify(path: Path) -> str:
    """Check ``path`` against its ``.sha256`` sidecar; return the digest. Refuses a missing
    file, a missing or unreadable sidecar and a mismatch."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"备份文件不存在：{path} (no such backup file)", code="backup_missing")
    sidecar = checksum_path_for(path)
    try:
        line = sidecar.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise BackupError(
            f"找不到或无法读取校验文件 {sidecar.name}，不能确认备份完好，未恢复。 "
            f"(the checksum file {sidecar.name} is missing or unreadable; nothing restored)",
            code="backup_checksum_missing") from None
    expected, _sep, _name = line.partition(" ")
    if not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise BackupError(
            f"校验文件 {sidecar.name} 格式不对，未恢复。 "
            f"(the checksum file {sidecar.name} is malformed; nothing restored)",
            code="backup_checksum_missing")
    actual = file_sha256(path)
    if actual != expected:
        raise BackupError(
            f"备份文件的 SHA-256 校验值与 {sidecar.name} 不符：文件已损坏或被改动，未恢复。 "
            f"(checksum mismatch: the backup is damaged or was altered; nothing restored)",
            code="backup_checksum_mismatch")
    return actual


# -- writing -------------------------------------------------------------------------------

def _create_private(path: Path) -> None:
    """An empty file only its owner may read, created before any data goes into it."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _write_private_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_write(dest_dir: Path | str, *, connection=default_connection,
                 now: dt.datetime | None = None) -> BackupFile:
    """Write one backup of ``connection``'s database into ``dest_dir`` (created 0700 if
    missing) and its checksum sidecar. Nothing is left under the final name on failure."""
    kind = database_kind(connection)
    dest = Path(dest_dir)
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    final = dest / backup_name(kind, database_label(connection), now)
    if final.exists():
        raise BackupError(f"备份文件已存在：{final.name} (backup file exists)",
                          code="backup_exists")
    tmp = dest / f".{final.name}.partial"
    tmp.unlink(missing_ok=True)
    try:
        _create_private(tmp)
        if kind == "sqlite":
            _sqlite_dump(connection, tmp)
        else:
            _pg_dump(connection, tmp)
        os.chmod(tmp, 0o600)
        digest = file_sha256(tmp)
        size = tmp.stat().st_size
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    sidecar = checksum_path_for(final)
    # sha256sum's own format ("<hex>  <name>"): `sha256sum -c <file>.sha256` in that folder.
    _write_private_text(sidecar, f"{digest}  {final.name}\n")
    _fsync_dir(dest)
    return BackupFile(path=final, checksum_path=sidecar, sha256=digest, size=size, kind=kind)


def _sqlite_source(connection) -> tuple[sqlite3.Connection, bool]:
    """The connection to copy from, and whether it is one of our own to close: a read-only
    connection of its own for a database file (WAL lets it read while the app writes, even
    inside one of the app's transactions); the app's connection for an in-memory database
    (the tests'), which must not be inside a transaction (SQLite's backup would wait forever
    for the lock its own connection holds)."""
    name = str(connection.settings_dict.get("NAME") or "")
    if name and name != ":memory:" and not name.startswith("file:") and Path(name).is_file():
        return sqlite3.connect(f"{Path(name).resolve().as_uri()}?mode=ro", uri=True,
                               timeout=60), True
    if connection.in_atomic_block:
        raise BackupError("不能在事务中备份内存数据库。 (can't back up an in-memory database "
                          "inside a transaction)", code="backup_in_transaction")
    connection.ensure_connection()
    return connection.connection, False


def _sqlite_dump(connection, tmp: Path) -> None:
    source, own = _sqlite_source(connection)
    target = sqlite3.connect(tmp)
    try:
        source.backup(target)
        # One self-contained file: the app's database runs in WAL mode, the copy must not.
        target.execute("PRAGMA journal_mode=DELETE")
        result = target.execute("PRAGMA quick_check").fetchone()[0]
        target.commit()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite 备份失败：{exc} (SQLite backup failed)") from exc
    finally:
        target.close()
        if own:
            source.close()
    if result != "ok":
        raise BackupError(f"备份副本未通过完整性检查：{result} (the copy failed its check)")


def pg_environment(connection=default_connection) -> dict[str, str]:
    """The environment for pg_dump/pg_restore: the process's own plus libpq's variables for
    the Django database settings (so no password ever goes on a command line)."""
    settings_dict = connection.settings_dict
    env = dict(os.environ)
    for key, var in _PG_ENV.items():
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    for key, var in _PG_OPTION_ENV.items():
        value = (settings_dict.get("OPTIONS") or {}).get(key)
        if value:
            env[var] = str(value)
    return env


def pg_tool(name: str, connection=default_connection) -> str:
    """The path of ``pg_dump``/``pg_restore``, refusing one older than the server (it could
    not read the server's catalog, or would write an incomplete dump)."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"找不到 {name}：请安装 PostgreSQL 客户端工具（Debian/Ubuntu: postgresql-client），"
            f"版本不低于数据库服务器。 ({name} not found: install the PostgreSQL client tools, "
            "at least the server's version)", code="backup_tool_missing")
    out = subprocess.run([path, "--version"], capture_output=True, text=True,  # noqa: S603
                         check=False).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    connection.ensure_connection()
    server_major = connection.pg_version // 10000
    tool_major = int(match.group(1)) if match else 0
    if tool_major < server_major:
        raise BackupError(
            f"{name} 版本过旧（{tool_major}），数据库服务器是 PostgreSQL {server_major}：请安装 "
            f"{server_major} 或更新版本的客户端工具。 ({name} {tool_major} is older than the "
            f"server, PostgreSQL {server_major}; install client tools {server_major} or newer)",
            code="backup_tool_too_old")
    return path


def _run_pg(args: list[str], connection, *, what: str) -> None:
    result = subprocess.run(args, env=pg_environment(connection), capture_output=True,  # noqa: S603
                            text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise BackupError(f"{what}失败 ({what} failed): {detail}")


def _pg_dump(connection, tmp: Path) -> None:
    tool = pg_tool("pg_dump", connection)
    _run_pg([tool, "--format=custom", "--no-password", f"--file={tmp}"], connection,
            what="pg_dump ")


# -- retention -----------------------------------------------------------------------------

def backup_prune(dest_dir: Path | str, *, keep: int, kind: str, label: str) -> list[Path]:
    """Delete all but the ``keep`` newest backups of one database (kind and name) in
    ``dest_dir``, with their sidecars. Other files, other databases' backups and anything in
    sub-folders are never touched. Returns the deleted backup files."""
    if keep < 1:
        raise BackupError("保留份数至少为 1。 (keep at least 1 backup)", code="backup_keep")
    pattern = backup_name_pattern(kind, label)
    found = sorted(
        (p for p in Path(dest_dir).iterdir()
         if pattern.fullmatch(p.name) and p.is_file() and not p.is_symlink()),
        key=lambda p: p.name, reverse=True)  # the UTC stamp sorts as text
    removed = []
    for old in found[keep:]:
        old.unlink()
        checksum_path_for(old).unlink(missing_ok=True)
        removed.append(old)
    return removed


# -- restoring -----------------------------------------------------------------------------

def backup_kind_of(path: Path) -> str:
    """Which database a backup file is of, from its first bytes."""
    with Path(path).open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    raise BackupError("这不是 unionaid 的备份文件。 (not a unionaid backup file)",
                      code="backup_unknown_format")


def database_is_empty(connection=default_connection) -> bool:
    """Empty means no tables at all (views included): a database just created with
    ``createdb``, or a SQLite file that does not exist yet or has no tables. A migrated
    database is not empty, even with no rows."""
    return not connection.introspection.table_names(include_views=True)


def restore_into(path: Path | str, *, connection=default_connection) -> None:
    """Restore a checked backup file into the configured, empty database. The caller checks
    the checksum and the emptiness first (``unionaid restore`` does)."""
    path = Path(path)
    kind = database_kind(connection)
    file_kind = backup_kind_of(path)
    if file_kind != kind:
        raise BackupError(
            f"这是 {file_kind} 数据库的备份，当前配置的是 {kind} 数据库。 "
            f"(a {file_kind} backup can't be restored into a {kind} database)",
            code="backup_wrong_kind")
    if kind == "sqlite":
        _sqlite_restore(path, connection)
    else:
        _pg_restore(path, connection)
    connection.close()  # the next query sees the restored database with fresh settings


def _sqlite_restore(path: Path, connection) -> None:
    connection.ensure_connection()
    if connection.in_atomic_block:
        raise BackupError("不能在事务中恢复。 (can't restore inside a transaction)")
    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        source.backup(connection.connection)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite 恢复失败：{exc} (SQLite restore failed)") from exc
    finally:
        source.close()


def _pg_restore(path: Path, connection) -> None:
    tool = pg_tool("pg_restore", connection)
    name = connection.settings_dict["NAME"]
    # One transaction: a failed restore leaves the database as empty as it was. --no-owner and
    # --no-privileges: the new server's role owns everything, whatever the old one was called.
    _run_pg([tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
             "--no-password", f"--dbname={name}", str(path)], connection, what="pg_restore ")
