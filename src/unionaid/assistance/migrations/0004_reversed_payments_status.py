"""Data: applications whose payment was reversed (冲正) before the ``reversed`` status existed
stayed ``paid``; they become ``reversed`` (发放已冲正) so that they may be paid again."""

from django.db import migrations

SUBJECT_KIND = "assistance.application"
LIVE = ("reserved", "in_batch", "paid")


def forwards(apps, schema_editor):
    Application = apps.get_model("assistance", "Application")
    Disbursement = apps.get_model("funds", "Disbursement")
    mine = Disbursement.objects.filter(subject_kind=SUBJECT_KIND)
    (Application.objects.filter(status="paid")
     .filter(pk__in=mine.filter(status="reversed").values("subject_id"))
     .exclude(pk__in=mine.filter(status__in=LIVE).values("subject_id"))
     .update(status="reversed"))


def backwards(apps, schema_editor):
    Application = apps.get_model("assistance", "Application")
    Application.objects.filter(status="reversed").update(status="paid")


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0003_application_payment_reversed"),
        ("funds", "0005_disbursement_repays"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
