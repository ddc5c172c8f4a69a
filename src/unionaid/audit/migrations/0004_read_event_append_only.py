"""On PostgreSQL the read log refuses UPDATE and DELETE, as the journal does."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_read_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_readevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_read_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_readevent
    FOR EACH ROW EXECUTE FUNCTION audit_read_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_read_no_update_delete ON audit_readevent;
DROP FUNCTION IF EXISTS audit_read_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # no %-placeholders: keep "%" literal


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_read_event")]
    operations = [migrations.RunPython(forwards, backwards)]
