"""The access stamp (accounts migrations 0005 and 0006) also changes with the catalog: the
to-do filter's list of items is kept under it (``core.memo``). Same triggers as there
(``accounts.stamp_triggers``)."""

from django.db import migrations

from unionaid.accounts.stamp_triggers import migration_operations

forwards, backwards = migration_operations(
    ("assistance_assistanceitem", "assistance_assistancecategory"))


class Migration(migrations.Migration):

    dependencies = [
        ("assistance", "0006_annual_cap_versions"),
        ("accounts", "0005_access_stamp"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
