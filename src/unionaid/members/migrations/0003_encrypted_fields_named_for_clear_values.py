"""The encrypted fields are named for what they hold in Python (the clear value); their columns
keep their ``…_enc`` names (they hold the ciphertext). State only: AlterField adds the column's
current name as db_column, then RenameField changes the field's name; neither touches the table."""

from django.db import migrations

import unionaid.core.fields


class Migration(migrations.Migration):

    dependencies = [
        ("members", "0002_import_job"),
    ]

    operations = [
        migrations.AlterField(
            model_name="member",
            name="id_number_enc",
            field=unionaid.core.fields.EncryptedTextField(db_column="id_number_enc",
                                                          verbose_name="身份证号"),
        ),
        migrations.RenameField(model_name="member", old_name="id_number_enc", new_name="id_number"),
        migrations.AlterField(
            model_name="member",
            name="phone_enc",
            field=unionaid.core.fields.EncryptedTextField(blank=True, db_column="phone_enc",
                                                          verbose_name="手机号"),
        ),
        migrations.RenameField(model_name="member", old_name="phone_enc", new_name="phone"),
        migrations.AlterField(
            model_name="member",
            name="bank_account_enc",
            field=unionaid.core.fields.EncryptedTextField(blank=True, db_column="bank_account_enc",
                                                          verbose_name="银行账号"),
        ),
        migrations.RenameField(model_name="member", old_name="bank_account_enc",
                               new_name="bank_account"),
        migrations.AlterField(
            model_name="householdmember",
            name="id_number_enc",
            field=unionaid.core.fields.EncryptedTextField(blank=True, db_column="id_number_enc",
                                                          verbose_name="身份证号"),
        ),
        migrations.RenameField(model_name="householdmember", old_name="id_number_enc",
                               new_name="id_number"),
        migrations.AlterField(
            model_name="householdmember",
            name="health_note_enc",
            field=unionaid.core.fields.EncryptedTextField(blank=True, db_column="health_note_enc",
                                                          verbose_name="健康状况"),
        ),
        migrations.RenameField(model_name="householdmember", old_name="health_note_enc",
                               new_name="health_note"),
    ]
