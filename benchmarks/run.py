#!/usr/bin/env python
"""unionaid benchmarks (``make bench``): import a synthetic 1M-member roster and time searches.

Reproducible and separate from the test suite. For each database it:

1. creates a fresh benchmark database (SQLite file under benchmarks/data/, PostgreSQL database
   ``unionaid_bench`` on 127.0.0.1 as user postgres when reachable) and migrates it;
2. builds the demo org tree and personas without members (``unionaid.web.demo``);
3. writes a synthetic roster CSV with SyntheticPeople (cached under benchmarks/data/);
4. imports it through ``members.importing.import_roster`` (the real import path) and times it;
5. measures p50/p95 of member search by ID number, by name prefix, and the subtree list pages
   (through django.test.Client as the 站段 cadre), with EXPLAIN output for the queries.

Results go to benchmarks/results/results.json and results.md. Examples::

    python benchmarks/run.py                         # both databases, 1,000,000 members
    python benchmarks/run.py --db sqlite --members 50000
    python benchmarks/run.py --db postgres --reuse   # keep the loaded database, re-measure
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
DATA = BENCH / "data"
RESULTS = BENCH / "results"
PG_NAME = "unionaid_bench"
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


def run_child(args, db: str) -> dict:
    url = fresh_database(db, args.reuse)
    out = DATA / f"result-{db}.json"
    out.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "UNIONAID_VAR_DIR": str(DATA / "var"),
    }
    cmd = [sys.executable, __file__, "--child", "--db", db, "--members", str(args.members),
           "--seed", str(args.seed), "--samples", str(args.samples), "--warmup",
           str(args.warmup), "--out", str(out)]
    if not args.analyze:
        cmd.append("--no-analyze")
    if args.cases:
        cmd += ["--cases", args.cases]
    subprocess.run(cmd, env=env, check=True, cwd=ROOT)
    return json.loads(out.read_text())


def parse(argv=None):
    from helpers.worker import CASES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--samples", type=int, default=300, help="timed calls per measurement")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first")
    parser.add_argument("--reuse", action="store_true",
                        help="keep an already loaded benchmark database (skip the import)")
    parser.add_argument("--no-analyze", dest="analyze", action="store_false",
                        help="don't run ANALYZE after the import")
    parser.add_argument("--cases", default="",
                        help="comma-separated measurements to run (default all): "
                        + ", ".join(CASES))
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="where to write results.json/results.md (default benchmarks/results)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.samples < 200:
        parser.error("--samples must be at least 200")
    unknown = set(filter(None, args.cases.split(","))) - set(CASES)
    if unknown:
        parser.error(f"unknown --cases: {', '.join(sorted(unknown))}")
    return args


def main(argv=None) -> int:
    args = parse(argv)
    DATA.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    if args.child:
        from helpers import worker

        worker.run(db=args.db, members=args.members, seed=args.seed, samples=args.samples,
                   warmup=args.warmup, data_dir=DATA, out=args.out, analyze=args.analyze,
                   only=tuple(filter(None, args.cases.split(","))))
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from helpers.machine import machine_info
    from helpers.report import merge, write_markdown

    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in dbs and not postgres_reachable():
        dbs.remove("postgres")
    runs = [run_child(args, db) for db in dbs]
    if not runs:
        print("nothing to run")
        return 1
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    merged = merge(args.results, machine_info(), runs, when)
    print(write_markdown(args.results, merged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
