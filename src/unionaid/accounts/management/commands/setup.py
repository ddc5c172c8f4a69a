"""``unionaid setup``: start a real union on an empty database (first-run set-up).

Asks for what it lacks (in Chinese, or in English when ``LANGUAGE``/``LANG`` starts with
``en``); scripts pass every answer as a flag and ``--no-input``:

    unionaid setup --union-name 某某铁路局工会 --levels 路局,站段,车间,班组 \\
        --root-code SL --admin-username secadmin --admin-name 张三 \\
        [--root-name 某某铁路局工会] [--admin-password-file FILE] [--no-input]

Without ``--admin-password-file`` a one-time password is generated and printed once; the
security admin sets their own at first login, then enrols TOTP. Refuses, writing nothing and
exiting non-zero, once the database holds a union, a unit or any login.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from unionaid.accounts.setup import is_set_up, union_setup
from unionaid.core.errors import ServiceError


def command_language() -> str:
    """The console's language: English if LANGUAGE (or LC_ALL, LANG) says so, else Chinese."""
    for name in ("LANGUAGE", "LC_ALL", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh-hans"
    return "zh-hans"


class Command(BaseCommand):
    help = "初始化：在空数据库上建立工会、层级、根单位和第一位安全管理员。"

    def add_arguments(self, parser):
        parser.add_argument("--union-name", default="", help="工会名称 (the union's name)")
        parser.add_argument("--levels", default="",
                            help="层级名称，从上到下，逗号分隔，如 路局,站段,车间,班组")
        parser.add_argument("--root-code", default="", help="根单位编码 (root unit code)")
        parser.add_argument("--root-name", default="",
                            help="根单位名称，默认同工会名称 (default: the union's name)")
        parser.add_argument("--admin-username", default="",
                            help="第一位安全管理员的登录名 (first security admin's login)")
        parser.add_argument("--admin-name", default="", help="安全管理员姓名 (their name)")
        parser.add_argument("--admin-password-file", default="",
                            help="从文件读取安全管理员的密码；不给则生成一次性密码并打印一次")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive",
                            help="不提问：缺少的必填项直接报错 (for scripts)")

    def handle(self, *args, union_name="", levels="", root_code="", root_name="",
               admin_username="", admin_name="", admin_password_file="", interactive=True,
               **options):
        with translation.override(command_language()):
            self._run(union_name=union_name, levels=levels, root_code=root_code,
                      root_name=root_name, admin_username=admin_username,
                      admin_name=admin_name, admin_password_file=admin_password_file,
                      interactive=interactive)

    def _ask(self, prompt: str, default: str = "") -> str:
        suffix = f" [{default}]" if default else ""
        try:
            answer = input(f"{prompt}{suffix}: ").strip()
        except EOFError:
            answer = ""
        return answer or default

    def _run(self, *, union_name, levels, root_code, root_name, admin_username, admin_name,
             admin_password_file, interactive):
        if is_set_up():
            raise CommandError(_("系统已经初始化过（已有工会、单位或用户），不能再次初始化。"))
        password = ""
        if admin_password_file:
            try:
                password = Path(admin_password_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise CommandError(_("无法读取密码文件：%(error)s") % {"error": exc.strerror}) \
                    from None
            if not password:
                raise CommandError(_("密码文件是空的。"))
        if interactive:
            union_name = union_name or self._ask(_("工会名称"))
            levels = levels or self._ask(_("层级名称，从上到下，用逗号分隔"), "路局,站段,车间,班组")
            root_code = root_code or self._ask(_("根单位编码"))
            root_name = root_name or self._ask(_("根单位名称"), union_name)
            admin_username = admin_username or self._ask(_("第一位安全管理员的登录名"))
            admin_name = admin_name or self._ask(_("安全管理员姓名"))
        missing = [flag for flag, value in (
            ("--union-name", union_name), ("--levels", levels), ("--root-code", root_code),
            ("--admin-username", admin_username)) if not value]
        if missing:
            raise CommandError(_("缺少必填项：%(flags)s") % {"flags": " ".join(missing)})
        try:
            result = union_setup(
                union_name=union_name, levels=levels, root_code=root_code, root_name=root_name,
                admin_username=admin_username, admin_full_name=admin_name,
                admin_password=password,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(
            _("初始化完成：工会“%(union)s”，根单位“%(root)s”（%(code)s），安全管理员 %(admin)s。")
            % {"union": result.union.name, "root": result.root.name, "code": result.root.code,
               "admin": result.admin.username}))
        if result.generated_password:
            self.stdout.write(_("安全管理员的一次性密码（只显示这一次）：%(password)s")
                              % {"password": result.generated_password})
            self.stdout.write(_("首次登录须先修改密码，再绑定手机验证器（双因素认证）。"))
        else:
            self.stdout.write(_("首次登录须绑定手机验证器（双因素认证）。"))
