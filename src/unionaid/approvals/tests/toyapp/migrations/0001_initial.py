from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="ToyRequest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("title", models.CharField(max_length=50)),
                ("status", models.CharField(default="draft", max_length=20)),
                ("outcomes", models.JSONField(default=list)),
            ],
        ),
    ]
