"""manage.py approvals_escalate — mark overdue approval tasks and tell the post above.
Run it from cron (e.g. hourly); a task is escalated once."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from unionaid.approvals.services import tasks_escalate_overdue


class Command(BaseCommand):
    help = "标记超期待办并通知上一级同名岗位（每条待办只督办一次）。"

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=10_000, help="本次最多处理多少条")

    def handle(self, *args, limit, **options):
        count = tasks_escalate_overdue(limit=limit)
        self.stdout.write(f"已督办超期待办 {count} 条。")
