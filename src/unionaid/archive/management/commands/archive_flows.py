"""manage.py archive_flows — create the default enrolment and exit flows (车间审核 → 公示 5
个工作日 → 站段审批) at a unit (default: every root unit), leaving existing flows alone."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from unionaid.archive.flows import STATION_POST, WORKSHOP_POST, archive_flows_ensure, default_steps
from unionaid.org.models import OrgUnit


class Command(BaseCommand):
    help = "创建困难职工建档与解困脱困的默认审批流程（已有流程不改动）。"

    def add_arguments(self, parser):
        parser.add_argument("--unit", default="", help="单位编码（默认：各顶级单位）")
        parser.add_argument("--station-post", default=STATION_POST, help="站段审批岗位名称")
        parser.add_argument("--workshop-post", default=WORKSHOP_POST, help="车间审核岗位名称")
        parser.add_argument("--notice-days", type=int, default=5, help="公示工作日数")

    def handle(self, *args, unit, station_post, workshop_post, notice_days, **options):
        if unit:
            units = list(OrgUnit.objects.filter(code=unit))
            if not units:
                raise CommandError(f"找不到单位编码 {unit}。")
        else:
            units = list(OrgUnit.objects.get_root_nodes())
        steps = default_steps(station_post=station_post, workshop_post=workshop_post,
                              notice_working_days=notice_days)
        for org_unit in units:
            created = archive_flows_ensure(actor=None, org_unit=org_unit, steps=steps)
            self.stdout.write(f"{org_unit.name}：新建流程 {len(created)} 个。")
