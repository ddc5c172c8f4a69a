"""The access stamp also changes with the near-static lookups kept under it (``core.memo``):
the union's profile, the tree's level names, and the second-factor devices, whose
"has a device" is kept with a user's rights (``Access.has_device``). Same triggers as 0005."""

from django.db import migrations

TABLES = ("org_orglevel", "org_unionprofile", "otp_totp_totpdevice")
STAMP = "accounts_accessstamp"


def _triggers(vendor: str) -> tuple[list[str], list[str]]:
    create, drop = [], []
    if vendor == "postgresql":  # the function of migration 0005
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
        ("accounts", "0005_access_stamp"),
        ("org", "0002_union_profile"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
