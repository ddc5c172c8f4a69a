"""manage.py matching_run DATASET_ID --as USERNAME   (also: unionaid dataset match ID …)

Links a loaded dataset against the members the user may match, as the page's button does, with
a progress bar on the terminal and a summary at the end. --retry RUN_ID runs a failed or
cancelled run again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from unionaid.accounts.models import User
from unionaid.core.errors import ServiceError
from unionaid.matching import services
from unionaid.matching.linking import match_run_execute
from unionaid.matching.management.commands._progress import progress_bar
from unionaid.matching.models import RunStatus
from unionaid.matching.selectors import MANAGE, dataset_get_for_user, run_get_for_user


class Command(BaseCommand):
    help = "把一批外部数据与职工名册比对（精确 + 概率），结果写入比对结果与待复核。"

    def add_arguments(self, parser):
        parser.add_argument("dataset", nargs="?", type=int, help="外部数据编号")
        parser.add_argument("--retry", type=int, help="重试该比对任务（失败或已取消的）")
        parser.add_argument("--as", dest="username", required=True, help="以哪个用户的身份比对")

    def handle(self, *args, dataset, retry, username, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"用户 {username} 不存在或已停用。")
        if (dataset is None) == (retry is None):
            raise CommandError("请给出外部数据编号，或 --retry 比对任务编号。")
        try:
            if retry is not None:
                run = services.match_run_retry(
                    actor=user, run=run_get_for_user(user=user, pk=retry, perm=MANAGE),
                    enqueue=False)
            else:
                run = services.match_run_start(
                    actor=user, dataset=dataset_get_for_user(user=user, pk=dataset, perm=MANAGE),
                    enqueue=False)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        with progress_bar() as echo:
            match_run_execute(run.pk, echo=echo)
        run.refresh_from_db()
        if run.status != RunStatus.DONE:
            raise CommandError(f"比对任务 {run.pk} {run.status_label}：{run.error}")
        c = run.counts
        self.stdout.write(self.style.SUCCESS(
            f"比对任务 {run.pk} 完成：外部记录 {c.get('external_rows', 0)} 条，职工 "
            f"{c.get('members', 0)} 人；精确 {c.get('exact', 0)}，概率 "
            f"{c.get('probabilistic', 0)}，待复核 {c.get('review', 0)}，未匹配 "
            f"{c.get('unmatched', 0)}；沿用否定 {c.get('kept_rejected', 0)}，沿用确认 "
            f"{c.get('kept_confirmed', 0)}。"))
