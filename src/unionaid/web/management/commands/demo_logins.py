"""``manage.py demo_logins``: the demo personas, their password, post and what they can see."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.table import Table

from unionaid.accounts.access import compute_access
from unionaid.accounts.models import User
from unionaid.web.demo.staff import DEMO_PASSWORD, PERSONAS


class Command(BaseCommand):
    help = "Print the demo logins (username, password, post, data scope) in Chinese and English."

    def handle(self, *args, **opts):
        users = {u.username: u for u in User.objects.filter(
            username__in=[p.username for p in PERSONAS]).select_related("member__org_unit")}
        console = Console(file=self.stdout, width=160, highlight=False)
        if not users:
            console.print("尚未生成演示数据，请先运行 `unionaid demo`。 "
                          "(no demo logins yet: run `unionaid demo` first)")
            return
        table = Table(title="演示账号 Demo logins", show_lines=False)
        table.add_column("用户名 username", no_wrap=True)
        table.add_column("密码 password", no_wrap=True)
        table.add_column("岗位 post")
        table.add_column("可见范围 can see")
        table.add_column("动态口令 2FA", no_wrap=True)
        for persona in PERSONAS:
            user = users.get(persona.username)
            if user is None:
                continue
            labels = compute_access(user).position_labels
            if labels:
                post = "、".join(labels)
            elif user.member_id:
                post = f"{persona.post_zh}（{user.member.org_unit.name}）"
            else:
                post = persona.post_zh
            table.add_row(
                persona.username,
                DEMO_PASSWORD,
                f"{post}\n{persona.post_en}",
                f"{persona.sees_zh}\n{persona.sees_en}",
                f"unionaid demo_otp {persona.username}" if persona.needs_otp else "-",
            )
        console.print(table)
        console.print("三类管理员登录需要动态口令：运行表中命令获取当前6位数字。 "
                      "(the three admins need a TOTP code: run the command shown)")
