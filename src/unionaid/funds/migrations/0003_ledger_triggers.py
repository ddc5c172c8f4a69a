"""On PostgreSQL the ledger refuses UPDATE, DELETE and TRUNCATE of its entries, and refuses any
INSERT statement that leaves a transaction (``txn``) whose entries don't sum to zero. The
services write each transaction's entries in one INSERT statement (``bulk_create``)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION funds_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'funds_ledgerentry is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER funds_ledger_no_update_delete
    BEFORE UPDATE OR DELETE ON funds_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION funds_ledger_append_only();
CREATE TRIGGER funds_ledger_no_truncate
    BEFORE TRUNCATE ON funds_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION funds_ledger_append_only();

CREATE OR REPLACE FUNCTION funds_ledger_txn_balanced() RETURNS trigger AS $$
DECLARE
    bad uuid;
BEGIN
    SELECT e.txn INTO bad FROM funds_ledgerentry e
     WHERE e.txn IN (SELECT DISTINCT n.txn FROM new_rows n)
     GROUP BY e.txn HAVING SUM(e.amount) <> 0
     LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not sum to zero', bad
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER funds_ledger_balanced
    AFTER INSERT ON funds_ledgerentry
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION funds_ledger_txn_balanced();
"""

DROP = """
DROP TRIGGER IF EXISTS funds_ledger_balanced ON funds_ledgerentry;
DROP FUNCTION IF EXISTS funds_ledger_txn_balanced();
DROP TRIGGER IF EXISTS funds_ledger_no_truncate ON funds_ledgerentry;
DROP TRIGGER IF EXISTS funds_ledger_no_update_delete ON funds_ledgerentry;
DROP FUNCTION IF EXISTS funds_ledger_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # no %-placeholders: keep "%" literal


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("funds", "0002_ledger_guards")]
    operations = [migrations.RunPython(forwards, backwards)]
