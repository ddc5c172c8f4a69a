"""``manage.py demo_logins``: the demo personas, their password, post and what they can see."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.table import Table

from unionaid.accounts.access import compute_access
from unionaid.accounts.models import User
from unionaid.web.demo.staff import DEMO_PASSWORD, PERSONAS, UNIT_STAFF_PREFIX


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
        prefixes = sorted(set(UNIT_STAFF_PREFIX.values()))
        staff = User.objects.none()
        for prefix in prefixes:
            staff |= User.objects.filter(username__startswith=prefix)
        count = staff.count()
        if count:
            example = staff.order_by("username").values_list("username", flat=True).first()
            console.print(
                f"另有 {count} 个各车间、站段审批人和站段帮扶代办员账号（用户名 "
                f"{'…、'.join(prefixes)}…＋单位编码，如 {example}），密码同上。 "
                f"({count} more logins: the approvers of the other 车间/站段 and each 站段's "
                "intake cadre, same password)"
            )
        console.print("三类管理员登录需要动态口令：运行表中命令获取当前6位数字。 "
                      "(the three admins need a TOTP code: run the command shown)")
