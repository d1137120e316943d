"""What the service keeps of an image a PACS sent, beside the study it became."""

import datetime

from django.conf import settings
from django.db import models

from common.jobs import Job, JobStatus
from pacs.addresses import addresses_validator, ae_title_validator
from studies.models import Study


class ReceivedProtocol(models.TextChoices):
    DIMSE = "dimse", "DICOM C-STORE"
    STOW_RS = "stow-rs", "DICOMweb STOW-RS"


class FilingStatus(models.TextChoices):
    """How the filing job's state reads to an admin or a clinician (ReceivedImage.filing_status)."""

    WAITING = "waiting", "Waiting for the analysis"
    RETRYING = "retrying", "Waiting to retry (the PACS could not be reached)"
    SENDING = "sending", "Sending to the PACS"
    SENT = "sent", "Sent to PACS"
    NOT_SENT = "not_sent", "Not sent"


class ReceivedImage(Job):
    """An image a PACS sent, and the job (common.jobs) of filing its study's results back.

    The job is queued when the image arrives, handed to the queue (``enqueued_at``) once the study
    is analysed, running while it sends, done when the PACS took every object and failed when it
    cannot be sent (with why). A PACS that cannot be reached sends it back to the queue, due again
    at ``enqueued_at``: the reconciler hands over only filings that were handed over once.
    """

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="received_image")
    received_at = models.DateTimeField(auto_now_add=True)
    protocol = models.CharField(max_length=16, choices=ReceivedProtocol.choices)
    # The sending node (an AE title names a device, not a patient); empty for STOW-RS.
    calling_ae_title = models.CharField(max_length=16, blank=True)
    # Images of one PACS study share this key: a keyed hash of its Study Instance UID, so studies
    # can be grouped without the service keeping the UID itself.
    study_group = models.CharField(max_length=64, db_index=True, blank=True)

    # The original identifiers (UIDs, patient ID, accession number), Fernet-encrypted (pacs.vault);
    # null when no key was configured, and the results then cannot be filed back.
    sealed_origin = models.BinaryField(null=True, editable=False)

    # What the PACS holds of the study's results: the identity of the set last sent whole
    # (pacs.origin.results_identity) and its objects' UIDs (the service's own, derived from the
    # study's id, never the patient's). The next set's SR names that SR as its predecessor, and the
    # objects it replaces can be removed from the PACS (pacs.supersede).
    filed_results = models.CharField(max_length=64, blank=True, default="")
    filed_objects = models.JSONField(default=list, blank=True, editable=False)

    @property
    def filing_status(self) -> FilingStatus:
        if self.status == JobStatus.DONE:
            return FilingStatus.SENT
        if self.status == JobStatus.FAILED:
            return FilingStatus.NOT_SENT
        if self.status == JobStatus.RUNNING:
            return FilingStatus.SENDING
        # Queued: for the first time, or again after an attempt that could not reach the PACS.
        return FilingStatus.RETRYING if self.attempts else FilingStatus.WAITING

    @property
    def filed_at(self) -> datetime.datetime | None:
        return self.finished_at if self.status == JobStatus.DONE else None

    def __str__(self) -> str:
        return f"{self.protocol} image of study {self.study_id}"


class DicomSender(models.Model):
    """A DICOM node allowed to send images to the listener: its calling AE title, optionally the
    addresses it may call from, and the account whose studies its images become. An admin keeps
    them (Django admin); CXR_DICOM_SENDERS gives the ones used when no row names an AE title."""

    ae_title = models.CharField(max_length=16, unique=True, validators=[ae_title_validator])
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    allowed_addresses = models.CharField(
        max_length=500,
        blank=True,
        validators=[addresses_validator],
        help_text="IP addresses or networks (CIDR), separated by commas; empty: any address.",
    )
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["ae_title"]

    def __str__(self) -> str:
        return self.ae_title
