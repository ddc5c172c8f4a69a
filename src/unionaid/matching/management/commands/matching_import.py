"""manage.py matching_import FILE --source ID --unit CODE --as USERNAME [--title T] [--dry-run]
(also: unionaid dataset import FILE …)

Loads another department's list into a dataset of the unit, as the upload page does, with a
progress bar on the terminal; prints the problems by row. --dry-run only checks (nothing is
written; the stored copy is discarded); --no-limits lifts the upload size limits."""

from __future__ import annotations

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from unionaid.accounts.models import User
from unionaid.core.errors import ServiceError
from unionaid.matching import services
from unionaid.matching.loading import dataset_load_run
from unionaid.matching.management.commands._progress import progress_bar
from unionaid.matching.models import Dataset, DatasetStatus
from unionaid.matching.selectors import source_get_for_user
from unionaid.org.models import OrgUnit


class Command(BaseCommand):
    help = "导入外部名单（.xlsx / .xls / .csv）为某单位的一批外部数据；--dry-run 只检查。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="名单文件")
        parser.add_argument("--source", type=int, required=True, help="数据来源编号")
        parser.add_argument("--unit", required=True, help="所属单位编码")
        parser.add_argument("--as", dest="username", required=True, help="以哪个用户的身份导入")
        parser.add_argument("--title", default="", help="标题（默认文件名）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不导入")
        parser.add_argument("--no-limits", action="store_true",
                            help="不限制行数、列数和文件大小（只用于服务器上的可信文件）")

    def handle(self, *args, file, source, unit, username, title, dry_run, no_limits=False,
               **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"用户 {username} 不存在或已停用。")
        org_unit = OrgUnit.objects.filter(code=unit).first()
        if org_unit is None:
            raise CommandError(f"单位 {unit} 不存在。")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件 {file} 不存在。")
        try:
            source_obj = source_get_for_user(user=user, pk=source)
            with path.open("rb") as fh:
                dataset = services.dataset_upload(
                    actor=user, source=source_obj, org_unit=org_unit,
                    upload=File(fh, name=path.name), title=title, dry_run=dry_run,
                    enqueue=False)
            with progress_bar() as echo:
                dataset_load_run(dataset.pk, dry_run=dry_run, echo=echo, unlimited=no_limits)
            dataset.refresh_from_db()
            if dry_run and dataset.status == DatasetStatus.UPLOADED:
                services.dataset_cancel(actor=user, dataset=dataset)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self._report(dataset, dry_run)

    def _report(self, dataset: Dataset, dry_run: bool) -> None:
        for problem in dataset.problems:
            column = f"[{problem['column']}] " if problem.get("column") else ""
            self.stdout.write(f"第 {problem['row']} 行 {column}{problem['message']}")
        if dataset.status == DatasetStatus.FAILED:
            raise CommandError(f"导入失败，没有导入任何数据：{dataset.message}")
        if dry_run:
            self.stdout.write(self.style.SUCCESS(
                f"检查完成：共 {dataset.row_count} 行，{dataset.problem_count} 处问题；未导入。"))
        else:
            self.stdout.write(self.style.SUCCESS(
                f"导入完成：外部数据 {dataset.pk}，{dataset.row_count} 条记录，"
                f"{dataset.problem_count} 处问题。"))
