"""manage.py matching_purge — delete the records of datasets past their retention period now
(the scheduler's ``matching.purge`` job does it nightly); each purge is journaled."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from unionaid.matching.services import datasets_purge_expired


class Command(BaseCommand):
    help = "清除超过保留期限的外部数据记录（定时任务 matching.purge 每天自动执行）。"

    def handle(self, *args, **options):
        counts = datasets_purge_expired()
        self.stdout.write(f"清除到期数据 {counts['datasets']} 批，记录 {counts['records']} 条。")
