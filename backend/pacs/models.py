"""What the service keeps of an image a PACS sent, beside the study it became."""

from django.db import models

from studies.models import Study


class ReceivedProtocol(models.TextChoices):
    DIMSE = "dimse", "DICOM C-STORE"
    STOW_RS = "stow-rs", "DICOMweb STOW-RS"


class FilingStatus(models.TextChoices):
    WAITING = "waiting", "Waiting for the analysis"
    SENDING = "sending", "Sending to the PACS"
    SENT = "sent", "Sent to PACS"
    NOT_SENT = "not_sent", "Not sent"


class ReceivedImage(models.Model):
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
    # Filing the results back into the PACS: where it stands, and why not when it did not happen.
    filing_status = models.CharField(
        max_length=16, choices=FilingStatus.choices, default=FilingStatus.WAITING
    )
    filing_message = models.TextField(blank=True, default="")
    filing_attempts = models.PositiveSmallIntegerField(default=0)
    filed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.protocol} image of study {self.study_id}"
