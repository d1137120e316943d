"""Heatmaps kept small (one file per study), the prepared model input, batch claims, calibrated scores.

Existing findings keep their rendered heatmap PNGs (renamed to legacy_heatmap_file) and get their
calibrated score computed from their probability and threshold, so nothing stored is lost.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ml.classifier.postprocess import calibrated_score


def score_existing_findings(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Finding = apps.get_model("studies", "Finding")
    for finding in Finding.objects.all().only("id", "probability", "threshold").iterator():
        finding.calibrated_score = calibrated_score(finding.probability, finding.threshold)
        finding.save(update_fields=["calibrated_score"])


class Migration(migrations.Migration):
    dependencies = [("studies", "0002_image_metadata_and_screening")]

    operations = [
        migrations.AddField(
            model_name="study",
            name="claimed_by",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddField(
            model_name="study",
            name="model_input_file",
            field=models.FileField(blank=True, max_length=255, upload_to=""),
        ),
        migrations.AddField(
            model_name="study",
            name="heatmaps_file",
            field=models.FileField(blank=True, max_length=255, upload_to=""),
        ),
        migrations.RenameField(model_name="finding", old_name="heatmap_file", new_name="legacy_heatmap_file"),
        migrations.AlterField(
            model_name="finding",
            name="legacy_heatmap_file",
            field=models.FileField(blank=True, max_length=255, upload_to=""),
        ),
        migrations.AddField(
            model_name="finding",
            name="calibrated_score",
            field=models.FloatField(null=True),
        ),
        migrations.RunPython(score_existing_findings, migrations.RunPython.noop),
        migrations.AlterField(model_name="finding", name="calibrated_score", field=models.FloatField()),
    ]
