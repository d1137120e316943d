"""Analyser runs and explanations keep the same job fields as studies (common.jobs.Job)."""

from django.db import migrations, models
from django.db.models import F
from django.utils import timezone


def explanations_created_when_first_queued(apps, schema_editor) -> None:
    # The closest known time: a row re-asked since keeps the later one.
    apps.get_model("studies", "Explanation").objects.update(created_at=F("enqueued_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("studies", "0009_upload_answer"),
    ]

    operations = [
        # An explanation's "requested_at" always was when it was last queued.
        migrations.RenameField(model_name="explanation", old_name="requested_at", new_name="enqueued_at"),
        migrations.AlterModelOptions(name="explanation", options={"ordering": ["enqueued_at"]}),
        migrations.AlterField(
            model_name="explanation", name="enqueued_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="explanation",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, default=timezone.now),
            preserve_default=False,
        ),
        migrations.RunPython(explanations_created_when_first_queued, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="analyserrun", name="enqueued_at", field=models.DateTimeField(blank=True, null=True)
        ),
    ]
    operations += [
        migrations.AddField(model_name=model, name=name, field=field)
        for model in ("analyserrun", "explanation")
        for name, field in (
            ("claimed_by", models.CharField(blank=True, default="", max_length=255)),
            ("requeues", models.PositiveSmallIntegerField(default=0)),
        )
    ]
    operations += [
        migrations.AddField(
            model_name="explanation", name="attempts", field=models.PositiveSmallIntegerField(default=0)
        ),
    ]
