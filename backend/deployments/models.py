"""Which model analyses: the weights installed, the sites' threshold profiles, the active and shadow ones.

A deployment is one set of weights with, optionally, one threshold profile (the card's own thresholds
without). One row of ``DeploymentState`` says which deployment is active, which runs in shadow and
which was active before (for a rollback). Without that row, or before a first activation, the active
model is the boot default: ``settings.CXR_WEIGHTS`` with its card's thresholds.
"""

from django.conf import settings
from django.db import models


class ModelVersion(models.Model):
    """A weights directory the operator installed (``manage.py model_version_install``), as its card
    described it then. ``weights_dir`` is empty for the seeded untrained model."""

    weights_dir = models.CharField(max_length=1024, blank=True)
    name = models.CharField(max_length=128)
    version = models.CharField(max_length=64)
    trained = models.BooleanField()
    # Null for the untrained model, whose weights are seeded, not a file.
    weights_sha256 = models.CharField(max_length=64, blank=True)
    card = models.JSONField()
    installed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-installed_at"]
        constraints = [
            models.UniqueConstraint(fields=["weights_dir", "weights_sha256"], name="one_version_per_weights")
        ]

    @property
    def weights_sha256_or_none(self) -> str | None:
        return self.weights_sha256 or None

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class ThresholdProfileRecord(models.Model):
    """A site's threshold profile as installed (ml.classifier.threshold_profile), never edited:
    a new choice of thresholds is a new version."""

    name = models.CharField(max_length=63)
    version = models.PositiveIntegerField()
    weights_sha256 = models.CharField(max_length=64)
    model = models.CharField(max_length=200)
    rule = models.CharField(max_length=200)
    # The profile's JSON as ``ThresholdProfile.to_dict`` writes it.
    document = models.JSONField()
    installed_at = models.DateTimeField(auto_now_add=True)
    installed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "-version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="one_profile_per_version")]

    @property
    def identity(self) -> str:
        return f"{self.name}-v{self.version}"

    def __str__(self) -> str:
        return self.identity


class Deployment(models.Model):
    """One set of weights with one threshold profile (or none: the card's thresholds)."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="deployments")
    profile = models.ForeignKey(
        ThresholdProfileRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="deployments"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        # PostgreSQL counts two rows without a profile as distinct: deployment_for (services) finds
        # the existing row under the state's lock instead.
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "profile"],
                name="one_deployment_per_weights_and_profile",
            )
        ]

    def __str__(self) -> str:
        profile = self.profile.identity if self.profile else "card thresholds"
        return f"{self.model_version} ({profile})"


class DeploymentState(models.Model):
    """The one row (pk 1) saying what analyses now, what runs in shadow, and what rollback returns to."""

    active = models.ForeignKey(Deployment, null=True, on_delete=models.PROTECT, related_name="+")
    shadow = models.ForeignKey(Deployment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    previous = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"active {self.active}, shadow {self.shadow}"
