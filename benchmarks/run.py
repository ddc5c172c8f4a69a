#!/usr/bin/env python
"""unionaid benchmarks (``make bench``): a 1M-member roster and 1M historical applications.

Reproducible and separate from the test suite. Two suites (``--suite members|assistance|all``,
default all). The members suite, for each database:

1. creates a fresh benchmark database (SQLite file under benchmarks/data/, PostgreSQL database
   ``unionaid_bench`` on 127.0.0.1 as user postgres when reachable) and migrates it;
2. builds the demo org tree and personas without members (``unionaid.web.demo``);
3. writes a synthetic roster CSV with SyntheticPeople (cached under benchmarks/data/);
4. imports it through ``members.importing.import_roster`` (the real import path) and times it;
5. measures p50/p95 of member search by ID number, by name prefix, and the subtree list pages
   (through django.test.Client as the 站段 cadre), with EXPLAIN output for the queries.

The assistance suite (``helpers/assistance.py``), in the same database after the members suite:
bulk-loads 1,000,000 historical applications with their approval cases and tasks, then measures
an approver's to-do list and a worker's timeline (selectors and pages, p50/p95) and final
approvals per second through ``approvals.services.task_decide`` (one process; two in parallel on
PostgreSQL) and through HTTP (gunicorn with 1 and 2 sync workers, concurrent API clients, a bare
anchor in the same run; PostgreSQL).

Every suite checks its post-run invariants (members count, ledger, audit chain, every approval
of the run counted) and exits non-zero when one is broken.

Results go to benchmarks/results/results.json and results.md. Examples::

    python benchmarks/run.py                         # both suites, both databases
    python benchmarks/run.py --db sqlite --members 50000 --history 100000
    python benchmarks/run.py --db postgres --reuse   # keep the loaded database, re-measure
    python benchmarks/run.py --suite assistance --db postgres --reuse --cases approvals_single
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
DATA = Path(os.environ.get("BENCH_DATA_DIR", BENCH / "data"))
RESULTS = BENCH / "results"
PG_NAME = os.environ.get("BENCH_PG_NAME", "unionaid_bench")
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BENCH_PG_PORT", "5432")
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")

for extra in (str(ROOT), str(ROOT / "src"), str(BENCH)):
    if extra not in sys.path:
        sys.path.insert(0, extra)


def _pg_admin():
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres",
                           autocommit=True, connect_timeout=3)


def postgres_reachable() -> bool:
    try:
        with _pg_admin():
            return True
    except Exception as exc:
        print(f"PostgreSQL on {PG_HOST}:{PG_PORT} not reachable ({exc}); skipped.")
        return False


def fresh_database(db: str, reuse: bool) -> str:
    """Create (or keep, with --reuse) the benchmark database; return its DATABASE_URL."""
    if db == "sqlite":
        path = DATA / "bench.sqlite3"
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    with _pg_admin() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              [PG_NAME]).fetchone()
        if exists and not reuse:
            conn.execute(f'DROP DATABASE "{PG_NAME}" WITH (FORCE)')
        if not exists or not reuse:
            conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_NAME}"


def bench_keys(data_dir: Path, db: str, *, fresh: bool) -> dict[str, str]:
    from helpers.keys import bench_keys as keys

    return keys(data_dir, db, fresh=fresh)


def run_child(args, db: str, suite: str = "members", reuse: bool | None = None
              ) -> tuple[dict | None, int]:
    """Run one suite on one database in a child process; its results (None when it wrote none)
    and its exit status (non-zero: it failed, e.g. an invariant was broken)."""
    reuse = args.reuse if reuse is None else reuse
    url = fresh_database(db, reuse)
    out = DATA / f"result-{db}-{suite}.json"
    out.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "UNIONAID_VAR_DIR": str(DATA / "var"),
        # real keys, as production has them; new ones with a new database
        **bench_keys(DATA, db, fresh=not reuse),
    }
    cmd = [sys.executable, __file__, "--child", "--db", db, "--members", str(args.members),
           "--seed", str(args.seed), "--samples", str(args.samples), "--warmup",
           str(args.warmup), "--out", str(out), "--suite", suite, "--history",
           str(args.history), "--approvals", str(args.approvals), "--http-clients",
           str(args.http_clients), "--serve-seconds", str(args.serve_seconds)]
    if not args.analyze:
        cmd.append("--no-analyze")
    cases = [c for c in args.cases.split(",") if c and c in suite_cases(suite)]
    if cases:
        cmd += ["--cases", ",".join(cases)]
    status = subprocess.run(cmd, env=env, cwd=ROOT).returncode
    return (json.loads(out.read_text()) if out.exists() else None), status


def suite_cases(suite: str) -> tuple[str, ...]:
    from helpers import assistance, matching, serve, worker
    from helpers import stats as stats_suite

    return {"members": worker.CASES, "assistance": assistance.CASES, "serve": serve.CASES,
            "match": matching.CASES, "stats": stats_suite.CASES,
            "all": worker.CASES + assistance.CASES + serve.CASES + matching.CASES}[suite]


def run_match(args, machine: dict) -> dict:
    """The match suite: no database; files, subprocesses and the generator's truth."""
    from helpers import matching

    only = tuple(c for c in args.cases.split(",") if c in matching.CASES)
    return matching.run(data_dir=DATA, size=args.match_size, prob_size=args.match_prob_size,
                        seed=args.seed, only=only)


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--suite", choices=["members", "assistance", "serve", "match", "stats",
                                            "all"],
                        default="all")
    parser.add_argument("--match-size", type=int, default=1_000_000,
                        help="members and external rows of the match suite (each)")
    parser.add_argument("--match-prob-size", type=int, default=100_000,
                        help="members and external rows of the match suite's probabilistic "
                        "stage measurement (each)")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--stats-records", type=int, default=10_000_000,
                        help="applications' records bulk-loaded into the statistics store")
    parser.add_argument("--stats-members", type=int, default=1_000_000,
                        help="distinct members over the statistics suite's records")
    parser.add_argument("--history", type=int, default=1_000_000,
                        help="historical applications of the assistance suite")
    parser.add_argument("--approvals", type=int, default=1000,
                        help="final approvals timed per throughput measurement")
    parser.add_argument("--http-clients", type=int, default=4,
                        help="concurrent HTTP clients of the approvals_http_* cases")
    parser.add_argument("--serve-seconds", type=int, default=10,
                        help="seconds of wrk per measurement of the serve suite")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--samples", type=int, default=300, help="timed calls per measurement")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first")
    parser.add_argument("--reuse", action="store_true",
                        help="keep an already loaded benchmark database (skip the import)")
    parser.add_argument("--no-analyze", dest="analyze", action="store_false",
                        help="don't run ANALYZE after the import")
    parser.add_argument("--cases", default="",
                        help="comma-separated measurements to run (default all): "
                        + ", ".join(suite_cases("all")))
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="where to write results.json/results.md (default benchmarks/results)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.samples < 200:
        parser.error("--samples must be at least 200")
    if args.approvals < 100:
        parser.error("--approvals must be at least 100")
    unknown = set(filter(None, args.cases.split(","))) - set(suite_cases(args.suite))
    if unknown:
        parser.error(f"unknown --cases: {', '.join(sorted(unknown))}")
    return args


def main(argv=None) -> int:
    args = parse(argv)
    DATA.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    if args.child:
        only = tuple(filter(None, args.cases.split(",")))
        if args.suite == "stats":
            from helpers import stats as stats_suite

            stats_suite.run(db=args.db, records=args.stats_records, members=args.stats_members,
                            seed=args.seed, samples=args.samples, warmup=args.warmup,
                            out=args.out)
        elif args.suite == "serve":
            from helpers import serve

            serve.run(db=args.db, members=args.members, history=args.history, seed=args.seed,
                      data_dir=DATA, out=args.out, analyze=args.analyze,
                      seconds=args.serve_seconds)
        elif args.suite == "assistance":
            from helpers import assistance

            assistance.run(db=args.db, members=args.members, history=args.history,
                           approvals=args.approvals, seed=args.seed, samples=args.samples,
                           warmup=args.warmup, data_dir=DATA, out=args.out,
                           analyze=args.analyze, only=only, http_clients=args.http_clients)
        else:
            from helpers import worker

            worker.run(db=args.db, members=args.members, seed=args.seed, samples=args.samples,
                       warmup=args.warmup, data_dir=DATA, out=args.out, analyze=args.analyze,
                       only=only)
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from helpers.machine import machine_info
    from helpers.report import merge, merge_match, write_markdown

    only = set(filter(None, args.cases.split(",")))
    if args.suite == "match":
        machine = machine_info()
        match = run_match(args, machine)
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        merged = merge_match(args.results, machine, match, when)
        print(write_markdown(args.results, merged))
        return 0 if match_ok(match) else 1
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in dbs and not postgres_reachable():
        dbs.remove("postgres")
    if args.suite == "stats":
        return run_stats(args, dbs, machine_info())
    suites = ["members", "assistance", "serve"] if args.suite == "all" else [args.suite]
    suites = [s for s in suites if not only or only & set(suite_cases(s))]
    machine = machine_info()  # before the run: the commit measured, not the results written
    runs, failed = [], []
    for db in dbs:
        for n, suite in enumerate(suites):
            # the later suites of "all" work on the database the members suite just built
            result, status = run_child(args, db, suite, reuse=True if n else None)
            if result is not None:
                runs.append(result)
            if status:
                failed.append(f"{db}/{suite} (exit status {status})")
                break  # the next suite would build on a database that is not right
    ran_match = args.suite == "all" and (not only or bool(only & set(suite_cases("match"))))
    if ran_match:
        match = run_match(args, machine)
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        merge_match(args.results, machine, match, when)
        if not match_ok(match):
            failed.append("match")
    if runs or ran_match:
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        merged = merge(args.results, machine, runs, when)
        print(write_markdown(args.results, merged))
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    if not runs and not ran_match:
        print("nothing to run")
        return 1
    return 0


STATS_PG_NAME = os.environ.get("BENCH_STATS_PG_NAME", "ua_stats_bench")
STATS_SQLITE = Path(os.environ.get("BENCH_STATS_SQLITE", "/tmp/ua_stats_bench.sqlite3"))


def run_stats(args, dbs: list[str], machine: dict) -> int:
    """The statistics suite, on its own databases (never unionaid_bench): a fresh one per run.
    Results: results/stats.json and results/stats.md."""
    runs, failed = {}, []
    for db in dbs:
        if db == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{STATS_SQLITE}{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{STATS_SQLITE}"
        else:
            with _pg_admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{STATS_PG_NAME}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{STATS_PG_NAME}"')
            url = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{STATS_PG_NAME}"
        out = DATA / f"result-{db}-stats.json"
        out.unlink(missing_ok=True)
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings",
               "DEBUG": "0", "LOG_LEVEL": "WARNING", "UNIONAID_VAR_DIR": str(DATA / "var"),
               **bench_keys(DATA, f"stats-{db}", fresh=True)}
        cmd = [sys.executable, __file__, "--child", "--suite", "stats", "--db", db,
               "--stats-records", str(args.stats_records), "--stats-members",
               str(args.stats_members), "--seed", str(args.seed), "--samples",
               str(args.samples), "--warmup", str(args.warmup), "--out", str(out)]
        status = subprocess.run(cmd, env=env, cwd=ROOT).returncode
        if out.exists():
            runs[db] = json.loads(out.read_text())
        if status:
            failed.append(f"{db}/stats (exit status {status})")
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = {"when": when, "machine": machine, "runs": runs}
    (args.results / "stats.json").write_text(json.dumps(report, indent=2, default=str))
    lines = [f"# Statistics suite ({when}, commit {machine['commit']}, {machine['nproc']} cores, "
             f"load {machine['load_avg_start']})", ""]
    for run in runs.values():
        lines += [f"## {run['database']}: {run['records']:,} records, {run['members']:,} "
                  f"members, {run.get('cells', 0):,} cells", "",
                  "| query | rows | from | p50 ms | p95 ms | load before |",
                  "|---|---|---|---|---|---|"]
        for key, lat in run["latency"].items():
            target = "✅" if lat["p95_ms"] <= 300 else "❌"
            lines.append(f"| {key} | {lat['rows']} | {lat['source']} | {lat['p50_ms']} | "
                         f"{lat['p95_ms']} {target} | {run['load_avg'].get('before_' + key)} |")
        pay = run.get("new_payment", {})
        lines += ["", f"New payment: one refresh {pay.get('refresh_ms')} ms, shows: "
                  f"{pay.get('shows')}; within {pay.get('worst_case_s')} s at worst (job every "
                  f"minute). Timings: {run['timings']}. Invariants ok: "
                  f"{run['invariants']['ok']}.", ""]
    (args.results / "stats.md").write_text("\n".join(lines))
    print("\n".join(lines))
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0 if runs else 1


def match_ok(match: dict) -> bool:
    """The match suite failed when a command did not finish (targets are reported, not
    enforced: a miss shows as ❌ in the table)."""
    return all(case.get("status") == 0 for case in match["cases"].values())


if __name__ == "__main__":
    sys.exit(main())
