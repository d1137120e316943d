"""A site's acceptance runs, its daily monitoring snapshots, and the intake's refusals by day."""

from django.conf import settings
from django.db import models

from common.jobs import Job


class AcceptanceSource(models.TextChoices):
    # A zip of radiographs and a labels CSV, uploaded by an admin.
    UPLOAD = "upload", "Uploaded labelled set"
    # The site's own analysed studies, labelled by the clinicians' verdicts on their findings.
    FEEDBACK = "feedback", "Studies with clinicians' verdicts"


class AcceptanceRun(Job):
    """One acceptance of the active model on a labelled local set: a job of common.jobs."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="acceptance_runs"
    )
    source = models.CharField(max_length=16, choices=AcceptanceSource.choices)
    # The uploaded set (already checked), read again by the worker; empty for the feedback source.
    archive = models.FileField(max_length=255, blank=True)
    labels_csv = models.TextField(blank=True, default="")
    # The site's targets as ml.evaluation.acceptance.parse_targets reads them, and the rule that
    # chooses the site's thresholds (ml.evaluation.metrics.ThresholdRule).
    targets = models.CharField(max_length=500)
    threshold_rule = models.CharField(max_length=64)
    # The card the run scored with (its weights' hash binds the threshold profile), and its result:
    # per finding the evaluation, the acceptance checks, the curves; the set's refusal rate.
    model_card = models.JSONField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    # The installed weights the run accepts, a candidate before its shadow run or promotion; null:
    # the active deployment when the run starts (its site profile's thresholds included).
    model_version = models.ForeignKey(
        "deployments.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="acceptance_runs",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"acceptance {self.pk} ({self.status})"


class DriftSnapshot(models.Model):
    """One day of the active model's use against its acceptance baseline (monitoring.drift)."""

    day = models.DateField()
    model_name = models.CharField(max_length=128)
    model_version = models.CharField(max_length=64)
    baseline = models.ForeignKey(AcceptanceRun, null=True, blank=True, on_delete=models.SET_NULL)
    studies = models.PositiveIntegerField()
    refused = models.PositiveIntegerField()
    refusal_rate = models.FloatField(null=True, blank=True)
    # Per finding: PSI and KS against the baseline, share above threshold, clinicians' agreement.
    findings = models.JSONField(default=dict)
    drifted = models.BooleanField(default=False)
    reasons = models.JSONField(default=list)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["day", "model_name", "model_version"], name="one_snapshot_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.model_name} {self.model_version}"


class IntakeRefusals(models.Model):
    """Images the intake refused on a day (they are never stored, so they are counted here)."""

    day = models.DateField(unique=True)
    refused = models.PositiveIntegerField(default=0)
