"""The database triggers that give the access stamp (``AccessStamp``) a new random value on
every write to a table: accounts migrations 0005 (what rights are made of) and 0006 (the
near-static lookups kept under the stamp, ``core.memo``), and any later migration of an app
whose tables such a lookup reads (assistance 0007: the catalog).

Random, not a counter: a rolled-back transaction takes its value back with it, and a later
change never lands on a value an older state of the tables once had."""

from __future__ import annotations

STAMP = "accounts_accessstamp"
PG_FUNCTION = "accounts_access_stamp_bump"  # created by accounts migration 0005


def stamp_triggers(vendor: str, tables: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(create, drop) statements of the triggers on ``tables`` for ``vendor``."""
    create, drop = [], []
    if vendor == "postgresql":
        for table in tables:
            name = f"{table}_access_stamp"
            create.append(f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                          f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()")
            drop.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    elif vendor == "sqlite":
        for table in tables:
            for event in ("INSERT", "UPDATE", "DELETE"):
                name = f"{table}_access_stamp_{event.lower()}"
                create.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN "  # noqa: S608 - the migrations' table names
                              f"INSERT OR REPLACE INTO {STAMP} (id, value) VALUES (1, random()); "
                              "END")
                drop.append(f"DROP TRIGGER IF EXISTS {name}")
    else:
        raise NotImplementedError(f"access stamp triggers for {vendor}")
    return create, drop


def migration_operations(tables: tuple[str, ...]):
    """``RunPython`` (forwards, backwards) functions for a migration that adds the triggers."""

    def forwards(apps, schema_editor):
        for sql in stamp_triggers(schema_editor.connection.vendor, tables)[0]:
            schema_editor.execute(sql)

    def backwards(apps, schema_editor):
        for sql in stamp_triggers(schema_editor.connection.vendor, tables)[1]:
            schema_editor.execute(sql)

    return forwards, backwards
