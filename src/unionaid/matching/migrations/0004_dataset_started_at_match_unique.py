# Dataset.started_at (a stale import can be ended) and one match per record and run.

from django.conf import settings
from django.db import migrations, models
from django.db.models import Min


def drop_duplicate_matches(apps, schema_editor):
    """A run cancelled as stale and retried could be written twice (the review of issue 12):
    keep the first match of each (run, record), delete the copies (leads and kept decisions
    pointing at a copy lose only that pointer: SET_NULL)."""
    Match = apps.get_model("matching", "Match")
    duplicated = (Match.objects.filter(record__isnull=False).values("run", "record")
                  .annotate(first=Min("pk"), n=models.Count("pk")).filter(n__gt=1))
    for row in duplicated.iterator():
        Match.objects.filter(run=row["run"], record=row["record"]).exclude(
            pk=row["first"]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('matching', '0003_default_lead_rules'),
        ('members', '0003_encrypted_fields_named_for_clear_values'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='dataset',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='开始导入时间'),
        ),
        migrations.RunPython(drop_duplicate_matches, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='match',
            constraint=models.UniqueConstraint(condition=models.Q(('record__isnull', False)), fields=('run', 'record'), name='match_run_record_uniq'),
        ),
    ]
