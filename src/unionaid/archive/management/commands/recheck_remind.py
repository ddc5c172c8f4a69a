"""manage.py recheck_remind — remind cadres of yearly re-checks coming due (30 days ahead)
and owners of follow-ups past their date. Run it daily; a reminder is sent once per due date."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand

from unionaid.archive.services.reminders import recheck_remind


class Command(BaseCommand):
    help = "发送年度复核到期提醒和跟进事项到期提醒（同一档案同一到期日只提醒一次）。"

    def add_arguments(self, parser):
        parser.add_argument("--date", type=dt.date.fromisoformat, help="按哪一天计算（默认今天）")

    def handle(self, *args, date, **options):
        count = recheck_remind(today=date)
        self.stdout.write(f"已发送提醒 {count} 条。")
