"""HouseholdProfile.data_enc is named data_json, for what it holds in Python (the profile as JSON
text); its column keeps the name ``data_enc`` (it holds the ciphertext). State only: AlterField
adds the column's current name as db_column, then RenameField; neither touches the table."""

from django.db import migrations

import unionaid.core.fields


class Migration(migrations.Migration):

    dependencies = [
        ("visits", "0002_need_resolution_note"),
    ]

    operations = [
        migrations.AlterField(
            model_name="householdprofile",
            name="data_enc",
            field=unionaid.core.fields.EncryptedTextField(db_column="data_enc",
                                                          verbose_name="家庭情况（加密）"),
        ),
        migrations.RenameField(model_name="householdprofile", old_name="data_enc",
                               new_name="data_json"),
    ]
