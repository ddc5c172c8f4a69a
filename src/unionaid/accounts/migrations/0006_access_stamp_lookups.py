"""The access stamp also changes with the near-static lookups kept under it (``core.memo``):
the union's profile, the tree's level names, and the second-factor devices, whose
"has a device" is kept with a user's rights (``Access.has_device``). Same triggers as 0005
(``accounts.stamp_triggers``)."""

from django.db import migrations

from unionaid.accounts.stamp_triggers import migration_operations

forwards, backwards = migration_operations(
    ("org_orglevel", "org_unionprofile", "otp_totp_totpdevice"))


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_access_stamp"),
        ("org", "0002_union_profile"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
