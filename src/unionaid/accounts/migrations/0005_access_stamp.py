"""The access stamp (``AccessStamp``) and the triggers that change it.

Every write to a table rights are computed from gives the stamp a new random value, in the
writing transaction: services, ``QuerySet.update``, treebeard's tree moves and raw SQL alike.
``accounts.access.cached_access`` compares it per request. Random, not a counter: a rolled-back
transaction takes its value back with it, and a later change never lands on a value an older
state of the tables once had.
"""

import os

from django.db import migrations, models

TABLES = ("accounts_assignment", "accounts_position", "accounts_position_roles",
          "accounts_role", "org_orgunit")
STAMP = "accounts_accessstamp"

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION accounts_access_stamp_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {STAMP} (id, value) VALUES (1, floor(random() * 9.2e18)::bigint)
  ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value;
  RETURN NULL;
END $$;
"""


def _triggers(vendor: str) -> tuple[list[str], list[str]]:
    """(create, drop) statements for ``vendor``."""
    create, drop = [], []
    if vendor == "postgresql":
        create.append(PG_FUNCTION)
        for table in TABLES:
            name = f"{table}_access_stamp"
            create.append(f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                          "FOR EACH STATEMENT EXECUTE FUNCTION accounts_access_stamp_bump()")
            drop.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        drop.append("DROP FUNCTION IF EXISTS accounts_access_stamp_bump()")
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
    create, _drop = _triggers(schema_editor.connection.vendor)
    for sql in create:
        schema_editor.execute(sql)
    apps.get_model("accounts", "AccessStamp").objects.update_or_create(
        pk=1, defaults={"value": int.from_bytes(os.urandom(7), "big")})


def backwards(apps, schema_editor):
    _create, drop = _triggers(schema_editor.connection.vendor)
    for sql in drop:
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_staff_first_login"),
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccessStamp",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("value", models.BigIntegerField(default=0)),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
