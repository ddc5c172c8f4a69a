"""manage.py exports_cleanup — delete the files of background exports past their 24 hours (the
job rows stay, marked expired), cancel queued exports that expired before a worker ran them, fail
running exports whose worker died (running over 6 hours, or expired) and delete their files, and
delete .xlsx files under PRIVATE_MEDIA_ROOT/exports/ that no job names and that are more than a
day old (left by a direct export whose worker was killed). Run it from cron, e.g. hourly."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from unionaid.exports.services import export_jobs_cleanup


class Command(BaseCommand):
    help = "删除已过期（超过 24 小时）的后台导出文件。"

    def handle(self, *args, **options):
        result = export_jobs_cleanup(actor=None)
        self.stdout.write(
            f"已删除过期导出文件 {result.deleted} 个、无主旧文件 {result.orphans} 个，"
            f"取消超时未执行的导出 {result.cancelled} 个，"
            f"终止运行超时的导出 {result.stuck} 个。")
        self.stdout.write(
            f"Deleted {result.deleted} expired export files and {result.orphans} orphan files; "
            f"cancelled {result.cancelled} queued exports; failed {result.stuck} stuck exports.")
