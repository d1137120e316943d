"""What clinicians think of the model's findings: one current answer per study, finding and user.

Each answer given is also recorded in the audit log, so a changed answer's history is kept there.
"""

from django.conf import settings
from django.db import models

NOTE_MAX_LENGTH = 2000


class Verdict(models.TextChoices):
    AGREE = "agree", "Agree"
    DISAGREE = "disagree", "Disagree"
    UNSURE = "unsure", "Unsure"


class FindingFeedback(models.Model):
    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="feedback")
    label = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback")
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    note = models.TextField(max_length=NOTE_MAX_LENGTH, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "label", "user"], name="one_feedback_per_user_and_finding"
            )
        ]
        indexes = [models.Index(fields=["label", "verdict"], name="feedback_label_verdict")]
        verbose_name_plural = "finding feedback"

    def __str__(self) -> str:
        return f"{self.user} {self.verdict} {self.label} on {self.study_id}"
