"""``manage.py backup`` (``unionaid backup``): back up the database now.

Writes one file (SQLite: the online backup API; PostgreSQL: pg_dump custom format) and its
``.sha256`` into ``--dir`` (default BACKUP_DIR), mode 0600; ``--keep N`` then deletes all but the N
newest backups of this database in that folder. The encryption keys are never written: keep
them apart, in their own safe place (docs/backup.md). The backup is journaled (backup.create).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from unionaid.audit.backups import backup_create, system_user
from unionaid.core.errors import ServiceError


class Command(BaseCommand):
    help = "备份数据库：写出一个备份文件及其 SHA-256 校验文件（不含加密密钥）。"

    def add_arguments(self, parser):
        parser.add_argument("--dir", dest="dest_dir", default=None,
                            help="备份目录（默认 BACKUP_DIR 设置）")
        parser.add_argument("--keep", type=int, default=None,
                            help="只保留本数据库最新的 N 份备份，删除更早的（默认不删除）")

    def handle(self, *args, dest_dir=None, keep=None, **options):
        try:
            path = backup_create(dest_dir or settings.BACKUP_DIR, keep=keep,
                                 actor_label=system_user(), via="unionaid backup")
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        except OSError as exc:
            raise CommandError(f"无法写入备份 (can't write the backup): {exc}") from None
        size = path.stat().st_size
        self.stdout.write(self.style.SUCCESS(
            f"备份完成 (backup written): {path} ({size} 字节 bytes)"))
        self.stdout.write(f"校验文件 (checksum): {path}.sha256 — 加密密钥不在备份中，请另行保管。"
                          " (the encryption keys are not in the backup: keep them apart.)")
