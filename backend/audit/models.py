"""The audit log: who did what, when, from which address. Append-only.

The application only ever inserts rows: saving an existing event, deleting one, or updating or
deleting through a queryset raises AuditLogImmutableError, and on PostgreSQL a trigger refuses
UPDATE and DELETE on the table whatever the client (see migration 0002).
"""

from typing import Any, Never

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditLogImmutableError(Exception):
    """Raised on any attempt to change or delete a recorded audit event."""


class AuditAction(models.TextChoices):
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
    STUDY_UPLOAD = "study_upload", "Uploaded a study"
    STUDY_VIEW = "study_view", "Viewed a study"
    IMAGE_DOWNLOAD = "image_download", "Downloaded a radiograph"
    HEATMAP_DOWNLOAD = "heatmap_download", "Downloaded a heatmap"
    REPORT_DOWNLOAD = "report_download", "Downloaded a report"
    FEEDBACK = "feedback", "Gave feedback"
    USER_CREATE = "user_create", "Created a user"
    USER_UPDATE = "user_update", "Changed a user"
    PASSWORD_RESET = "password_reset", "Reset a password"
    DICOM_SENDER_REFUSED = "dicom_sender_refused", "Refused a DICOM sender"
    # The model's life at a site (issue 23): acceptance, a site's thresholds, shadow, promotion.
    ACCEPTANCE_RUN = "acceptance_run", "Ran a site acceptance"
    PROFILE_INSTALL = "profile_install", "Installed a threshold profile"
    PROFILE_ACTIVATE = "profile_activate", "Activated a threshold profile"
    SHADOW_START = "shadow_start", "Started a shadow model"
    SHADOW_STOP = "shadow_stop", "Stopped a shadow model"
    MODEL_PROMOTE = "model_promote", "Promoted a model"
    MODEL_ROLLBACK = "model_rollback", "Rolled back a model"
    MODEL_INSTALL = "model_install", "Installed model weights"
    STUDIES_REANALYSE = "studies_reanalyse", "Re-analysed studies"
    # The clinician's report (issue 22): signed off, and amended after sign-off.
    REPORT_SIGN_OFF = "report_sign_off", "Signed off a report"
    REPORT_AMEND = "report_amend", "Amended a signed report"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> Never:
        raise AuditLogImmutableError("Audit events cannot be changed.")

    def delete(self) -> Never:
        raise AuditLogImmutableError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # A user who acted; null for a failed sign-in, whose attempted name is kept in actor_username.
    # PROTECT: a user with audit events cannot be deleted (deactivate them instead).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    # The name as it was at the time, so the record reads the same after a rename.
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at"], name="audit_created_at"),
            models.Index(fields=["action", "-created_at"], name="audit_action_created_at"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor_created_at"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogImmutableError("Audit events cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Never:
        raise AuditLogImmutableError("Audit events cannot be deleted.")
