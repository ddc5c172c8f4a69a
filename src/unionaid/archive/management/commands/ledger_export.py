"""manage.py ledger_export --as USER --kind archive|visits [--unit CODE] --from DATE --to DATE
[--out FILE] [--reveal] — write the archive ledger (困难职工档案台账) or the visit ledger (走访台账)
that USER may read to .xlsx. The export is journaled like one made on the page."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from unionaid.accounts.models import User
from unionaid.archive.ledgers.archive_ledger import export_archive_ledger
from unionaid.archive.ledgers.visit_ledger import export_visit_ledger
from unionaid.core.errors import NotFound, ServiceError
from unionaid.org.models import OrgUnit


class Command(BaseCommand):
    help = "导出困难职工档案台账或走访台账（.xlsx）；身份证号和电话默认打码。"

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="username", required=True,
                            help="以哪个用户的身份导出（决定数据范围）")
        parser.add_argument("--kind", choices=["archive", "visits"], required=True,
                            help="archive 困难职工档案台账；visits 走访台账")
        parser.add_argument("--unit", help="单位编码（含下级）；不填为该用户管辖的全部")
        parser.add_argument("--from", dest="start", type=dt.date.fromisoformat, required=True,
                            help="开始日期，如 2026-01-01")
        parser.add_argument("--to", dest="end", type=dt.date.fromisoformat, required=True,
                            help="结束日期，如 2026-12-31")
        parser.add_argument("--out", help="输出文件，默认为 单位-台账-日期.xlsx")
        parser.add_argument("--reveal", action="store_true",
                            help="导出完整身份证号和电话（须有查看权限，记入审计）")

    def handle(self, *args, username, kind, unit, start, end, out, reveal, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"用户 {username} 不存在或已停用。")
        org_unit = None
        if unit:
            org_unit = OrgUnit.objects.filter(code=unit).first()
            if org_unit is None:
                raise CommandError(f"找不到单位编码 {unit}。")
        try:
            if kind == "archive":
                result = export_archive_ledger(actor=user, unit=org_unit, start=start, end=end,
                                               reveal=reveal, path=Path(out) if out else None)
            else:
                if reveal:
                    raise CommandError("走访台账不含身份证号和电话，无需 --reveal。")
                result = export_visit_ledger(actor=user, unit=org_unit, start=start, end=end,
                                             path=Path(out) if out else None)
        except NotFound:
            raise CommandError(f"单位 {unit} 不在 {username} 的管辖范围内。") from None
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        target = result.path
        if not out:
            target = Path.cwd() / result.download_name
            shutil.move(result.path, target)
        self.stdout.write(self.style.SUCCESS(f"已导出 {result.count} 行到 {target}"))
