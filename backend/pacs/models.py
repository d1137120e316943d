"""What the service keeps of an image a PACS sent, beside the study it became."""

from django.db import models

from studies.models import Study


class ReceivedProtocol(models.TextChoices):
    DIMSE = "dimse", "DICOM C-STORE"
    STOW_RS = "stow-rs", "DICOMweb STOW-RS"


class ReceivedImage(models.Model):
    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="received_image")
    received_at = models.DateTimeField(auto_now_add=True)
    protocol = models.CharField(max_length=16, choices=ReceivedProtocol.choices)
    # The sending node (an AE title names a device, not a patient); empty for STOW-RS.
    calling_ae_title = models.CharField(max_length=16, blank=True)
    # Images of one PACS study share this key: a keyed hash of its Study Instance UID, so studies
    # can be grouped without the service keeping the UID itself.
    study_group = models.CharField(max_length=64, db_index=True, blank=True)

    def __str__(self) -> str:
        return f"{self.protocol} image of study {self.study_id}"
