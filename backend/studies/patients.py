"""The pseudonymous patient key that links the studies of one patient, never the identifier itself.

A DICOM file names its patient by Patient ID (0010,0020) within Issuer of Patient ID (0010,0021):
one ID from two issuers is two patients. The key is an HMAC-SHA256 of both, keyed by
CXR_PATIENT_KEY_SECRET, read from the file as it arrived (the upload's one parse,
studies.uploads.ReceivedUpload.dataset) before de-identification removes them. A PNG or JPEG names
no patient: the clinician may type a patient reference, hashed as a Patient ID of
CXR_PATIENT_REFERENCE_ISSUER, so that a typed hospital number meets the PACS's. Neither identifier
is stored, logged or cached, and refusals name files, never patients.
"""

import hashlib
import hmac
import json
from collections.abc import Sequence

from django.conf import settings

from common.errors import DomainError
from ml.errors import ImageError
from studies.grouping import files_grouped, groups_described
from studies.uploads import ReceivedUpload

# What a clinician may type: a hospital number or another local reference, as DICOM's Patient ID
# (a Long String, at most 64 characters) would hold it.
PATIENT_REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._/:#-]*$"
PATIENT_REFERENCE_MAX_LENGTH = 64


def patient_key(*, patient_id: str, issuer: str) -> str:
    """The key of a patient ID within its issuer; empty for an empty ID (no patient named)."""
    patient_id, issuer = patient_id.strip(), issuer.strip()
    if not patient_id:
        return ""
    # JSON keeps the two parts apart: no ID and issuer pair can be read as another.
    message = json.dumps([issuer, patient_id]).encode()
    return hmac.new(settings.CXR_PATIENT_KEY_SECRET.encode(), message, hashlib.sha256).hexdigest()


def reference_patient_key(reference: str) -> str:
    """The key of a patient reference a clinician typed (validated by the upload's serializer)."""
    return patient_key(patient_id=reference, issuer=settings.CXR_PATIENT_REFERENCE_ISSUER)


def dicom_patient_key(upload: ReceivedUpload) -> str:
    """The key of the patient a DICOM file names as it arrived; empty when it names none, cannot be
    read (the intake refuses it with its own reason) or is not DICOM."""
    try:
        dataset = upload.dataset
    except ImageError:
        return ""
    if dataset is None:
        return ""
    return patient_key(
        patient_id=str(dataset.get("PatientID", "") or ""),
        issuer=str(dataset.get("IssuerOfPatientID", "") or ""),
    )


def study_patient_key(received: Sequence[ReceivedUpload], *, reference: str = "") -> str:
    """The patient key of a new study's files, or a refusal (400, naming files) when they may be
    more than one patient's.

    DICOM files naming different patients are refused. Files naming none (a PNG or JPEG, a DICOM
    file without a Patient ID) are taken beside one that names a patient only when the clinician
    typed that patient's reference: nothing else says they are the same patient. A typed
    reference must be the DICOM files' patient; with no DICOM patient it is the study's key.
    """
    groups = files_grouped(received, dicom_patient_key)
    unnamed = [upload.filename for upload in received if not dicom_patient_key(upload)]
    typed = reference_patient_key(reference) if reference else ""
    if len(groups) > 1:
        raise DomainError(
            f"These DICOM files are of {len(groups)} different patients (by their Patient ID and "
            f"issuer): {groups_described(groups)}. Upload the images of one patient together.",
            extra={"reason": "different patients", "patients": groups},
        )
    if not groups:
        return typed
    (named,) = groups
    key = next(key for key in map(dicom_patient_key, received) if key)
    if typed and typed != key:
        raise DomainError(
            f"The patient reference typed is not the patient that {', '.join(named)} names: check the "
            "reference, or upload without one.",
            extra={"reason": "patient reference mismatch", "files": named},
        )
    if unnamed and not typed:
        raise DomainError(
            f"No patient is named in {', '.join(unnamed)}, while {', '.join(named)} names one: type the "
            "patient's reference to confirm that they are one patient's, or upload them separately.",
            extra={"reason": "patient not confirmed", "with_patient": named, "without_patient": unnamed},
        )
    return key
