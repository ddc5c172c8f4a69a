"""The assistance suite of ``benchmarks/run.py``, inside Django, for one database.

On top of the members (imported by the members suite, or by ``_prepare`` here), it bulk-loads
historical applications with their approval cases and tasks (``history``), then measures:

* an approver's to-do list: ``approvals.selectors.todo_for_user`` (first page, evaluated) and the
  page ``GET /approvals/todo/`` as the 站段 cadre and as the 路局 cadre;
* a worker's timeline: ``approvals.selectors.case_timeline`` on random historical cases, and the
  page ``GET /me/applications/<pk>/`` as a worker with applications over several years;
* final approvals per second through the service layer: cases waiting at their last step (路局,
  amount > 2,000) are prepared in bulk with enough budget, then ``task_decide(approve)`` is timed
  for each — each call locks the case, records the decision, approves the case, reserves the
  money from the 站段 budget (ledger entries) and marks the application approved, all audited —
  in one process, and in two processes in parallel (PostgreSQL only);
* final approvals per second through HTTP (``over_http``, PostgreSQL only): gunicorn with 1 and
  with 2 sync workers, concurrent clients POSTing the API's decide endpoint with the 路局
  cadre's token, against a bare anchor measured in the same run.

After each throughput measurement and at the end, the invariants (``invariants``: counts,
ledger, audit chain) are checked and recorded; the run fails when one is broken.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import random
import secrets
import time
from decimal import Decimal

from . import invariants, over_http
from .history import Spec, load_context, load_history
from .timing import measure, percentile

CASES = ("todo_selector", "todo_page", "todo_bureau_page", "timeline_selector",
         "timeline_page", "approvals_single", "approvals_parallel", "approvals_http_1",
         "approvals_http_2")
HTTP_CASES = {"approvals_http_1": 1, "approvals_http_2": 2}  # case: gunicorn sync workers
WORKER = "bench_worker"
WORKER_APPLICATIONS = 8
FINAL_ITEMS = ("kn-lsjz", "kn-ywsh", "kn-zhss", "kn-zfsz", "yl-zybz")  # period "case"


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _require_chain() -> None:
    from unionaid.accounts.models import User
    from unionaid.approvals.models import ApprovalFlow

    if not (ApprovalFlow.objects.exists() and User.objects.filter(username="finance").exists()
            and User.objects.filter(username__startswith="intake_").exists()):
        raise SystemExit("this benchmark database was built before the assistance chain "
                         "(catalog, flows, budgets, approvers): run without --reuse")


def _history_count() -> int:
    from unionaid.assistance.models import Application

    return Application.objects.exclude(period__startswith="bench").count()


def ensure_history(total: int, seed: int, analyze: bool) -> dict | None:
    """Load ``total`` historical applications unless they are there already (``--reuse``)."""
    existing = _history_count()
    if existing >= total:
        _say(f"database already holds {existing:,} applications: history load skipped")
        return None
    if existing:
        raise SystemExit(f"database holds {existing:,} applications, expected 0 or {total:,}: "
                         "run without --reuse")
    _say(f"loading {total:,} historical applications …")
    result, _writer = load_history(total=total, seed=seed, say=_say)
    out = {"applications": result.applications, "cases": result.cases, "tasks": result.tasks,
           "pending_tasks": result.pending, "load_s": result.seconds,
           "rows_per_s": round((result.applications + result.cases + result.tasks)
                               / max(result.seconds, 0.001))}
    _say(f"history: {result.applications:,} applications, {result.cases:,} cases, "
         f"{result.tasks:,} tasks in {result.seconds} s")
    if analyze:
        from .worker import _analyze

        out["analyze_s"] = _analyze()
    return out


def bench_worker(seed: int):
    """A worker login whose member has applications over several years (history specs)."""
    from django.utils import timezone

    from unionaid.accounts import services as account_services
    from unionaid.accounts.models import User
    from unionaid.assistance.models import Application
    from unionaid.members.models import Member
    from unionaid.web.demo import DEMO_PASSWORD

    user = User.objects.filter(username=WORKER).first()
    if user is None:
        team = User.objects.get(username="team_cadre").assignments.get().position.org_unit
        member = Member.objects.filter(org_unit=team, membership_status="active").order_by(
            "pk").first()
        user = account_services.user_create(actor=None, username=WORKER, password=DEMO_PASSWORD,
                                            full_name=member.name, member=member)
    have = Application.objects.filter(member_id=user.member_id).count()
    if have < WORKER_APPLICATIONS:
        ctx = load_context()
        rng = random.Random(seed + 7)
        now = timezone.now()
        items = [i for i in ctx.items if i[1] in FINAL_ITEMS]
        statuses = ["paid", "paid", "paid", "rejected", "paid", "returned", "paid", "in_review"]
        specs = [Spec(user.member_id, user.member.org_unit_id, items[k % len(items)],
                      f"bench-w{k}", rng.choice((1500, 3000, 5000)), status,
                      now - dt.timedelta(days=400 * (8 - k) + 3),
                      stop=2 if status in ("rejected", "returned", "in_review") else 0)
                 for k, status in enumerate(statuses[have:])]
        load_history(total=len(specs), seed=seed, specs=specs, ctx=ctx)
    return user


def _top_up_budgets(amount_each: Decimal) -> None:
    from django.utils import timezone

    from unionaid.accounts.models import User
    from unionaid.funds import services as fund_services
    from unionaid.funds.models import FundingSource
    from unionaid.org.models import OrgUnit

    finance = User.objects.get(username="finance")
    year = timezone.localdate().year
    for station in OrgUnit.objects.filter(depth=2).order_by("path"):
        for source in FundingSource.objects.order_by("code"):
            fund_services.budget_allocate(actor=finance, org_unit=station, funding_source=source,
                                          year=year, amount=amount_each, memo="benchmark")


def prepare_final(n: int, seed: int) -> list[int]:
    """``n`` cases waiting at their last step (路局 审批, amount 3,000–5,000), bulk-written as
    the services would have left them; returns the pending task ids."""
    from django.utils import timezone

    ctx = load_context()
    rng = random.Random(seed)
    token = secrets.token_hex(3)
    items = [i for i in ctx.items if i[1] in FINAL_ITEMS]
    now = timezone.now()
    specs = []
    for k in range(n):
        member_id, unit_id = ctx.member_units[int(rng.random() * len(ctx.member_units))]
        specs.append(Spec(member_id, unit_id, items[k % len(items)], f"bench{token}-{k}",
                          rng.choice((3000, 4000, 5000)), "in_review",
                          now - dt.timedelta(hours=rng.randint(1, 48)),
                          stop=3))
    _top_up_budgets(Decimal(5000 * n))
    _result, writer = load_history(total=n, seed=seed, specs=specs, ctx=ctx)
    return list(writer.pending)


def _decide_all(task_ids: list[int], username: str) -> list[float]:
    from unionaid.accounts.access import forget_access
    from unionaid.accounts.models import User
    from unionaid.approvals.services import task_decide

    actor = User.objects.get(username=username)
    times = []
    for task_id in task_ids:
        forget_access(actor)  # rights computed for each decision, as for each request
        started = time.perf_counter()
        task_decide(actor=actor, task=task_id, decision="approve")
        times.append((time.perf_counter() - started) * 1000)
    return times


def _child(task_ids, username, barrier, queue) -> None:
    try:
        barrier.wait()
        started = time.time()
        times = _decide_all(task_ids, username)
        queue.put({"start": started, "end": time.time(), "count": len(times), "error": ""})
    except Exception as exc:  # reported to the parent, which fails the measurement
        queue.put({"start": 0, "end": 0, "count": 0, "error": repr(exc)})


def _stats(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"p50_ms": round(percentile(ordered, 50), 2),
            "p95_ms": round(percentile(ordered, 95), 2)}


def throughput(n: int, seed: int, processes: int) -> dict:
    """Final approvals per second with ``processes`` processes deciding ``n`` tasks in all."""
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext

    from unionaid.approvals.services import task_decide

    warm = prepare_final(20, seed + processes)
    ids = prepare_final(n, seed + 100 + processes)
    _decide_all(warm[:-1], "bureau_cadre")  # warm caches, code paths
    from unionaid.accounts.models import User

    actor = User.objects.get(username="bureau_cadre")
    with CaptureQueriesContext(connection) as ctx:
        task_decide(actor=actor, task=warm[-1], decision="approve")
    queries = [q["sql"][:300] for q in ctx.captured_queries]
    load_before = os.getloadavg()[0]
    if processes == 1:
        started = time.perf_counter()
        times = _decide_all(ids, "bureau_cadre")
        elapsed = time.perf_counter() - started
        out = {"processes": 1, "approvals": len(times), "seconds": round(elapsed, 2),
               **_stats(times)}
    else:
        connections.close_all()
        context = multiprocessing.get_context("fork")
        barrier, queue = context.Barrier(processes), context.Queue()
        share = [ids[i::processes] for i in range(processes)]
        workers = [context.Process(target=_child, args=(part, "bureau_cadre", barrier, queue))
                   for part in share]
        for w in workers:
            w.start()
        results = [queue.get() for _ in workers]
        for w in workers:
            w.join()
        errors = [r["error"] for r in results if r["error"]]
        if errors:
            raise SystemExit(f"parallel approvals failed: {errors}")
        elapsed = max(r["end"] for r in results) - min(r["start"] for r in results)
        out = {"processes": processes, "approvals": sum(r["count"] for r in results),
               "seconds": round(elapsed, 2)}
    out["per_s"] = round(out["approvals"] / elapsed, 1)
    out["queries_per_approval"] = len(queries)
    out["queries"] = queries
    out["load_avg"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    out["invariants"] = invariants.check(task_ids=ids)
    return out


# -- latency ------------------------------------------------------------------------------------

def _explain(qs) -> str:
    from .worker import _explain as explain

    return explain(qs)


def latency(*, samples: int, warmup: int, seed: int, only=()) -> dict:
    from django.test import Client

    from unionaid.accounts.models import User
    from unionaid.approvals.models import ApprovalCase, ApprovalTask
    from unionaid.approvals.selectors import case_timeline, todo_for_user
    from unionaid.assistance.models import Application

    from .worker import _query_profile

    station_cadre = User.objects.get(username="station_cadre")
    bureau_cadre = User.objects.get(username="bureau_cadre")
    worker = bench_worker(seed)
    rng = random.Random(seed)
    top = ApprovalCase.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    picked = {rng.randint(1, top) for _ in range(max(samples, 200) * 2)}
    cases = list(ApprovalCase.objects.filter(pk__in=picked))[: max(samples, 200)]
    rng.shuffle(cases)
    mine = list(Application.objects.filter(member_id=worker.member_id).order_by("pk")
                .values_list("pk", flat=True))

    def client_for(user):
        client = Client()
        client.force_login(user)
        return client

    station_client, bureau_client = client_for(station_cadre), client_for(bureau_cadre)
    worker_client = client_for(worker)

    def get(client, url: str):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        return response

    def timeline(i: int):
        return case_timeline(case=cases[i % len(cases)], include_upcoming=True)

    sample_case = cases[0].pk if cases else 0
    defs = {
        "todo_selector": ("待办列表查询（第一页）/ to-do list, selector (站段 cadre)",
                          lambda i: list(todo_for_user(user=station_cadre)[:51]),
                          todo_for_user(user=station_cadre)[:51]),
        "todo_page": ("页面 GET /approvals/todo/ (站段干事)",
                      lambda i: get(station_client, "/approvals/todo/"), None),
        "todo_bureau_page": ("页面 GET /approvals/todo/ (路局干事)",
                             lambda i: get(bureau_client, "/approvals/todo/"), None),
        "timeline_selector": ("审批进度查询 / case_timeline of a random case", timeline,
                              ApprovalTask.objects.filter(case_id=sample_case)
                              .select_related("step", "decided_by", "on_behalf_of",
                                              "assigned_position__org_unit", "assigned_user")
                              .order_by("order", "pk")),
        "timeline_page": ("页面 GET /me/applications/<pk>/ (职工本人)",
                          lambda i: get(worker_client, f"/me/applications/{mine[i % len(mine)]}/"),
                          None),
    }
    out: dict = {"cases": {}, "todo_counts": {
        "station_cadre": todo_for_user(user=station_cadre).count(),
        "bureau_cadre": todo_for_user(user=bureau_cadre).count(),
    }, "worker_applications": len(mine)}
    for key, (label, fn, qs) in defs.items():
        if only and key not in only:
            continue
        _say(f"measuring {key} …")
        load_before = os.getloadavg()[0]
        stats = measure(fn, samples=samples, warmup=warmup)
        stats.update(label=label, load_avg=[round(load_before, 2), round(os.getloadavg()[0], 2)],
                     **_query_profile(fn))
        if qs is not None:
            stats["explain"] = _explain(qs)
        out["cases"][key] = stats
        _say(f"  p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms, {stats['queries']} queries")
    return out


def run(*, db: str, members: int, history: int, approvals: int, seed: int, samples: int,
        warmup: int, data_dir, out, analyze: bool, only=(), http_clients: int = 4) -> None:
    import django

    django.setup()
    from django.db import connection

    from .machine import database_version
    from .worker import _prepare

    _say(f"{db}: {database_version(connection)} — assistance suite")
    prepared = _prepare(members, seed, data_dir)
    _require_chain()
    result = {"db": db, "suite": "assistance", "database": database_version(connection),
              "members": members, "history_target": history, "seed": seed,
              "partial": bool(only)}
    result["history"] = ensure_history(history, seed, analyze)
    if prepared["timings"].get("import"):
        result["member_import"] = prepared["timings"]["import"]
    result.update(latency(samples=samples, warmup=warmup, seed=seed, only=only))
    result["throughput"] = {}
    runs = [("approvals_single", 1)]
    if connection.vendor == "postgresql":
        runs.append(("approvals_parallel", 2))
    for key, processes in runs:
        if only and key not in only:
            continue
        _say(f"measuring {key} ({approvals:,} final approvals, {processes} process(es)) …")
        stats = throughput(approvals, seed, processes)
        result["throughput"][key] = stats
        _say(f"  {stats['per_s']} approvals/s, {stats['queries_per_approval']} queries each"
             f"{'' if stats['invariants']['ok'] else ' — INVARIANTS BROKEN'}")
    result["http"] = {}
    for key, workers in HTTP_CASES.items():
        if (only and key not in only) or connection.vendor != "postgresql":
            continue
        _say(f"measuring {key} ({approvals:,} final approvals through HTTP, gunicorn "
             f"{workers} sync worker(s)) …")
        stats = over_http.http_throughput(n=approvals, seed=seed, workers=workers,
                                          clients=http_clients, prepare=prepare_final, say=_say)
        stats["invariants"] = invariants.check(task_ids=stats.pop("task_ids"))
        result["http"][key] = stats
        anchor = stats["anchor_before"]
        _say(f"  {stats['per_s']} approvals/s, p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} "
             f"ms, {stats['errors']} errors; anchors /healthz {anchor['healthz']['per_s']}/s, "
             f"/api/v1/auth/me {anchor['api_me']['per_s']}/s; load {stats['load_avg']}"
             f"{'' if stats['invariants']['ok'] else ' — INVARIANTS BROKEN'}")
        if stats["errors"]:
            stats["invariants"]["problems"].append(
                f"{stats['errors']} request(s) failed: {stats['first_errors']}")
            stats["invariants"]["ok"] = False
    _say("checking the invariants (members, ledger, audit chain) …")
    result["invariants"] = invariants.check(members=members)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    invariants.enforce(result)
