"""manage.py watch_refresh — recompute the rule watch lists (edge of hardship, gig workers,
workers of firms in difficulty). Run it from cron (e.g. nightly); a second run changes nothing."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from unionaid.archive.models import WatchKind
from unionaid.archive.services.watch import RULE_KINDS, watchlists_refresh
from unionaid.core.errors import ServiceError


class Command(BaseCommand):
    help = "按规则刷新动态管理清单（边缘困难职工、新就业形态劳动者、困难企业职工）；手工列入的不受影响。"

    def add_arguments(self, parser):
        parser.add_argument("--kind", action="append", choices=[k.value for k in RULE_KINDS],
                            help="只刷新该清单（可重复）")
        parser.add_argument("--date", type=dt.date.fromisoformat,
                            help="按哪一天计算（默认今天；决定低保标准的年度）")

    def handle(self, *args, kind, date, **options):
        try:
            result = watchlists_refresh(actor=None, today=date, kinds=kind or RULE_KINDS)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        for key, counts in result.items():
            if isinstance(counts, dict):
                self.stdout.write(
                    f"{WatchKind(key).label}：符合 {counts['matched']} 人，新增 {counts['added']}，"
                    f"移出 {counts['removed']}，随调动更新单位 {counts['moved']}")
        if result.get("edge_skipped_no_line"):
            self.stdout.write(f"所在单位没有本年度低保标准、未测算边缘困难的职工："
                              f"{result['edge_skipped_no_line']} 人")
