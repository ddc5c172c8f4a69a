"""manage.py storage_sweep — delete uploaded files (application materials, visit photos) that no
row names, e.g. written by a request whose transaction then rolled back. Only files older than
``--older-than-hours`` (default 24) are touched, so an upload in flight is never removed; symlinks
are never followed. Run it from cron (e.g. nightly); ``--dry-run`` only lists the files."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from unionaid.assistance.storage import storage_sweep
from unionaid.core.errors import ServiceError


class Command(BaseCommand):
    help = "清理私有存储中没有任何记录引用的上传文件（只清理足够旧的文件，不跟随符号链接）。"

    def add_arguments(self, parser):
        parser.add_argument("--older-than-hours", type=float, default=24,
                            help="只清理最后修改时间早于这么多小时的文件（默认 24，至少 1）")
        parser.add_argument("--dry-run", action="store_true", help="只列出，不删除")

    def handle(self, *args, older_than_hours, dry_run, **options):
        def show(path: str, size: int) -> None:
            if dry_run or options["verbosity"] > 1:
                self.stdout.write(f"{path}\t{size}")

        try:
            result = storage_sweep(actor=None, older_than_hours=older_than_hours,
                                   dry_run=dry_run, on_orphan=show)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        verb, verb_en = ("可删除（试运行，未删除）", "would delete (dry run)") if dry_run else (
            "已删除", "deleted")
        self.stdout.write(
            f"已检查 {result.scanned} 个文件：有记录引用 {result.referenced}，"
            f"不足 {older_than_hours:g} 小时未检查 {result.recent}，跳过 {result.skipped}；"
            f"无引用文件{verb} {result.orphans} 个，共 {result.orphan_bytes} 字节。")
        self.stdout.write(
            f"Checked {result.scanned} files: {result.referenced} referenced, {result.recent} "
            f"newer than {older_than_hours:g} h (not checked), {result.skipped} skipped; "
            f"{verb_en} {result.orphans} orphan files, {result.orphan_bytes} bytes.")
        if result.failed:
            raise CommandError(f"有 {result.failed} 个文件无法删除（见日志）。"
                               f" {result.failed} files could not be deleted (see the log).")
