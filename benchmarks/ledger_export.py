#!/usr/bin/env python
"""The payment ledger (帮扶资金发放台账) of 1,000,000 payments: time and peak memory of the
export, against a bare anchor in the same run (not part of ``make bench``: it builds its own
database).

    python benchmarks/ledger_export.py                       # PostgreSQL ua_ledgers_bench
    python benchmarks/ledger_export.py --db sqlite           # /tmp/ua_ledgers_bench.sqlite3
    python benchmarks/ledger_export.py --reuse               # keep the loaded database

What one run does, per database (PostgreSQL database ``ua_ledgers_bench`` on 127.0.0.1 as
user postgres — never ``unionaid_bench``; SQLite file under /tmp), each step a child process:

1. **load** (skipped with ``--reuse`` when the payments are there): migrate; an org tree of a
   路局, 10 站段, 50 车间 and 200 班组; 3 funding sources and 6 items; a finance user holding
   funds.view over everything (and members.reveal); ``--members`` (default 20,000) synthetic
   members (``core.synthetic``, ID number and bank account encrypted with real keys,
   bulk_create); then, written directly (COPY on PostgreSQL, executemany on SQLite, as
   ``helpers/history.py`` does — the background, not what is measured): ``--rows`` (default
   1,000,000) paid applications, one paid disbursement each (this year, 1 January to
   30 November, from the member's 站段's budget of the item's source), 360 confirmed batches
   (站段 × source × month), the 30 budgets with their balances, and per budget one allocation
   and one payment transaction in the ledger so that the cached balances agree with the
   entries. ``ANALYZE``;
2. **export**: ``assistance.ledgers.payment_ledger.export_payment_ledger`` as the finance user,
   the whole tree, 1 January – 31 December (the function the page, the API and the background
   job call), masked; under ``/usr/bin/time -v``: wall time and peak RSS of the process
   (Django start included), with the export's own wall time;
3. **anchor**: the same rows without the product: one SELECT of the same columns (the encrypted
   ones as stored, not decrypted), joined to the units, ordered by payment time, read from a
   plain DB-API cursor (server-side on PostgreSQL, 2,000 rows a fetch) and written by XlsxWriter
   in constant_memory mode, 15 columns; under ``/usr/bin/time -v`` too;
4. **check** (afterwards): the file's sheet has one row per payment plus the title, header and
   totals rows (counted streaming the sheet's XML); the export's journal entry gives the count
   and the total the database sums; ``ledger_recompute`` finds no mismatch; ``audit_verify``
   finds the chain intact. A broken invariant fails the run (exit 1).

Every figure comes with the commit, the machine and the 1-minute load average before and after.
Results: ``benchmarks/results/ledger_export.json`` and ``.md`` (also printed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
for extra in (str(ROOT), str(ROOT / "src"), str(BENCH)):
    if extra not in sys.path:
        sys.path.insert(0, extra)

PG_NAME = os.environ.get("LEDGER_BENCH_PG_NAME", "ua_ledgers_bench")
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BENCH_PG_PORT", "5432")
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
DATA = Path(os.environ.get("LEDGER_BENCH_DIR", Path(tempfile.gettempdir()) / "ua_ledgers_bench"))
SQLITE_PATH = DATA / "bench.sqlite3"
RESULTS = BENCH / "results"
USERNAME = "ledger_finance"
SOURCES = (("ghjf", "工会经费"), ("swn", "送温暖专项"), ("sjbz", "上级补助"))
ITEMS = (("zk-sh", "生活救助", "zhukun", 0), ("zk-dj", "冬季送温暖", "zhukun", 1),
         ("zy-db", "大病医疗救助", "zhuyi", 0), ("zy-zy", "住院慰问", "zhuyi", 2),
         ("zx-dx", "金秋助学（大学）", "zhuxue", 0), ("zx-gz", "金秋助学（高中）", "zhuxue", 2))
AMOUNTS = (300, 500, 800, 1000, 1200, 1500, 2000, 3000, 5000)
STEPLEN = 4


# -- the parent ---------------------------------------------------------------------------------

def _pg_admin():
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres",
                           autocommit=True, connect_timeout=3)


def database_url(db: str, reuse: bool) -> str:
    if db == "sqlite":
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{SQLITE_PATH}"
    if PG_NAME == "unionaid_bench":
        raise SystemExit("ua_ledgers_bench only: unionaid_bench belongs to make bench")
    with _pg_admin() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              [PG_NAME]).fetchone()
        if exists and not reuse:
            conn.execute(f'DROP DATABASE "{PG_NAME}" WITH (FORCE)')
        if not exists or not reuse:
            conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_NAME}"


def _load1() -> float:
    return round(os.getloadavg()[0], 2)


def _timed_child(step: str, db: str, env: dict, args) -> dict:
    """Run ``--child step`` under /usr/bin/time -v: its JSON line plus wall time and peak RSS
    of the whole process."""
    out = DATA / f"{db}-{step}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--child", step, "--db", db, "--rows", str(args.rows),
           "--members", str(args.members), "--out", str(out)]
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    load_before = _load1()
    started = time.perf_counter()
    proc = subprocess.run(timer + cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"{db}/{step} failed (exit {proc.returncode})")
    result = json.loads(out.read_text()) if out.exists() else {}
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    result.update({"process_wall_s": round(wall, 2), "load_before": load_before,
                   "load_after": _load1(),
                   "peak_rss_mib": round(int(peak.group(1)) / 1024, 1) if peak else None})
    out.write_text(json.dumps(result, ensure_ascii=False))  # kept for a later --steps run
    return result


def _step(step: str, db: str, env: dict, args) -> dict:
    """Run ``step``, or (not among ``--steps``) read what its last run measured."""
    if step in args.steps.split(","):
        return _timed_child(step, db, env, args)
    kept = DATA / f"{db}-{step}.json"
    if not kept.exists():
        raise SystemExit(f"{db}/{step}: not run and no earlier result in {kept}")
    return {**json.loads(kept.read_text()), "kept": True}


def run_db(db: str, args) -> dict:
    from helpers.keys import bench_keys

    url = database_url(db, args.reuse)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings",
           "DEBUG": "0", "LOG_LEVEL": "WARNING", "UNIONAID_VAR_DIR": str(DATA / "var"),
           "PRIVATE_MEDIA_ROOT": str(DATA / "private"),
           **bench_keys(DATA, f"ledgers-{db}", fresh=not args.reuse)}
    found = {"db": db}
    for step in ("load", "export", "anchor", "check"):
        found[step] = _step(step, db, env, args)
    return found


def markdown(result: dict) -> str:
    machine = result["machine"]
    lines = [
        f"# Payment ledger export, {result['rows']:,} payments ({result['when']})",
        "",
        f"Commit {machine['commit']}, {machine['nproc']} usable CPUs ({machine['cpu_model']}), "
        f"{machine['memory_gib']} GiB, Python {machine['python']}, load average at start "
        f"{machine['load_avg_start']}.",
        "",
        "| database | case | rows | export wall | process wall | peak RSS | load before → after |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for run in result["runs"]:
        for case in ("export", "anchor"):
            r = run[case]
            lines.append(
                f"| {run['db']} ({run['check'].get('database', '')}) | {case} | {r['count']:,} "
                f"| {r['seconds']:.1f} s | {r['process_wall_s']:.1f} s | {r['peak_rss_mib']} MiB "
                f"| {r['load_before']} → {r['load_after']} |")
        ratio = run["export"]["seconds"] / max(run["anchor"]["seconds"], 0.001)
        check = run["check"]
        lines.append("")
        lines.append(f"{run['db']}: export / anchor = {ratio:.2f}× wall; file "
                     f"{run['export']['file_mib']} MiB (anchor {run['anchor']['file_mib']} MiB); "
                     f"load {run['load']['payments']:,} payments in {run['load']['seconds']:.0f} s; "
                     f"invariants: {'ok' if not check['problems'] else check['problems']}.")
        lines.append("")
    return "\n".join(lines)


def main_parent(args) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from helpers.machine import machine_info

    DATA.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    runs = [run_db(db, args) for db in dbs]
    result = {"when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
              "rows": args.rows, "members": args.members, "machine": machine, "runs": runs}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ledger_export.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    text = markdown(result)
    (RESULTS / "ledger_export.md").write_text(text + "\n")
    print(text)
    return 1 if any(run["check"]["problems"] for run in runs) else 0


# -- the children (inside Django) ---------------------------------------------------------------

def _setup():
    import django

    django.setup()


def _year() -> int:
    from django.utils import timezone

    return timezone.localdate().year


def child_load(args) -> dict:
    import uuid

    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Max

    call_command("migrate", verbosity=0)
    from unionaid.funds.models import Disbursement

    if Disbursement.objects.count() >= args.rows:
        return {"seconds": 0.0, "payments": Disbursement.objects.count(), "reused": True}
    started = time.perf_counter()
    from helpers.history import _adapt, insert, reset_sequences

    from unionaid.accounts import services as account_services
    from unionaid.accounts.models import DataScope
    from unionaid.assistance.models import Application, AssistanceCategory, AssistanceItem
    from unionaid.core.synthetic import SyntheticPeople
    from unionaid.funds.models import (
        Account,
        BatchStatus,
        Budget,
        DisbursementBatch,
        EntryKind,
        FundingSource,
        LedgerEntry,
    )
    from unionaid.members.models import Member
    from unionaid.members.selectors import id_number_hash
    from unionaid.org.models import OrgLevel, OrgUnit

    for depth, name in enumerate(["路局", "站段", "车间", "班组"], start=1):
        OrgLevel.objects.get_or_create(depth=depth, defaults={"name": name})
    root = OrgUnit.objects.add_root(create_kwargs={"name": "测试铁路局工会", "code": "B"})
    stations, teams = [], []
    for s in range(10):
        station = OrgUnit.objects.add_child(OrgUnit.objects.get(pk=root.pk), create_kwargs={
            "name": f"第{s + 1}站段", "code": f"S{s}"})
        stations.append(station)
        for w in range(5):
            workshop = OrgUnit.objects.add_child(OrgUnit.objects.get(pk=station.pk), create_kwargs={
                "name": f"第{s + 1}站段第{w + 1}车间", "code": f"S{s}W{w}"})
            for t in range(4):
                teams.append(OrgUnit.objects.add_child(
                    OrgUnit.objects.get(pk=workshop.pk), create_kwargs={
                        "name": f"第{s + 1}站段第{w + 1}车间第{t + 1}班组",
                        "code": f"S{s}W{w}T{t}"}))
    role = account_services.role_save(actor=None, code="ledger-finance", name="财务",
                                      permissions=["org.view", "funds.view", "members.reveal"],
                                      data_scope=DataScope.ALL)
    user = account_services.user_create(actor=None, username=USERNAME,
                                        password="Bench-2026-pass")
    position = account_services.position_create(actor=None, org_unit=root, name="财务",
                                                roles=[role])
    account_services.assignment_grant(actor=None, user=user, position=position)
    sources = [FundingSource.objects.create(code=c, name=n) for c, n in SOURCES]
    categories = {code: AssistanceCategory.objects.create(code=code, name=name, order=n)
                  for n, (code, name) in enumerate(
                      [("zhukun", "助困"), ("zhuyi", "助医"), ("zhuxue", "助学")])}
    items = [AssistanceItem.objects.create(code=c, name=n, category=categories[cat],
                                           funding_source=sources[s])
             for c, n, cat, s in ITEMS]
    people = SyntheticPeople(2026)
    members, seen = [], set()
    while len(members) < args.members:
        person = people.person()
        if person["id_number"] in seen:
            continue
        seen.add(person["id_number"])
        members.append(Member(
            name=person["name"], id_number=person["id_number"],
            id_number_hash=id_number_hash(person["id_number"]), birth_date=person["birth_date"],
            sex=person["sex"], bank_account=people.bank_account(),
            org_unit=teams[len(members) % len(teams)]))
    Member.objects.bulk_create(members, batch_size=2000)
    station_of = {t.pk: stations[i // 20].pk for i, t in enumerate(teams)}
    member_rows = list(Member.objects.values_list("pk", "org_unit_id"))

    year, tz = _year(), dt.UTC
    start = dt.datetime(year, 1, 1, 2, tzinfo=tz)
    span = (dt.datetime(year, 11, 30, tzinfo=tz) - start).total_seconds()
    # budgets: one per 站段 × source; batches: 站段 × source × month
    budget_ids, batch_ids, paid = {}, {}, {}
    for station in stations:
        for source in sources:
            budget = Budget.objects.create(org_unit=station, funding_source=source, year=year)
            budget_ids[station.pk, source.pk] = budget.pk
            paid[budget.pk] = 0
            for month in range(1, 12):
                batch = DisbursementBatch.objects.create(
                    org_unit=station, funding_source=source, status=BatchStatus.CONFIRMED,
                    created_by=user, confirmed_by=user,
                    confirmed_at=dt.datetime(year, month, 28, tzinfo=tz))
                batch_ids[station.pk, source.pk, month] = batch.pk
    first_app = 1 + (Application.objects.aggregate(m=Max("pk"))["m"] or 0)
    rows = args.rows
    stamp = _adapt(connection)

    def applications():
        for i in range(rows):
            member_id, team_id = member_rows[i % len(member_rows)]
            item = items[(i * 7) % len(items)]
            amount = AMOUNTS[(i * 13) % len(AMOUNTS)]
            when = start + dt.timedelta(seconds=span * i / rows)
            yield (first_app + i, member_id, item.pk, team_id, f"b{i}", user.pk, False, "{}", "",
                   amount, "[]", "paid", False, "", *[stamp(when)] * 4)

    insert("assistance_application",
           ["id", "member_id", "item_id", "org_unit_id", "period", "filed_by_id", "on_behalf",
            "facts", "reason", "amount", "calculation", "status", "fast_track",
            "fast_track_reason", "created_at", "submitted_at", "decided_at", "updated_at"],
           applications())

    def disbursements():
        for i in range(rows):
            member_id, team_id = member_rows[i % len(member_rows)]
            item = items[(i * 7) % len(items)]
            amount = AMOUNTS[(i * 13) % len(AMOUNTS)]
            when = start + dt.timedelta(seconds=span * i / rows)
            station = station_of[team_id]
            budget = budget_ids[station, item.funding_source_id]
            paid[budget] += amount
            yield ("assistance.application", first_app + i, budget, member_id, amount, "paid",
                   batch_ids[station, item.funding_source_id, when.month], stamp(when),
                   stamp(when), "", "")

    insert("funds_disbursement",
           ["subject_kind", "subject_id", "budget_id", "member_id", "amount", "status",
            "batch_id", "reserved_at", "paid_at", "reversal_reason", "close_reason"],
           disbursements())
    entries = []
    for budget_id, total in paid.items():
        allocated = total + 100_000
        Budget.objects.filter(pk=budget_id).update(allocated=allocated, available=100_000,
                                                   paid=total)
        allocate, pay = uuid.uuid4(), uuid.uuid4()
        entries += [
            LedgerEntry(txn=allocate, budget_id=budget_id, account=Account.SOURCE,
                        amount=-allocated, kind=EntryKind.ALLOCATE, memo="bench"),
            LedgerEntry(txn=allocate, budget_id=budget_id, account=Account.AVAILABLE,
                        amount=allocated, kind=EntryKind.ALLOCATE, memo="bench"),
            LedgerEntry(txn=pay, budget_id=budget_id, account=Account.AVAILABLE, amount=-total,
                        kind=EntryKind.PAY, memo="bench: the year's payments"),
            LedgerEntry(txn=pay, budget_id=budget_id, account=Account.PAID, amount=total,
                        kind=EntryKind.PAY, memo="bench: the year's payments"),
        ]
    LedgerEntry.objects.bulk_create(entries)
    reset_sequences(["assistance_application", "funds_disbursement"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"seconds": round(time.perf_counter() - started, 1), "payments": rows,
            "members": len(member_rows)}


def _file_mib(path: Path) -> float:
    return round(path.stat().st_size / 1024 / 1024, 1)


def child_export(args) -> dict:
    from unionaid.accounts.models import User
    from unionaid.assistance.ledgers.payment_ledger import export_payment_ledger

    year = _year()
    user = User.objects.get(username=USERNAME)
    path = DATA / "payment_ledger.xlsx"
    started = time.perf_counter()
    result = export_payment_ledger(actor=user, unit=None, start=dt.date(year, 1, 1),
                                   end=dt.date(year, 12, 31), path=path)
    return {"seconds": round(time.perf_counter() - started, 2), "count": result.count,
            "file_mib": _file_mib(path)}


ANCHOR_SQL = """
SELECT d.id, d.paid_at, d.amount, d.status, d.subject_id, d.batch_id, m.name,
       m.id_number_enc, m.bank_account_enc, mu.name, bu.name, b.funding_source_id
FROM funds_disbursement d
JOIN members_member m ON m.id = d.member_id
JOIN org_orgunit mu ON mu.id = m.org_unit_id
JOIN funds_budget b ON b.id = d.budget_id
JOIN org_orgunit bu ON bu.id = b.org_unit_id
WHERE d.paid_at >= %s AND d.paid_at < %s
ORDER BY d.paid_at, d.id
"""


def child_anchor(args) -> dict:
    """The same rows written without the product: a plain cursor and XlsxWriter."""
    import xlsxwriter
    from django.db import connection, transaction

    year = _year()
    low = dt.datetime(year, 1, 1, tzinfo=dt.UTC) - dt.timedelta(hours=8)
    high = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC) - dt.timedelta(hours=8)
    path = DATA / "anchor.xlsx"
    started = time.perf_counter()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("anchor")
    sheet.write_row(0, 0, ["anchor"])
    sheet.write_row(1, 0, [f"c{n}" for n in range(15)])
    connection.ensure_connection()
    raw = connection.connection
    row_no = 2
    with transaction.atomic():  # a server-side cursor lives in a transaction
        if connection.vendor == "postgresql":
            cursor = raw.cursor(name="anchor")  # server-side: rows come as they are fetched
            cursor.execute(ANCHOR_SQL, [low, high])
        else:
            cursor = raw.cursor()
            cursor.execute(ANCHOR_SQL.replace("%s", "?"),
                           [low.strftime("%Y-%m-%d %H:%M:%S"),
                            high.strftime("%Y-%m-%d %H:%M:%S")])
        while rows := cursor.fetchmany(2000):
            for pk, paid_at, amount, status, subject, batch, name, id_enc, bank_enc, unit, \
                    budget_unit, source in rows:
                sheet.write_row(row_no, 0, [
                    row_no - 1, str(paid_at)[:10], unit, name, id_enc[-18:], bank_enc[-19:], "",
                    str(subject), str(source), budget_unit, batch, pk, float(amount), status,
                    ""])
                row_no += 1
        cursor.close()
    book.close()
    return {"seconds": round(time.perf_counter() - started, 2), "count": row_no - 2,
            "file_mib": _file_mib(path)}


def _sheet_rows(path: Path) -> int:
    """Rows in the first sheet, counted streaming its XML."""
    count, tail = 0, b""
    with zipfile.ZipFile(path) as book, book.open("xl/worksheets/sheet1.xml") as sheet:
        while block := sheet.read(1 << 20):
            data = tail + block
            count += data.count(b"<row ")
            tail = data[-5:]
            count -= tail.count(b"<row ")
    return count


def child_check(args) -> dict:
    from django.db import connection
    from django.db.models import Count, Sum
    from helpers.machine import database_version

    from unionaid.audit.models import AuditEvent
    from unionaid.audit.services import audit_verify
    from unionaid.funds.models import Disbursement
    from unionaid.funds.services import ledger_recompute

    problems = []
    year = _year()
    db = Disbursement.objects.filter(paid_at__year=year).aggregate(n=Count("pk"),
                                                                   s=Sum("amount"))
    event = AuditEvent.objects.filter(action="assistance.payment_ledger_export").last()
    if event is None:
        problems.append("no journal entry for the export")
    else:
        if event.changes["count"] != db["n"]:
            problems.append(f"journal count {event.changes['count']} != {db['n']} payments")
        if event.changes["total"] != f"{db['s']:.2f}":
            problems.append(f"journal total {event.changes['total']} != {db['s']:.2f}")
    rows = _sheet_rows(DATA / "payment_ledger.xlsx")
    totals = Disbursement.objects.filter(paid_at__year=year).values(
        "budget__funding_source").distinct().count() + 1  # 小计 per source + 合计
    if rows != db["n"] + 2 + totals:
        problems.append(f"sheet rows {rows} != {db['n']} payments + 2 + {totals} totals")
    mismatches = ledger_recompute()
    if mismatches:
        problems.append(f"ledger: {len(mismatches)} mismatches")
    broken = list(audit_verify())
    if broken:
        problems.append(f"audit: {len(broken)} problems")
    return {"count": db["n"], "total": str(db["s"]), "sheet_rows": rows, "problems": problems,
            "database": database_version(connection), "seconds": 0.0}


CHILDREN = {"load": child_load, "export": child_export, "anchor": child_anchor,
            "check": child_check}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="postgres")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--reuse", action="store_true", help="keep a loaded database")
    parser.add_argument("--steps", default="load,export,anchor,check",
                        help="steps to run (with --reuse); the others' last results are kept")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.child:
        return main_parent(args)
    _setup()
    result = CHILDREN[args.child](args)
    args.out.write_text(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
