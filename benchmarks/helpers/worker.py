"""The part of a benchmark run that lives inside Django, for one database.

Run by ``run.py`` in a child process whose DATABASE_URL points at the benchmark database, so
settings are read once for that database. Writes its results as JSON to ``out``.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

from . import invariants

SAMPLES_DEFAULT = 300
WARMUP_DEFAULT = 20


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _prepare(members: int, seed: int, data_dir: Path) -> dict:
    """Migrate, build the demo tree (no members) and import the roster, timing each step."""
    from django.core.management import call_command

    from unionaid.accounts.models import User
    from unionaid.core.spreadsheets import UNLIMITED
    from unionaid.members.importing import import_roster
    from unionaid.members.models import Member
    from unionaid.org.models import OrgUnit
    from unionaid.web.demo import build_demo

    from .roster import roster_path, write_roster

    timings: dict = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    timings["migrate_s"] = round(time.perf_counter() - started, 1)
    if not OrgUnit.objects.exists():
        build_demo(members=0, with_logins=False)
    codes = list(OrgUnit.objects.filter(depth=4).order_by("path").values_list("code", flat=True))
    path = roster_path(data_dir, members, seed, codes)
    existing = Member.objects.count()
    if existing == members:
        _say(f"database already holds {members:,} members: import skipped (--reuse)")
        timings["import"] = None
        return {"roster": path, "timings": timings}
    if existing:
        raise SystemExit(f"database holds {existing:,} members, expected 0 or {members:,}: "
                         "run without --reuse")
    started = time.perf_counter()
    _say(f"writing roster {path.name} …")
    write_roster(path, rows=members, seed=seed, unit_codes=codes)
    timings["roster_csv_s"] = round(time.perf_counter() - started, 1)
    _say(f"roster ready ({path.stat().st_size / 1e6:.0f} MB) in {timings['roster_csv_s']} s")

    stages: dict[str, float] = {}
    last_print = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        stages.setdefault(stage, now)
        if now - last_print[0] > 15 or done == total:
            last_print[0] = now
            _say(f"  {stage}: {done:,}/{total:,}")

    actor = User.objects.get(username="bureau_cadre")
    started = time.perf_counter()
    result = import_roster(actor=actor, path=path, dry_run=False, progress=progress,
                           max_errors=20, limits=UNLIMITED)
    elapsed = time.perf_counter() - started
    if not result.ok or result.created != members:
        for error in result.errors:
            _say(f"  row {error.row_number} {error.column}: {error.message}")
        raise SystemExit(f"import failed: {result.error_count} errors, {result.created} created")
    check_s = stages.get("writing", started + elapsed) - started
    timings["import"] = {
        "rows": result.created,
        "total_s": round(elapsed, 1),
        "check_pass_s": round(check_s, 1),
        "write_pass_s": round(elapsed - check_s, 1),
        "rows_per_s": round(result.created / elapsed),
    }
    _say(f"imported {result.created:,} rows in {elapsed:.0f} s "
         f"(check {check_s:.0f} s, write {elapsed - check_s:.0f} s)")
    return {"roster": path, "timings": timings}


def _analyze() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return round(time.perf_counter() - started, 1)


def _explain(qs) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return qs.explain(analyze=True, buffers=True)
    return qs.explain()


def _query_profile(fn) -> dict:
    """Queries one call makes, and the slowest of them (ms, from one run)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn(0)
    slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]), default=None)
    return {
        "queries": len(ctx.captured_queries),
        "slowest_sql": slowest["sql"][:2000] if slowest else "",
        "slowest_ms": round(float(slowest["time"]) * 1000, 2) if slowest else None,
    }


def _measurements(roster: Path, seed: int, samples: int, warmup: int, only) -> dict:
    from django.test import Client

    from unionaid.accounts.models import User
    from unionaid.members.selectors import member_search

    from .roster import sample_rows
    from .timing import measure

    cadre = User.objects.get(username="station_cadre")
    station = cadre.assignments.get().position.org_unit
    rows = sample_rows(roster, count=max(samples, 200), seed=seed)
    ids = [r["身份证号"] for r in rows]
    prefixes = [r["姓名"][:2] for r in rows]
    rng = random.Random(seed)
    rng.shuffle(ids)
    rng.shuffle(prefixes)

    def id_search(i: int):
        return list(member_search(user=cadre, query=ids[i % len(ids)])[:51])

    def name_search(i: int):
        return list(member_search(user=cadre, query=prefixes[i % len(prefixes)])[:51])

    def subtree_selector(i: int):
        return list(member_search(user=cadre, unit=station)[:51])

    # Proposed ordering (docs/benchmarks.md): unit path first, so that the database walks the
    # subtree's units in order through the (org_unit, name) index and stops after one page.
    unit_order = ("org_unit__path", "name", "pk")

    def subtree_unit_order(i: int):
        return list(member_search(user=cadre, unit=station).order_by(*unit_order)[:51])

    client = Client()
    client.force_login(cadre)

    def page(url: str):
        def get(i: int):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
            return response
        return get

    cases = {
        "id_search": ("职工搜索：完整身份证号 / member search by full ID number",
                      id_search, member_search(user=cadre, query=ids[0])[:51]),
        "name_search": ("职工搜索：姓名前两字 / member search by name prefix (2 chars)",
                        name_search, member_search(user=cadre, query=prefixes[0])[:51]),
        "subtree_selector": ("站段职工列表查询（第一页）/ subtree member list, selector only",
                             subtree_selector, member_search(user=cadre, unit=station)[:51]),
        "subtree_unit_order": ("同上，按单位+姓名排序（建议）/ same, ordered by unit path, name "
                               "(proposed)", subtree_unit_order,
                               member_search(user=cadre, unit=station).order_by(*unit_order)[:51]),
        "members_page": (f"页面 GET /members/?unit={station.pk} (站段干事)",
                         page(f"/members/?unit={station.pk}"), None),
        "org_unit_page": (f"页面 GET /org/{station.pk}/ (站段干事)",
                          page(f"/org/{station.pk}/"), None),
    }
    out: dict = {"station": station.name, "station_members": None, "cases": {}}
    from unionaid.members.models import Member

    out["station_members"] = Member.objects.filter(org_unit__path__startswith=station.path).count()
    for key, (label, fn, qs) in cases.items():
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
        _say(f"  p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms, "
             f"{stats['queries']} queries")
    return out


CASES = ("id_search", "name_search", "subtree_selector", "subtree_unit_order", "members_page",
         "org_unit_page")


def run(*, db: str, members: int, seed: int, samples: int, warmup: int, data_dir: Path,
        out: Path, analyze: bool, only=()) -> None:
    import django

    django.setup()
    from django.db import connection

    from .machine import database_version

    _say(f"{db}: {database_version(connection)}")
    prepared = _prepare(members, seed, data_dir)
    result = {
        "db": db,
        "database": database_version(connection),
        "members": members,
        "seed": seed,
        **prepared["timings"],
    }
    if analyze and prepared["timings"].get("import"):
        result["analyze_s"] = _analyze()
    result["partial"] = bool(only)
    result.update(_measurements(prepared["roster"], seed, samples, warmup, only))
    _say("checking the invariants (members, ledger, audit chain) …")
    result["invariants"] = invariants.check(members=members)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    invariants.enforce(result)
