"""The statistics suite (``--suite stats``): the summary store at 10 M applications.

On its own database (PostgreSQL ``ua_stats_bench``, SQLite ``/tmp/ua_stats_bench.sqlite3``;
never the other suites' ``unionaid_bench``):

1. migrate; build the demo union with a small chain (``build_demo``: tree, catalog, budgets,
   a few hundred members, applications in every state, payments, a reversal) and count it into
   the store with ``stats.store.rebuild`` — real records, made by the services;
2. **bulk-load the store's own input at scale**: ``--stats-records`` (default 10,000,000)
   synthetic ``StatRecord`` rows of the ``applications`` fact (what 10 M historical
   applications contribute), generated in DuckDB — spread over the demo tree's 班组, 120 months,
   the catalog's real items (category, funding source), over ``--stats-members`` (default
   1,000,000) member ids (sex, employment form fixed per member, age band per member and year)
   — then their summary cells computed with the very SQL ``stats rebuild`` runs
   (``store.cell_sql``), in DuckDB, and both loaded: COPY on PostgreSQL, ``executemany`` on
   SQLite (indexes dropped during the load and made again). **Not loaded:** 10 M
   ``Application`` rows, their approval cases, disbursements and ledger entries, and 1 M
   ``Member`` rows — the statistics never read those when answering (only the refresher reads
   the few that changed), so what is measured is what a 10 M-application union would query;
3. ``ANALYZE``; then p50/p95 (``--samples`` timed calls after the warm-up) of
   ``stats.selectors.statistic`` as the 路局 reader (whole tree, ``stats.view`` over all) and as
   the 站段 cadre of 太原车务段 (its subtree):
   - ``q3_tree`` / ``q3_station``: org level × category × month, all 120 months, cases, people,
     amount approved and paid (the three-dimension statistic);
   - dashboard queries: ``trend`` (month, this year), ``by_unit`` (org, all time, all
     measures), ``structure`` (category, this year, amount paid and people), ``by_source``
     (funding source × year), each for the tree and the 站段;
4. **a new payment**: one reserved disbursement of the demo is paid through the services
   (batch made, exported, confirmed by another person), then ``stats.store.refresh`` is timed
   on the 10 M-record store and the statistic checked to show it. The figure reported is the
   refresh's duration; the scheduler runs the job every minute, so a payment shows within
   60 s + that;
5. invariants: the loaded cells equal a check computed from the records for a sample (the
   whole tree's totals: Σ cells = the records' sums, people = COUNT(DISTINCT)), the ledger
   balances, and the payment shows.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

CASES = ("stats",)
QUERIES = ("q3", "trend", "by_unit", "structure", "by_source")


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _generate(duck, *, records: int, members: int, leaves, items, this_month: int) -> None:
    """The synthetic records (DuckDB table ``recs``), sorted by org path and month."""
    duck.execute("CREATE TABLE leaves (i INTEGER, unit_id BIGINT, path VARCHAR)")
    duck.executemany("INSERT INTO leaves VALUES (?, ?, ?)",
                     [(i, pk, path) for i, (pk, path) in enumerate(leaves)])
    duck.execute("CREATE TABLE items (i INTEGER, item_id BIGINT, category_id BIGINT, "
                 "source VARCHAR)")
    duck.executemany("INSERT INTO items VALUES (?, ?, ?, ?)",
                     [(i, *row) for i, row in enumerate(items)])
    year, month = divmod(this_month, 100)
    base = year * 12 + month - 1
    duck.execute(f"""
        CREATE TABLE recs AS
        WITH g AS (
            SELECT i, 10000000 + (CAST(hash(i * 3 + 1) % {members} AS BIGINT)) AS member_id,
                   CAST(hash(i * 5 + 2) % {len(leaves)} AS BIGINT) AS leaf,
                   CAST(hash(i * 7 + 3) % {len(items)} AS BIGINT) AS item,
                   {base} - (CAST(hash(i * 11 + 4) % 120 AS BIGINT)) AS mon,
                   CAST(hash(i * 13 + 5) % 100 AS BIGINT) AS fate,
                   (CAST(hash(i * 17 + 6) % 40 AS BIGINT)) * 100 + 200 AS amount
            FROM range({records}) t(i)
        )
        SELECT 'applications' AS fact, 1000000000 + g.i AS source_id, 0 AS part,
               l.unit_id AS org_unit_id, l.path AS org_path, g.member_id,
               (g.mon // 12) * 100 + g.mon % 12 + 1 AS month,
               (g.mon // 12) * 10 + (g.mon % 12) // 3 + 1 AS quarter,
               g.mon // 12 AS year,
               CAST(it.category_id AS VARCHAR) AS d1, CAST(it.item_id AS VARCHAR) AS d2,
               it.source AS d3,
               CASE WHEN g.member_id % 2 = 0 THEN 'M' ELSE 'F' END AS d4,
               CASE (g.member_id % 5 + (g.mon // 12 - {year} + 10) // 10) % 5
                    WHEN 0 THEN 'lt30' WHEN 1 THEN '30' WHEN 2 THEN '40' WHEN 3 THEN '50'
                    ELSE '60' END AS d5,
               CASE WHEN g.member_id % 10 = 0 THEN 'new_employment_form'
                    WHEN g.member_id % 10 = 1 THEN 'dispatched' ELSE 'regular' END AS d6,
               1 AS n1,
               CASE WHEN g.fate < 76 THEN CAST(hash(g.i) % 30 AS BIGINT) ELSE 0 END AS n2,
               CASE WHEN g.fate < 76 THEN 1 ELSE 0 END AS n3,
               CASE WHEN g.fate < 79 THEN g.amount * 100 ELSE 0 END AS a1,
               CASE WHEN g.fate < 76 THEN g.amount * 100 ELSE 0 END AS a2
        FROM g JOIN leaves l ON l.i = g.leaf JOIN items it ON it.i = g.item
        ORDER BY org_path, month
    """)


RECORD_COLUMNS = ("fact", "source_id", "part", "org_unit_id", "org_path", "member_id", "month",
                  "quarter", "year", "d1", "d2", "d3", "d4", "d5", "d6", "n1", "n2", "n3",
                  "a1", "a2")
CELL_COLUMNS = ("fact", "grain", "depth", "dim", "unit_path", "period", "value", "n1", "n2",
                "n3", "a1", "a2", "people")


def _load(duck, connection, table: str, select: str, columns, tmp: Path) -> float:
    """Copy a DuckDB query's rows into ``table`` of the Django database; seconds taken."""
    started = time.perf_counter()
    cols = ", ".join(columns)
    if connection.vendor == "postgresql":
        csv = tmp / f"{table}.csv"
        duck.execute(f"COPY ({select}) TO '{csv}' (HEADER false)")
        copy = f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)"
        with connection.cursor() as cursor, open(csv, "rb") as fh, cursor.cursor.copy(copy) as cp:
            while chunk := fh.read(1 << 20):
                cp.write(chunk)
        csv.unlink()
    else:
        path = connection.settings_dict["NAME"]
        connection.close()
        lite = sqlite3.connect(path)
        lite.execute("PRAGMA synchronous = OFF")
        marks = ", ".join("?" * len(columns))
        result = duck.execute(select)
        with lite:
            while batch := result.fetchmany(200_000):
                lite.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
        lite.close()
    return round(time.perf_counter() - started, 1)


def _indexes(drop: bool) -> None:
    """Drop (before the load) or make again (after it) the store's indexes and unique
    constraints, by name, as the migration made them."""
    from django.db import connection

    from unionaid.stats.models import StatCell, StatRecord

    pg = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for model in (StatRecord, StatCell):
            table = model._meta.db_table
            for index in model._meta.indexes:
                cols = ", ".join(index.fields)
                cursor.execute(f"DROP INDEX IF EXISTS {index.name}" if drop
                               else f"CREATE INDEX {index.name} ON {table} ({cols})")
            for constraint in model._meta.constraints:
                cols = ", ".join(constraint.fields)
                if drop:
                    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint.name}"
                                   if pg else f"DROP INDEX IF EXISTS {constraint.name}")
                else:
                    cursor.execute(
                        f"ALTER TABLE {table} ADD CONSTRAINT {constraint.name} UNIQUE ({cols})"
                        if pg else f"CREATE UNIQUE INDEX {constraint.name} ON {table} ({cols})")


def _pay_one():
    from unionaid.accounts.models import User
    from unionaid.funds import services as fund_services
    from unionaid.funds.models import Disbursement, DisbursementStatus
    from unionaid.org.models import OrgUnit

    disbursement = (Disbursement.objects.filter(status=DisbursementStatus.RESERVED)
                    .exclude(member__bank_account="").select_related("budget").first())
    finance = User.objects.get(username="finance")
    batch = fund_services.batch_create(
        actor=finance, org_unit=OrgUnit.objects.get_root_nodes().get(),
        funding_source=disbursement.budget.funding_source, disbursement_ids=[disbursement.pk])
    fund_services.batch_export(actor=finance, batch=batch, fmt="xlsx")
    fund_services.batch_confirm(actor=User.objects.get(username="cashier"), batch=batch)
    disbursement.refresh_from_db()
    return disbursement


def run(*, db: str, records: int, members: int, seed: int, samples: int, warmup: int,
        out: Path) -> None:
    import django

    django.setup()
    import duckdb
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from conftest import make_role, make_staff
    from unionaid.accounts.models import DataScope
    from unionaid.assistance.models import AssistanceItem
    from unionaid.org.models import OrgUnit
    from unionaid.stats import store
    from unionaid.stats.models import StatCell, StatRecord
    from unionaid.stats.registry import get_fact
    from unionaid.stats.selectors import statistic
    from unionaid.web.demo import build_demo

    from .invariants import check
    from .machine import database_version
    from .timing import measure

    results: dict = {"db": db, "suite": "stats", "records": records, "members": members,
                     "database": None, "timings": {}, "latency": {}, "load_avg": {}}
    timings = results["timings"]
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    results["database"] = database_version(connection)
    _say("building the demo union (small chain) …")
    build_demo(members=300, seed=seed, with_logins=False, applications=40, visits=0,
               lists=False)
    store.rebuild()
    timings["demo_s"] = round(time.perf_counter() - started, 1)

    leaves = list(OrgUnit.objects.filter(depth=4).order_by("path").values_list("pk", "path"))
    items = list(AssistanceItem.objects.order_by("pk").values_list(
        "pk", "category_id", "funding_source__code"))
    this_month = int(timezone.localdate().strftime("%Y%m"))
    tmp = Path(tempfile.mkdtemp(prefix="ua_stats_bench_"))
    duck = duckdb.connect(str(tmp / "gen.duckdb"))
    duck.execute("SET threads = 2")
    _say(f"generating {records:,} records over {members:,} members in DuckDB …")
    t = time.perf_counter()
    _generate(duck, records=records, members=members, leaves=leaves, items=items,
              this_month=this_month)
    # the demo's own records join them, so the cells cover both
    demo = list(StatRecord.objects.filter(fact="applications").values_list(*RECORD_COLUMNS))
    duck.executemany(f"INSERT INTO recs VALUES ({', '.join('?' * len(RECORD_COLUMNS))})", demo)
    timings["generate_s"] = round(time.perf_counter() - t, 1)
    _say("computing the cells with stats rebuild's SQL in DuckDB …")
    t = time.perf_counter()
    duck.execute("CREATE TABLE stats_statcell (fact VARCHAR, grain VARCHAR, depth INTEGER, "
                 "dim VARCHAR, unit_path VARCHAR, period INTEGER, value VARCHAR, n1 BIGINT, "
                 "n2 BIGINT, n3 BIGINT, a1 BIGINT, a2 BIGINT, people BIGINT)")
    for sql, params in store.cell_sql("applications", get_fact("applications"),
                                      store.cell_depth(), records="recs", placeholder="?"):
        duck.execute(sql, params)
    timings["cells_duckdb_s"] = round(time.perf_counter() - t, 1)
    results["cells"] = duck.execute("SELECT count(*) FROM stats_statcell").fetchone()[0]
    _say(f"{results['cells']:,} cells in {timings['cells_duckdb_s']} s; loading …")
    StatCell.objects.filter(fact="applications").delete()
    StatRecord.objects.filter(fact="applications").delete()
    _indexes(drop=True)
    timings["load_records_s"] = _load(
        duck, connection, "stats_statrecord",
        f"SELECT {', '.join(RECORD_COLUMNS)} FROM recs", RECORD_COLUMNS, tmp)
    timings["load_cells_s"] = _load(
        duck, connection, "stats_statcell",
        f"SELECT {', '.join(CELL_COLUMNS)} FROM stats_statcell", CELL_COLUMNS, tmp)
    t = time.perf_counter()
    _indexes(drop=False)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings["indexes_analyze_s"] = round(time.perf_counter() - t, 1)
    _say(f"loaded: records {timings['load_records_s']} s, cells {timings['load_cells_s']} s, "
         f"indexes + ANALYZE {timings['indexes_analyze_s']} s")

    root = OrgUnit.objects.get_root_nodes().get()
    station = OrgUnit.objects.get(depth=2, name="太原车务段")
    readers = {
        "tree": make_staff("stats_bench_bureau", root, [make_role(
            "stats_bench_all", ["org.view", "stats.view"], DataScope.ALL)]),
        "station": make_staff("stats_bench_station", station, [make_role(
            "stats_bench_station", ["org.view", "stats.view"], DataScope.UNIT_AND_BELOW)]),
    }
    year = this_month // 100
    money = ["cases", "people", "amount_approved", "amount_paid"]
    asks = {
        "q3": {"dims": ["org", "category", "month"], "measures": money},
        "trend": {"dims": ["month"], "measures": money, "filters": {"year": year}},
        "by_unit": {"dims": ["org"], "measures": [*money, "average_days"]},
        "structure": {"dims": ["category"], "measures": ["amount_paid", "people"],
                      "filters": {"year": year}},
        "by_source": {"dims": ["funding_source", "year"], "measures": ["amount_paid"]},
    }
    for scope, user in readers.items():
        for name, ask in asks.items():
            key = f"{name}_{scope}"
            first = statistic(actor=user, fact="applications", **ask)
            results["load_avg"][f"before_{key}"] = round(os.getloadavg()[0], 2)
            stats = measure(lambda _i, user=user, ask=ask: statistic(
                actor=user, fact="applications", **ask), samples=samples, warmup=warmup)
            stats.update(rows=len(first.rows), source=first.source)
            results["latency"][key] = stats
            _say(f"{key}: p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms "
                 f"({stats['rows']} rows, {first.source})")

    # a new payment, counted by one refresh on the 10 M-record store
    before = statistic(actor=readers["tree"], fact="payments", dims=[],
                       measures=["payments", "amount_paid"]).totals
    before_apps = statistic(actor=readers["tree"], fact="applications", dims=[],
                            measures=["amount_paid"]).totals
    paid = _pay_one()
    t = time.perf_counter()
    counts = store.refresh(now=timezone.now())
    refresh_ms = round((time.perf_counter() - t) * 1000, 1)
    after = statistic(actor=readers["tree"], fact="payments", dims=[],
                      measures=["payments", "amount_paid"]).totals
    after_apps = statistic(actor=readers["tree"], fact="applications", dims=[],
                           measures=["amount_paid"]).totals
    shows = (after["payments"] == before["payments"] + 1
             and after["amount_paid"] == before["amount_paid"] + paid.amount
             and after_apps["amount_paid"] == before_apps["amount_paid"] + paid.amount)
    results["new_payment"] = {"refresh_ms": refresh_ms, "changed": counts, "shows": shows,
                              "worst_case_s": round(60 + refresh_ms / 1000, 1)}
    _say(f"new payment: refresh {refresh_ms} ms, shows: {shows}")

    # invariants: the whole tree's cells equal the records' sums; the ledger balances
    inv = check()
    tree_cell = StatCell.objects.filter(fact="applications", grain="a", depth=1, dim="",
                                        unit_path=root.path, period=0).values(
        "n1", "a1", "a2", "people").get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(n1), SUM(a1), SUM(a2), COUNT(DISTINCT member_id) "
                       "FROM stats_statrecord WHERE fact = 'applications'")
        n1, a1, a2, people = cursor.fetchone()
    expected = {"n1": n1, "a1": a1, "a2": a2, "people": people}
    if {k: int(v) for k, v in tree_cell.items()} != {k: int(v) for k, v in expected.items()}:
        inv["problems"].append(f"cells {tree_cell} != records {expected}")
    if not shows:
        inv["problems"].append("the new payment does not show after one refresh")
    inv["ok"] = not inv["problems"]
    results["invariants"] = inv
    results["load_avg"]["end"] = round(os.getloadavg()[0], 2)
    duck.close()
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    out.write_text(json.dumps(results, indent=2, default=str))
    if inv["problems"]:
        raise SystemExit("invariants broken: " + "; ".join(inv["problems"]))
