"""Bulk-load historical assistance applications with their approval cases and tasks.

History is the background of the assistance benchmark, not what it measures, so it is written
directly (COPY on PostgreSQL, ``executemany`` on SQLite) instead of through the services: years
of applications spread over the members, mostly finished (paid, rejected, withdrawn …), each with
the approval case and the tasks its flow would have produced (decided by the posts' holders,
small amounts skipping the 路局 step), and about 1 % still in review, whose pending tasks fill
the approvers' to-do lists. Disbursements and ledger entries of past years are not generated.

Also used to prepare cases waiting at their last step for the final-approval throughput test.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

STEPLEN = 4
STATUS_WEIGHTS = (("paid", 76), ("approved", 3), ("rejected", 10), ("withdrawn", 6),
                  ("returned", 3), ("in_review", 1), ("draft", 1))
AMOUNTS = (300, 500, 800, 1000, 1200, 1500, 2000, 2000, 3000, 3000, 4000, 5000, 6000, 8000)
REASONS = ("家庭生活困难，申请救助。", "本人住院治疗，自付费用较高。", "子女上学，负担较重。",
           "突发变故，生活暂时困难。")
SKIP_COMMENT = "满足跳过条件：amount <= 2000"
COMMENTS = ("", "", "同意。", "情况属实，同意。")
BATCH = 20_000


@dataclass
class Context:
    """What the generator needs to know about the installation (read once)."""

    member_units: list[tuple[int, int]]  # (member id, team unit id)
    unit_paths: dict[int, str]
    posts: dict[tuple[str, str], tuple[int, int | None, str]]  # (path, post) → (pos, user, label)
    items: list[tuple[int, str, str]]  # (id, code, category code)
    # subject key → (version id, [(step id, post name, unit depth)])
    versions: dict[str, tuple[int, list[tuple[int, str, int]]]]
    filers: dict[str, int]  # 站段 path → filing user id
    next_ids: dict[str, int] = field(default_factory=dict)


def load_context() -> Context:
    from unionaid.accounts.models import Assignment, Position
    from unionaid.approvals.models import FlowVersion
    from unionaid.assistance.models import AssistanceItem
    from unionaid.members.models import Member
    from unionaid.org.models import OrgUnit

    holders = dict(Assignment.objects.current().values_list("position_id", "user_id"))
    posts = {}
    for pk, name, path, unit in Position.objects.values_list(
            "pk", "name", "org_unit__path", "org_unit__name"):
        posts[(path, name)] = (pk, holders.get(pk), f"{unit}·{name}")
    versions = {}
    for version in FlowVersion.objects.filter(is_current=True).select_related("flow"):
        steps = list(version.steps.order_by("order").values_list("pk", "position_name",
                                                                  "unit_depth"))
        versions[version.flow.subject_key] = (version.pk, steps)
    filers = {path: holders[pk] for (path, name), (pk, _u, _l) in posts.items()
              if name == "站段工会帮扶代办员" and pk in holders}
    return Context(
        member_units=list(Member.objects.order_by("pk").values_list("pk", "org_unit_id")),
        unit_paths=dict(OrgUnit.objects.values_list("pk", "path")),
        posts=posts,
        items=list(AssistanceItem.objects.order_by("pk").values_list("pk", "code",
                                                                       "category__code")),
        versions=versions, filers=filers,
    )


def _next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


# -- writing ------------------------------------------------------------------------------------

def _adapt(connection):
    if connection.vendor == "postgresql":
        return lambda value: value
    return connection.ops.adapt_datetimefield_value


def insert(table: str, columns: list[str], rows: Iterable[tuple]) -> int:
    """Insert plain tuples fast: COPY on PostgreSQL, executemany in chunks on SQLite."""
    from django.db import connection

    count = 0
    cols = ", ".join(f'"{c}"' for c in columns)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(
                f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    sql = f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("%s" for _ in columns)})'
    chunk: list[tuple] = []
    with connection.cursor() as cursor:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= BATCH:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


def reset_sequences(tables: list[str]) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                           f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))')


APPLICATION_COLS = ["id", "member_id", "item_id", "org_unit_id", "period", "filed_by_id",
                    "on_behalf", "facts", "reason", "amount", "calculation", "status",
                    "fast_track", "fast_track_reason", "case_id", "created_at", "submitted_at",
                    "decided_at", "updated_at"]
CASE_COLS = ["id", "subject_kind", "subject_id", "flow_version_id", "org_unit_id",
             "applicant_id", "filed_by_id", "status", "current_order", "facts", "fast_track",
             "fast_track_reason", "fast_track_reviewed_at", "fast_track_reviewed_by_id",
             "fast_track_review_comment", "started_at", "finished_at"]
TASK_COLS = ["id", "case_id", "step_id", "order", "status", "assigned_position_id",
             "assigned_user_id", "created_at", "due_at", "escalated_at", "decided_at",
             "decided_by_id", "decided_as", "on_behalf_of_id", "comment", "skip_kind"]


@dataclass
class Spec:
    """One application to write: who, what, how it ended."""

    member_id: int
    unit_id: int
    item: tuple[int, str, str]
    period: str
    amount: int
    status: str
    at: dt.datetime
    stop: int = 0  # for rejected/returned/in_review: the step (1-based) where it stopped


class Writer:
    """Turns specs into application, case and task rows with explicit, consecutive ids."""

    def __init__(self, ctx: Context, rng: random.Random, adapt):
        from unionaid.approvals.models import ApprovalCase, ApprovalTask
        from unionaid.assistance.models import Application

        self.ctx, self.rng, self.adapt = ctx, rng, adapt
        self.app_id, self.case_id = _next_id(Application), _next_id(ApprovalCase)
        self.task_id = _next_id(ApprovalTask)
        self.cases: list[tuple] = []
        self.tasks: list[tuple] = []
        self.pending: list[int] = []  # ids of pending tasks written

    def _post(self, unit_path: str, position_name: str, depth: int):
        return self.ctx.posts.get((unit_path[: depth * STEPLEN], position_name))

    def application(self, spec: Spec) -> tuple:
        ctx, adapt = self.ctx, self.adapt
        path = ctx.unit_paths[spec.unit_id]
        filer = ctx.filers[path[: 2 * STEPLEN]]
        app_id = self.app_id
        self.app_id += 1
        case_id = None
        submitted = spec.at + dt.timedelta(hours=2)
        decided = None
        if spec.status != "draft":
            case_id, decided = self._case(spec, app_id, path, filer, submitted)
        item_id = spec.item[0]
        facts = json.dumps({}, ensure_ascii=False)
        calculation = json.dumps([f"核定金额：{spec.amount:,}.00 元。"], ensure_ascii=False)
        return (app_id, spec.member_id, item_id, spec.unit_id, spec.period, filer, True, facts,
                self.rng.choice(REASONS), f"{spec.amount}.00", calculation, spec.status, False,
                "", case_id, adapt(spec.at), adapt(submitted) if case_id else None,
                adapt(decided) if decided else None, adapt(decided or submitted))

    def _case(self, spec: Spec, app_id: int, path: str, filer: int, started: dt.datetime):
        ctx, adapt, rng = self.ctx, self.adapt, self.rng
        version_id, steps = ctx.versions.get(spec.item[1]) or ctx.versions[""]
        case_id = self.case_id
        self.case_id += 1
        at = started
        status = {"paid": "approved", "approved": "approved", "rejected": "rejected",
                  "withdrawn": "withdrawn", "returned": "returned",
                  "in_review": "in_progress"}[spec.status]
        current = 0
        for order, (step_id, post_name, depth) in enumerate(steps, start=1):
            position_id, user_id, label = self._post(path, post_name, depth) or (None, None, "")
            created, at = at, at + dt.timedelta(hours=rng.randint(2, 70))
            row_status, decided_by, decided_at, comment, skip = "approved", user_id, at, "", ""
            if order == 3 and spec.amount <= 2000:  # skipped by condition: nobody assigned
                row_status, decided_by, comment, skip = "skipped", None, SKIP_COMMENT, "condition"
                decided_at, position_id = created, None
            elif spec.stop == order or (spec.status == "withdrawn" and order == 1):
                row_status = {"rejected": "rejected", "returned": "returned",
                              "withdrawn": "cancelled", "in_review": "pending"}[spec.status]
                comment = {"rejected": "经核实不符合救助条件。",
                           "returned": "请补充材料后重新提交。"}.get(row_status, "")
                if row_status in ("cancelled", "pending"):
                    decided_by = None
                if row_status == "pending":
                    decided_at = None
                    current = order
                    self.pending.append(self.task_id)
            else:
                comment = rng.choice(COMMENTS)
            self.tasks.append((
                self.task_id, case_id, step_id, order, row_status, position_id, None,
                adapt(created), adapt(created + dt.timedelta(days=3)), None,
                adapt(decided_at) if decided_at else None, decided_by,
                label if decided_by else "", None, comment, skip))
            self.task_id += 1
            if row_status not in ("approved", "skipped"):
                break
        finished = None if status == "in_progress" else at
        facts = json.dumps({"amount": spec.amount, "item_code": spec.item[1],
                            "category": spec.item[2], "on_behalf": True, "fast_track": False})
        self.cases.append((
            case_id, "assistance.application", app_id, version_id, spec.unit_id, spec.member_id,
            filer, status, current or len(steps), facts, False, "", None, None, "",
            adapt(started), adapt(finished) if finished else None))
        return case_id, finished

    def flush(self) -> tuple[list[tuple], list[tuple]]:
        cases, tasks = self.cases, self.tasks
        self.cases, self.tasks = [], []
        return cases, tasks


def _specs(ctx: Context, total: int, rng: random.Random, now: dt.datetime) -> Iterator[Spec]:
    statuses = [s for s, w in STATUS_WEIGHTS for _ in range(w)]
    first_year = now.year - 7
    seen: set[tuple[int, int, str]] = set()
    items = [i for i in ctx.items if i[1] != "yl-dbjz"] + [i for i in ctx.items
                                                           if i[1] == "yl-dbjz"] * 3
    produced = 0
    while produced < total:
        member_id, unit_id = ctx.member_units[int(rng.random() * len(ctx.member_units))]
        status = statuses[int(rng.random() * len(statuses))]
        recent = status in ("in_review", "approved", "draft")
        if recent:
            at = now - dt.timedelta(days=rng.uniform(1, 40))
        else:
            year = rng.randint(first_year, now.year)
            start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
            end = min(now - dt.timedelta(days=30), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC))
            if end <= start:
                continue
            at = start + (end - start) * rng.random()
        item = items[int(rng.random() * len(items))]
        period = str(at.year)
        key = (member_id, item[0], period)
        if key in seen:
            continue
        seen.add(key)
        amount = AMOUNTS[int(rng.random() * len(AMOUNTS))]
        stop = 0
        if status in ("rejected", "returned"):
            stop = rng.choice((1, 2))
        elif status == "in_review":
            stop = rng.choice((1, 1, 2, 2, 3)) if amount > 2000 else rng.choice((1, 2))
        produced += 1
        yield Spec(member_id, unit_id, item, period, amount, status, at, stop)


@dataclass
class LoadResult:
    applications: int = 0
    cases: int = 0
    tasks: int = 0
    pending: int = 0
    seconds: float = 0.0


def load_history(*, total: int, seed: int, say=print, specs: Iterable[Spec] | None = None,
                 ctx: Context | None = None) -> tuple[LoadResult, Writer]:
    """Write ``total`` historical applications (or the given ``specs``) in one transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    started = time.perf_counter()
    ctx = ctx or load_context()
    rng = random.Random(seed)
    writer = Writer(ctx, rng, _adapt(connection))
    result = LoadResult()
    source = specs if specs is not None else _specs(ctx, total, rng, timezone.now())
    with transaction.atomic():
        buffer: list[tuple] = []
        for spec in source:
            buffer.append(writer.application(spec))
            if len(buffer) >= BATCH:
                _write(buffer, writer, result)
                buffer = []
                if result.applications % 200_000 == 0:
                    say(f"  history: {result.applications:,} applications, "
                        f"{result.tasks:,} tasks")
        _write(buffer, writer, result)
        reset_sequences(["assistance_application", "approvals_approvalcase",
                         "approvals_approvaltask"])
    result.pending = len(writer.pending)
    result.seconds = round(time.perf_counter() - started, 1)
    return result, writer


def _write(buffer: list[tuple], writer: Writer, result: LoadResult) -> None:
    # cases first (applications point to them), then tasks, then the applications
    cases, tasks = writer.flush()
    result.cases += insert("approvals_approvalcase", CASE_COLS, cases)
    result.tasks += insert("approvals_approvaltask", TASK_COLS, tasks)
    result.applications += insert("assistance_application", APPLICATION_COLS, buffer)
