"""The default lead rules (data migration; each union edits them on the lead rules page)."""

from django.db import migrations

from unionaid.matching.leads.defaults import DEFAULT_RULES


def add_rules(apps, schema_editor):
    LeadRule = apps.get_model("matching", "LeadRule")
    for rule in DEFAULT_RULES:
        LeadRule.objects.get_or_create(code=rule["code"], defaults={
            k: v for k, v in rule.items() if k != "code"})


def remove_rules(apps, schema_editor):
    LeadRule = apps.get_model("matching", "LeadRule")
    LeadRule.objects.filter(code__in=[r["code"] for r in DEFAULT_RULES],
                            leads__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("matching", "0002_leads")]
    operations = [migrations.RunPython(add_rules, remove_rules)]
