"""manage.py import_members FILE [--dry-run] --as USERNAME  (also: unionaid import members FILE)

Checks or imports a roster with a progress bar on the terminal, prints every bad row and exits
non-zero if there is any (nothing is imported then)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from unionaid.accounts.models import User
from unionaid.core.errors import ServiceError
from unionaid.core.spreadsheets import UNLIMITED
from unionaid.members.importing import import_roster

STAGES = {"checking": "检查", "writing": "写入"}


class Command(BaseCommand):
    help = "导入职工名册（.xlsx 或 .csv）；--dry-run 只检查不写入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="名册文件 .xlsx / .csv")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不导入")
        parser.add_argument("--as", dest="username", required=True,
                            help="以哪个用户的身份和权限导入")
        parser.add_argument("--no-limits", action="store_true",
                            help="不限制行数、列数和文件大小（只用于服务器上的可信文件）")

    def handle(self, *args, file, dry_run, username, no_limits=False, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"用户 {username} 不存在或已停用。")
        console = Console(stderr=True)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
            task_id = bar.add_task(STAGES["checking"], total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task_id, description=STAGES.get(stage, stage), completed=done,
                           total=total or None)

            try:
                result = import_roster(actor=user, path=file, dry_run=dry_run, progress=progress,
                                       limits=UNLIMITED if no_limits else None)
            except ServiceError as exc:
                raise CommandError(exc.message) from None
        for error in result.errors:
            column = f"[{error.column}] " if error.column else ""
            self.stdout.write(f"第 {error.row_number} 行 {column}{error.message}")
        if result.error_count:
            raise CommandError(
                f"共 {result.total} 行，{result.bad_rows} 行有错误（{result.error_count} 处）；"
                "没有导入任何数据。"
            )
        if dry_run:
            self.stdout.write(self.style.SUCCESS(f"检查通过：共 {result.total} 行，没有错误。"))
        else:
            self.stdout.write(self.style.SUCCESS(f"导入完成：新增职工 {result.created} 人。"))
