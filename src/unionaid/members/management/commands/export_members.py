"""manage.py export_members --as USERNAME [-o FILE] [--unit CODE] [--query Q] [--reveal]
(also: unionaid export members ...). Writes the roster the user may export to .xlsx."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from unionaid.accounts.models import User
from unionaid.core.errors import ServiceError
from unionaid.members.exporting import export_members
from unionaid.org.models import OrgUnit


class Command(BaseCommand):
    help = "导出职工名册为 .xlsx；号码默认打码，--reveal 需有查看完整信息的权限（记入审计）。"

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="username", required=True, help="以哪个用户的身份导出")
        parser.add_argument("-o", "--output", help="输出文件，默认 职工名册-日期.xlsx")
        parser.add_argument("--unit", help="只导出该单位（编码）及其下级")
        parser.add_argument("--query", default="", help="姓名、身份证号或手机号")
        parser.add_argument("--reveal", action="store_true", help="导出完整证件号和手机号")

    def handle(self, *args, username, output, unit, query, reveal, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"用户 {username} 不存在或已停用。")
        org_unit = None
        if unit:
            org_unit = OrgUnit.objects.filter(code=unit).first()
            if org_unit is None:
                raise CommandError(f"找不到单位编码 {unit}。")
        console = Console(stderr=True)
        with Progress(TextColumn("导出"), BarColumn(), MofNCompleteColumn(), console=console,
                      disable=not console.is_terminal) as bar:
            task_id = bar.add_task("export", total=None)
            try:
                result = export_members(
                    actor=user, unit=org_unit, query=query, reveal=reveal,
                    path=Path(output) if output else None,
                    progress=lambda done, total: bar.update(task_id, completed=done, total=total),
                )
            except ServiceError as exc:
                raise CommandError(exc.message) from None
        target = result.path
        if not output:
            target = Path.cwd() / result.download_name
            shutil.move(result.path, target)
        self.stdout.write(self.style.SUCCESS(
            f"已导出 {result.count} 人到 {target}"
            + (f"（其中 {result.revealed_count} 人为完整号码）" if result.revealed else "")
        ))
