"""The access stamp (accounts migrations 0005 and 0006) also changes with the catalog: the
to-do filter's list of items is kept under it (``core.memo``). Same triggers as there."""

from django.db import migrations

TABLES = ("assistance_assistanceitem", "assistance_assistancecategory")
STAMP = "accounts_accessstamp"


def _triggers(vendor: str) -> tuple[list[str], list[str]]:
    create, drop = [], []
    if vendor == "postgresql":  # the function of accounts migration 0005
        for table in TABLES:
            name = f"{table}_access_stamp"
            create.append(f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                          "FOR EACH STATEMENT EXECUTE FUNCTION accounts_access_stamp_bump()")
            drop.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    elif vendor == "sqlite":
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                name = f"{table}_access_stamp_{event.lower()}"
                create.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN "
                              f"INSERT OR REPLACE INTO {STAMP} (id, value) VALUES (1, random()); "
                              "END")
                drop.append(f"DROP TRIGGER IF EXISTS {name}")
    else:
        raise NotImplementedError(f"access stamp triggers for {vendor}")
    return create, drop


def forwards(apps, schema_editor):
    for sql in _triggers(schema_editor.connection.vendor)[0]:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    for sql in _triggers(schema_editor.connection.vendor)[1]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("assistance", "0006_annual_cap_versions"),
        ("accounts", "0005_access_stamp"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
