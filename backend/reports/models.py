"""The clinician's report of a study: versions of text and impression, the last signed one final.

Version 1 starts as a draft written from the study's results (reports.draft); the clinician edits it
and signs it. A signed version is never changed again: an amendment is a new version, a draft
copied from the signed one, which is signed in its turn. Every version is kept and readable.
"""

from django.conf import settings
from django.db import models

TEXT_MAX_LENGTH = 20_000
IMPRESSION_MAX_LENGTH = 5_000
REASON_MAX_LENGTH = 1_000


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class ClinicianReport(models.Model):
    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="clinician_reports")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    text = models.TextField(max_length=TEXT_MAX_LENGTH, blank=True, default="")
    impression = models.TextField(max_length=IMPRESSION_MAX_LENGTH, blank=True, default="")
    # The draft's sentences as written from the results, each with what it came from
    # ({"text", "source": {"kind": "finding" | "analyser", "key"}}), kept so the web app can link
    # what the text still says to the finding or analyser it rests on.
    sentences = models.JSONField(default=list, blank=True)
    # Why a signed version was amended (versions after the first).
    amendment_reason = models.TextField(max_length=REASON_MAX_LENGTH, blank=True, default="")
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="edited_reports"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="signed_reports",
        null=True,
        blank=True,
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["study", "version"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="one_report_version_per_number"),
            models.CheckConstraint(
                condition=models.Q(status="draft", signed_at__isnull=True, signed_by__isnull=True)
                | models.Q(status="signed", signed_at__isnull=False, signed_by__isnull=False),
                name="signed_report_has_signer_and_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Report of {self.study_id} v{self.version} ({self.status})"
