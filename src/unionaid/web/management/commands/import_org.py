"""``unionaid import_org FILE [--dry-run] [--as USERNAME]`` (also: ``unionaid import org FILE``)

Checks or imports an org tree (.xlsx / .csv: 单位编码, 单位名称, 上级单位编码, 层级), prints every
bad row and exits non-zero if there is any; then nothing is imported. Without ``--as`` the
operator at the server's console imports anywhere in the tree (journaled without a user)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from unionaid.accounts.models import User
from unionaid.core.errors import ServiceError
from unionaid.org.importing import orgunits_import
from unionaid.web.setup_files import read_org_file


def acting_user(username: str | None):
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"用户 {username} 不存在或已停用。")
    return user


def print_problems(stdout, problems) -> None:
    for problem in problems:
        column = f"[{problem.column}] " if problem.column else ""
        stdout.write(f"第 {problem.row_number} 行 {column}{problem.message}")


def checked_import(stdout, *, read, service, file, actor, dry_run: bool):
    """Read ``file`` and run ``service`` on its rows: every bad row printed and CommandError
    (nothing imported) if there is any; the result otherwise, after a dry run's "检查通过"."""
    try:
        rows, problems = read(file)
        if problems:
            print_problems(stdout, problems)
            raise CommandError("文件格式不正确；没有导入任何数据。")
        result = service(actor=actor, rows=rows, dry_run=dry_run)
    except ServiceError as exc:
        raise CommandError(exc.message) from None
    print_problems(stdout, result.errors)
    if result.errors:
        raise CommandError(
            f"共 {result.total} 行，{result.bad_rows} 行有错误（{len(result.errors)} 处）；"
            "没有导入任何数据。")
    if dry_run:
        stdout.write(f"检查通过：共 {result.total} 行，没有错误。")
    return result


class Command(BaseCommand):
    help = "导入组织机构（.xlsx 或 .csv）；--dry-run 只检查不写入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="组织机构文件 .xlsx / .csv")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不导入")
        parser.add_argument("--as", dest="username", default="",
                            help="以哪个用户的身份和权限导入（不给：服务器操作员，全树）")

    def handle(self, *args, file, dry_run=False, username="", **options):
        result = checked_import(self.stdout, read=read_org_file, service=orgunits_import,
                                file=file, actor=acting_user(username), dry_run=dry_run)
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(f"导入完成：新增单位 {result.created} 个。"))
