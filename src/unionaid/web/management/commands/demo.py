"""``manage.py demo`` (``unionaid demo``): build the demo union on an empty database."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from unionaid.web.demo import DEFAULT_MEMBERS, DEFAULT_SEED, DemoNotEmptyError, build_demo
from unionaid.web.demo.applications import DEFAULT_APPLICATIONS, MAX_APPLICATIONS
from unionaid.web.demo.builder import DEFAULT_VISITS

MAX_VISITS = 3000


class Command(BaseCommand):
    help = (
        "Build a synthetic railway-bureau union (org tree, roles, persona logins, members, the "
        "assistance catalog, approval flows, budgets, applications in every state, home visits "
        "and a hardship archive, and other departments' lists matched to the roll with their "
        "leads). "
        "Refuses to run on a database that already has an org tree."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true",
            help="do nothing (and succeed) if any org unit exists",
        )
        parser.add_argument("--members", type=int, default=DEFAULT_MEMBERS,
                            help=f"number of members (default {DEFAULT_MEMBERS})")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                            help=f"random seed (default {DEFAULT_SEED})")
        parser.add_argument("--applications", type=int, default=DEFAULT_APPLICATIONS,
                            help=f"assistance applications to file (default "
                            f"{DEFAULT_APPLICATIONS}, at most {MAX_APPLICATIONS})")
        parser.add_argument("--visits", type=int, default=DEFAULT_VISITS,
                            help=f"home visits the demo campaign records (default "
                            f"{DEFAULT_VISITS}, at most {MAX_VISITS})")
        parser.add_argument("--no-lists", action="store_true",
                            help="leave out the other departments' lists (低保, medical bills, "
                            "admissions, deaths, property), their matches and leads")

    def handle(self, *args, if_empty=False, members=DEFAULT_MEMBERS, seed=DEFAULT_SEED,
               applications=DEFAULT_APPLICATIONS, visits=DEFAULT_VISITS, no_lists=False,
               **opts):
        if members < 0:
            raise CommandError("--members must be 0 or more")
        if not 0 <= applications <= MAX_APPLICATIONS:
            raise CommandError(f"--applications must be between 0 and {MAX_APPLICATIONS}")
        if not 0 <= visits <= MAX_VISITS:
            raise CommandError(f"--visits must be between 0 and {MAX_VISITS}")
        try:
            result = build_demo(members=members, seed=seed, applications=applications,
                                visits=visits, lists=not no_lists)
        except DemoNotEmptyError:
            if if_empty:
                self.stdout.write("数据库已有组织数据，跳过演示数据。 (database not empty, demo skipped)")
                return
            raise CommandError(
                "数据库已有组织数据，演示数据只能建在空库上。 "
                "(the database already has org units; the demo only builds on an empty one)"
            ) from None
        counts = result.unit_counts
        self.stdout.write(self.style.SUCCESS(
            f"演示工会已建成 (demo union built) in {result.seconds:.1f}s: "
            f"{counts['站段']} 站段, {counts['车间']} 车间, {counts['班组']} 班组, "
            f"{result.members} 职工 (members), {result.household} 家庭成员 (household), "
            f"{result.consents} 同意记录 (consents), {len(result.users)} 登录 (logins)."
        ))
        filed = result.applications
        states = ", ".join(f"{k} {v}" for k, v in sorted(filed.by_status.items()))
        self.stdout.write(
            f"帮扶项目 (catalog items) {result.chain.items}, 审批流程 (flows) "
            f"{len(result.chain.flows)}, 预算 (budgets) {len(result.chain.budgets)}; "
            f"帮扶申请 (applications) {filed.total}: {states or '-'}; "
            f"发放批次 (batches) {filed.batches}, 冲正 (reversed) {filed.reversed}, "
            f"特事特办 (fast track) {filed.fast_track}."
        )
        hardship = result.hardship
        self.stdout.write(
            f"走访 (visits) {hardship.visits} 入户 + {hardship.workplace_visits} 走访单位, "
            f"结对 (pairings) {hardship.pairings}; 困难档案 (hardship records) "
            f"{hardship.records}: 在档 {hardship.active}, 公示/审批中 "
            f"{hardship.records - hardship.active - hardship.exited}, "
            f"已脱困 {hardship.exited}, 再次建档 {hardship.re_enrolled}."
        )
        lists = result.lists
        self.stdout.write(
            f"外部数据 (lists) {lists.datasets}, {lists.rows} 行 (rows): 比对成功 (matched) "
            f"{lists.matched}, 待复核 (review) {lists.review}; 线索 (leads) {lists.leads}."
        )
        self.stdout.write("登录账号见 (logins): manage.py demo_logins")
