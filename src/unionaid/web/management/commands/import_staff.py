"""``unionaid import_staff FILE [--dry-run] [--as USERNAME] [--passwords-out FILE.xlsx]``
(also: ``unionaid import staff FILE``)

Checks or imports staff logins with their posts (.xlsx / .csv: 登录名, 姓名, 手机号, 单位编码, 岗位,
角色, 电子邮箱), prints every bad row and exits non-zero if there is any; then nothing is
imported. A real run gives every new login a one-time password, written to ``--passwords-out``
(an .xlsx readable by its owner only) or else printed once; each must be changed at first login.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from unionaid.accounts.staff_import import staff_import
from unionaid.web.management.commands.import_org import acting_user, checked_import
from unionaid.web.setup_files import credentials_sheet, read_staff_file


class Command(BaseCommand):
    help = "导入人员及其岗位（.xlsx 或 .csv）；--dry-run 只检查不写入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="人员文件 .xlsx / .csv")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不导入")
        parser.add_argument("--as", dest="username", default="",
                            help="以哪个安全管理员的身份和权限导入（不给：服务器操作员）")
        parser.add_argument("--passwords-out", default="",
                            help="把初始密码写入此 .xlsx 文件（仅所有者可读）；不给则打印一次")

    def handle(self, *args, file, dry_run=False, username="", passwords_out="", **options):
        actor = acting_user(username)
        out = Path(passwords_out) if passwords_out else None
        if out is not None and not dry_run:
            if out.suffix.lower() != ".xlsx":
                raise CommandError("--passwords-out 须是 .xlsx 文件。")
            if out.exists():
                raise CommandError(f"{out} 已存在，不会覆盖。")
        result = checked_import(self.stdout, read=read_staff_file, service=staff_import,
                                file=file, actor=actor, dry_run=dry_run)
        if dry_run:
            return
        self.stdout.write(self.style.SUCCESS(
            f"导入完成：新增用户 {result.users_created} 个，新建岗位 {result.posts_created} 个，"
            f"任职 {result.assignments} 项。"))
        if out is not None:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(credentials_sheet(result.credentials))
            self.stdout.write(f"初始密码已写入 {out}（首次登录须修改）。")
        else:
            self.stdout.write("初始密码（只显示这一次，首次登录须修改）：")
            for c in result.credentials:
                self.stdout.write(f"{c.username}\t{c.full_name}\t{c.password}")
