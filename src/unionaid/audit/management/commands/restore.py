"""``manage.py restore FILE [--yes]`` (``unionaid restore FILE``): restore a backup into the
configured, empty database.

Checks the file against its ``.sha256`` first and refuses a mismatch; refuses a database that
is not empty (it has any table: create a new database and do not migrate it); asks for
confirmation unless ``--yes``; restores (SQLite: the backup API into the configured file;
PostgreSQL: pg_restore --no-owner in one transaction); then runs ``audit_verify``,
``ledger_check`` and a keys check (the configured keys decrypt a sample of the restored
personal data) and reports them. Exits 1 if a check fails. The backup never holds the keys:
configure the backed-up install's keys, from their own safe place, before restoring
(docs/backup.md).
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from unionaid.audit.backups import backup_restore, system_user
from unionaid.core.errors import ServiceError


class Cancelled(Exception):
    pass


class Command(BaseCommand):
    help = "从备份文件恢复到配置的空数据库，先核对校验值，恢复后运行审计链与资金流水检查。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="备份文件（旁边须有同名 .sha256 校验文件）")
        parser.add_argument("--yes", action="store_true", help="不再询问，直接恢复")

    def handle(self, *args, file, yes=False, **options):
        target = f"{connection.vendor} {connection.settings_dict.get('NAME')}"

        def confirm() -> None:
            if yes:
                return
            if not sys.stdin.isatty():
                raise Cancelled
            answer = input(f"恢复到 (restore into) {target}？输入 yes 继续 (type yes): ")
            if answer.strip().lower() != "yes":
                raise Cancelled

        try:
            result = backup_restore(file, actor_label=system_user(), before_write=confirm)
        except Cancelled:
            raise CommandError("未恢复：需要确认（或加 --yes）。 (not restored: confirm, or "
                               "pass --yes)") from None
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"已恢复 (restored) {result.file.name} → {target} "
                          f"(sha256 {result.sha256[:12]}…)")
        for check in result.checks:
            mark = "通过 (passed)" if check.ok else "未通过 (FAILED)"
            self.stdout.write(f"[{check.name}] {mark}")
            if check.output:
                self.stdout.write("    " + check.output.replace("\n", "\n    "))
        if not result.ok:
            raise CommandError("恢复后的检查未通过，见上。 (checks failed after the restore, "
                               "see above)")
        self.stdout.write(self.style.SUCCESS(
            "恢复完成，审计链、资金流水和密钥检查通过。 (restore done; audit chain, ledger and "
            "keys checks passed)"))
