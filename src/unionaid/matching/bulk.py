"""Inserting many rows of one model, for the loads and runs of millions of rows.

``bulk_create`` spends most of its time in the SQL compiler's per-value work (measured on
20,000 external records: 2.3 s, against 0.34 s for the same INSERTs through ``executemany``).
``bulk_insert`` keeps the fields' own conversion — ``get_db_prep_save``: encryption of the
encrypted fields, JSON adaptation, dates — and hands the rows to the driver's ``executemany``.
No signals, no primary keys set on the objects (none of the callers needs either).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Model


def bulk_insert(model: type[Model], objs: Iterable[Model], *, fields: list[str]) -> int:
    """INSERT ``objs`` (unsaved instances of ``model``), giving the columns of ``fields``."""
    meta = model._meta
    concrete = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in concrete)
    marks = ", ".join(["%s"] * len(concrete))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    rows = [tuple(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in concrete)
            for obj in objs]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
    return len(rows)
