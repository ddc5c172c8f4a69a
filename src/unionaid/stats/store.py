"""Keeping the statistics store current: the full rebuild and the incremental refresh.

**Records.** Each counted source record has one ``StatRecord`` per ``FactRow`` (what it
contributes as last counted). **Cells.** From the records, ``StatCell`` rows are kept for every
key (fact, grain, depth, dim, unit_path, period, value): grains month / quarter / year / all
time, the ancestors of the record's unit at depths 1…``STATS_CELL_DEPTH``, and the dimension
sets "none" and each single dimension. Each record therefore adds to
4 × depth × (1 + dimensions) cells.

**Exactness.** Additive columns of a cell are sums, so a change moves them by the difference
between a record's old and new row. ``people`` is not additive; it is kept exact per cell key:
a changed record can only change the people of the keys it had or has, and the refresher knows
each affected member's records (indexed by member), so it computes for each member the set of
keys held before and after the change, and moves ``people`` by +1 / −1 where a key was gained
or lost. The full rebuild computes the same cells with ``COUNT(DISTINCT member_id)``, and the
tests check both against the source records.

**Incremental.** ``refresh(now=…)`` reads, per fact, the source ids its ``changed(since)``
gives, with ``since`` = the last run's start less ``OVERLAP`` (a transaction that committed
late is read again; reading a record again changes nothing), plus the records of members whose
details (sex, birth date, employment form) changed. Per fact, the whole step runs in one
transaction that first updates the fact's ``StatWatermark`` row: two refreshers (two
schedulers, or the command beside one) take turns on that row lock and the second finds
nothing left to change, so a refresh is idempotent and safe to run concurrently.

**Not followed:** a unit moved in the tree keeps its old path in the store until
``stats rebuild``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from unionaid.members.models import Member
from unionaid.org.models import OrgUnit
from unionaid.stats.models import StatCell, StatRecord, StatWatermark
from unionaid.stats.registry import (
    COLUMNS,
    FACT_DIMENSION_SLOTS,
    INT_COLUMNS,
    MEMBER_DIMENSIONS,
    MONEY_COLUMNS,
    Fact,
    FactRow,
    registered_facts,
)

STEPLEN = OrgUnit.steplen
OVERLAP = dt.timedelta(minutes=2)
GRAINS = ("m", "q", "y", "a")
SLOTS = tuple(f"d{i}" for i in range(1, FACT_DIMENSION_SLOTS + len(MEMBER_DIMENSIONS) + 1))
CHUNK = 1000


def cell_depth() -> int:
    """The deepest tree level kept in cells (deeper drill-downs read the records)."""
    return getattr(settings, "STATS_CELL_DEPTH", 3)


def age_band(birth_date: dt.date | None, on: dt.date) -> str:
    """The member's age band on the day counted: lt30, 30, 40, 50, 60 (60 and over)."""
    if birth_date is None:
        return ""
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    if age < 30:
        return "lt30"
    return str(min(age // 10 * 10, 60))


def fact_slots(fact: Fact) -> list[tuple[str, str]]:
    """(dimension key, storage column) of every breakdown dimension of ``fact``."""
    return [(d.key, fact.slot(d.key)) for d in fact.dimensions] + [
        (key, fact.slot(key)) for key in MEMBER_DIMENSIONS]


def period_values(month: int) -> dict[str, int]:
    year, mon = divmod(month, 100)
    return {"m": month, "q": year * 10 + (mon - 1) // 3 + 1, "y": year, "a": 0}


def _record_values(fact: Fact, row: FactRow, paths: dict[int, str], members: dict) -> dict:
    values = {"fact": fact.key, "source_id": row.source_id, "part": row.part,
              "org_unit_id": row.org_unit_id, "org_path": paths[row.org_unit_id],
              "member_id": row.member_id, "month": row.on.year * 100 + row.on.month,
              "quarter": row.on.year * 10 + (row.on.month - 1) // 3 + 1, "year": row.on.year}
    for slot in SLOTS:
        values[slot] = ""
    for dim in fact.dimensions:
        values[fact.slot(dim.key)] = str(row.dims.get(dim.key, "") or "")[:40]
    member = members.get(row.member_id)
    if member is not None:
        sex, birth_date, form = member
        values[fact.slot("sex")] = sex or ""
        values[fact.slot("age_band")] = age_band(birth_date, row.on)
        values[fact.slot("employment_form")] = form or ""
    for column in INT_COLUMNS:
        values[column] = int(row.values.get(column, 0) or 0)
    for column in MONEY_COLUMNS:  # kept in cents: exact sums on every engine
        values[column] = int((Decimal(row.values.get(column, 0) or 0) * 100).to_integral_value())
    return values


def current_records(fact: Fact, ids: list[int]) -> list[dict]:
    """The records the sources say ``ids`` contribute now (column → value dicts)."""
    rows = [r for rs in fact.rows(ids).values() for r in rs]
    paths = dict(OrgUnit.objects.filter(pk__in={r.org_unit_id for r in rows})
                 .values_list("pk", "path"))
    members = {pk: (sex, birth, form) for pk, sex, birth, form in Member.objects.filter(
        pk__in={r.member_id for r in rows if r.member_id}).values_list(
        "pk", "sex", "birth_date", "employment_form")}
    return [_record_values(fact, r, paths, members) for r in rows if r.org_unit_id in paths]


def record_keys(fact: Fact, rec: dict, depth_limit: int) -> list[tuple]:
    """Every cell key (grain, depth, dim, unit_path, period, value) ``rec`` adds to."""
    periods = period_values(rec["month"])
    path = rec["org_path"]
    dims = [("", "")] + [(key, rec[slot]) for key, slot in fact_slots(fact)]
    keys = []
    for depth in range(1, min(depth_limit, len(path) // STEPLEN) + 1):
        unit_path = path[: depth * STEPLEN]
        for grain in GRAINS:
            for dim, value in dims:
                keys.append((grain, depth, dim, unit_path, periods[grain], value))
    return keys


# -- incremental refresh ------------------------------------------------------------------------

def _as_record(obj: StatRecord) -> dict:
    values = {f: getattr(obj, f) for f in ("fact", "source_id", "part", "org_unit_id", "org_path",
                                           "member_id", "month", "quarter", "year")}
    values.update({slot: getattr(obj, slot) for slot in SLOTS})
    values.update({c: getattr(obj, c) for c in COLUMNS})
    return values


def _same(a: dict, b: dict) -> bool:
    return all(a[k] == b[k] for k in a)


def apply_changes(fact: Fact, ids: list[int]) -> int:
    """Count ``ids`` of ``fact`` again and move the cells by the difference. Returns the number
    of records that changed. Call inside the fact's locked transaction."""
    depth_limit = cell_depth()
    old_objs = list(StatRecord.objects.filter(fact=fact.key, source_id__in=ids))
    old = {(o.source_id, o.part): _as_record(o) for o in old_objs}
    new = {(r["source_id"], r["part"]): r for r in current_records(fact, ids)}
    changed = [k for k in old.keys() | new.keys()
               if k not in old or k not in new or not _same(old[k], new[k])]
    if not changed:
        return 0
    changed_set = set(changed)
    deltas: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys((*COLUMNS, "people"), 0))
    for key in changed:
        for rec, sign in ((old.get(key), -1), (new.get(key), 1)):
            if rec is None:
                continue
            for cell in record_keys(fact, rec, depth_limit):
                for column in COLUMNS:
                    deltas[cell][column] += sign * rec[column]
    # people: for each member touched, the cell keys held before and after
    members = {r["member_id"] for k in changed for r in (old.get(k), new.get(k))
               if r is not None and r["member_id"] is not None}
    held_before: dict[int, list[dict]] = defaultdict(list)
    for obj in StatRecord.objects.filter(fact=fact.key, member_id__in=members):
        held_before[obj.member_id].append(_as_record(obj))
    for member_id in members:
        before = held_before[member_id]
        after = [r for r in before if (r["source_id"], r["part"]) not in changed_set]
        after += [r for k in changed if (r := new.get(k)) is not None and r["member_id"] == member_id]
        keys_before = {c for r in before for c in record_keys(fact, r, depth_limit)}
        keys_after = {c for r in after for c in record_keys(fact, r, depth_limit)}
        for cell in keys_after - keys_before:
            deltas[cell]["people"] += 1
        for cell in keys_before - keys_after:
            deltas[cell]["people"] -= 1
    _apply_deltas(fact, deltas)
    StatRecord.objects.filter(pk__in=[o.pk for o in old_objs
                                      if (o.source_id, o.part) in changed_set]).delete()
    StatRecord.objects.bulk_create([StatRecord(**new[k]) for k in changed if k in new],
                                   batch_size=CHUNK)
    return len(changed)


def _apply_deltas(fact: Fact, deltas: dict[tuple, dict]) -> None:
    deltas = {k: d for k, d in deltas.items() if any(d.values())}
    if not deltas:
        return
    existing: dict[tuple, StatCell] = {}
    by_shape = defaultdict(set)
    for grain, depth, dim, unit_path, period, value in deltas:
        by_shape[(grain, depth, dim)].add((unit_path, period, value))
    for (grain, depth, dim), keys in by_shape.items():
        for cell in StatCell.objects.filter(
                fact=fact.key, grain=grain, depth=depth, dim=dim,
                unit_path__in={k[0] for k in keys}, period__in={k[1] for k in keys}):
            key = (cell.grain, cell.depth, cell.dim, cell.unit_path, cell.period, cell.value)
            if key in deltas:
                existing[key] = cell
    fields = [*COLUMNS, "people"]
    create, update, delete = [], [], []
    for key, delta in deltas.items():
        cell = existing.get(key)
        if cell is None:
            cell = StatCell(fact=fact.key, grain=key[0], depth=key[1], dim=key[2],
                            unit_path=key[3], period=key[4], value=key[5])
            for f in fields:
                setattr(cell, f, delta[f])
            create.append(cell)
            continue
        for f in fields:
            setattr(cell, f, getattr(cell, f) + delta[f])
        if not any(getattr(cell, f) for f in fields):
            delete.append(cell.pk)
        else:
            update.append(cell)
    StatCell.objects.filter(pk__in=delete).delete()
    StatCell.objects.bulk_update(update, fields, batch_size=CHUNK)
    StatCell.objects.bulk_create(create, batch_size=CHUNK)


def _lock(fact: Fact, now: dt.datetime) -> StatWatermark:
    """Take the fact's refresh lock: the first statement of the transaction is a write, so on
    SQLite the write lock is held before anything is read, on PostgreSQL the row lock."""
    StatWatermark.objects.get_or_create(fact=fact.key)
    StatWatermark.objects.filter(fact=fact.key).update(refreshed_at=now)
    return StatWatermark.objects.select_for_update().get(fact=fact.key)


def refresh_fact(fact: Fact, *, now: dt.datetime) -> int:
    """Count again what changed in ``fact``'s sources since its watermark. Returns the number
    of records that changed."""
    with transaction.atomic():
        mark = _lock(fact, now)
        if mark.read_to is None:
            return 0  # never built: `stats rebuild` first (the job does it)
        since = mark.read_to - OVERLAP
        ids = set(fact.changed(since))
        touched_members = Member.objects.filter(updated_at__gte=since).values("pk")
        ids |= set(StatRecord.objects.filter(fact=fact.key, member_id__in=touched_members)
                   .values_list("source_id", flat=True))
        count = 0
        ordered = sorted(ids)
        for start in range(0, len(ordered), CHUNK):
            count += apply_changes(fact, ordered[start:start + CHUNK])
        mark.read_to = now
        mark.save(update_fields=["read_to"])
    return count


def refresh(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The incremental refresh of every registered fact (a fact never built is rebuilt)."""
    now = now or timezone.now()
    result = {}
    for fact in registered_facts():
        if not StatWatermark.objects.filter(fact=fact.key, read_to__isnull=False).exists():
            result[fact.key] = rebuild_fact(fact, now=now)
        else:
            result[fact.key] = refresh_fact(fact, now=now)
    return result


# -- full rebuild -------------------------------------------------------------------------------

def cell_sql(fact_key: str, fact: Fact, depth_limit: int, *, records: str = "stats_statrecord",
             placeholder: str = "%s") -> list[tuple[str, list]]:
    """INSERT … SELECT statements that compute every cell of ``fact`` from its records; plain
    SQL that PostgreSQL, SQLite and DuckDB all run (the benchmark builds its cells with it)."""
    period = {"m": "month", "q": "quarter", "y": "year", "a": "0"}
    sums = ", ".join(f"SUM({c})" for c in COLUMNS)
    statements = []
    dims = [("", "''"), *fact_slots(fact)]
    for depth in range(1, depth_limit + 1):
        width = depth * STEPLEN
        for grain in GRAINS:
            for dim, slot in dims:
                # constants are left out of GROUP BY (an integer there names a column)
                group = [f"SUBSTR(org_path, 1, {width})"] + [
                    e for e in (period[grain], slot) if e not in ("0", "''")]
                # every name and number here is the code's own, the fact key a parameter
                sql = (
                    f"INSERT INTO stats_statcell (fact, grain, depth, dim, unit_path, period, "  # noqa: S608
                    f"value, {', '.join(COLUMNS)}, people) "
                    f"SELECT {placeholder}, '{grain}', {depth}, '{dim}', SUBSTR(org_path, 1, {width}), "
                    f"{period[grain]}, {slot}, {sums}, COUNT(DISTINCT member_id) "
                    f"FROM {records} WHERE fact = {placeholder} "
                    f"AND LENGTH(org_path) >= {width} "
                    f"GROUP BY {', '.join(group)}")
                statements.append((sql, [fact_key, fact_key]))
    return statements


def rebuild_fact(fact: Fact, *, now: dt.datetime | None = None) -> int:
    """Count every source record of ``fact`` again and rebuild its cells. Returns the number
    of records."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock(fact, now)
        StatRecord.objects.filter(fact=fact.key).delete()
        StatCell.objects.filter(fact=fact.key).delete()
        count = 0
        for ids in fact.all_ids():
            records = current_records(fact, list(ids))
            StatRecord.objects.bulk_create([StatRecord(**r) for r in records], batch_size=CHUNK)
            count += len(records)
        with connection.cursor() as cursor:
            for sql, params in cell_sql(fact.key, fact, cell_depth()):
                cursor.execute(sql, params)
        StatWatermark.objects.filter(fact=fact.key).update(read_to=now)
    return count


def rebuild(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The full rebuild of every registered fact."""
    now = now or timezone.now()
    return {fact.key: rebuild_fact(fact, now=now) for fact in registered_facts()}
