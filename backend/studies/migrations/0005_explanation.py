"""Explanations of a finding by another method than Grad-CAM, kept once computed (studies.explanations)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("studies", "0004_study_enqueue_tracking_for_the_reconciler"),
    ]

    operations = [
        migrations.CreateModel(
            name="Explanation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("label", models.CharField(max_length=64)),
                ("method", models.CharField(max_length=32)),
                (
                    "status",
                    models.CharField(
                        choices=[("queued", "Queued"), ("running", "Running"), ("done", "Done"), ("failed", "Failed")],
                        default="queued",
                        max_length=16,
                    ),
                ),
                ("message", models.TextField(blank=True, default="")),
                ("map_file", models.FileField(blank=True, max_length=255, upload_to="")),
                ("deletion_auc", models.FloatField(blank=True, null=True)),
                ("insertion_auc", models.FloatField(blank=True, null=True)),
                ("parameters", models.JSONField(blank=True, default=dict)),
                ("seconds", models.FloatField(blank=True, null=True)),
                ("model_card", models.JSONField(blank=True, null=True)),
                ("requested_at", models.DateTimeField(auto_now_add=True)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "study",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="explanations", to="studies.study"
                    ),
                ),
            ],
            options={
                "ordering": ["requested_at"],
                "constraints": [
                    models.UniqueConstraint(fields=("study", "label", "method"), name="one_explanation_per_method")
                ],
            },
        ),
    ]
