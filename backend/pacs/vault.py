"""The original identifiers of a received image, sealed at rest with the key from CXR_ORIGIN_KEY.

Only the code that files results into the PACS (pacs.filing) opens them: the rest of the service
sees ciphertext, so the identifiers reach no API answer, export, log or audit event.
"""

import json
from dataclasses import asdict

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from pydicom.dataset import Dataset

from pacs.origin import ImageOrigin

# What a PACS needs to file results into the patient's study, and nothing more.
KEPT = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "SOPClassUID",
    "Modality",
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "AccessionNumber",
    "StudyID",
    "StudyDate",
    "StudyTime",
)


class OriginKeyError(Exception):
    """No key, or a key that cannot open what was sealed."""


def origin_cipher() -> Fernet:
    if not settings.CXR_ORIGIN_KEY:
        raise OriginKeyError("CXR_ORIGIN_KEY is not set: original identifiers are not kept.")
    try:
        return Fernet(settings.CXR_ORIGIN_KEY.encode())
    except ValueError as error:
        raise OriginKeyError("CXR_ORIGIN_KEY is not a Fernet key (32 url-safe base64 bytes).") from error


def origin_of(dataset: Dataset) -> ImageOrigin:
    """The identifiers of a received image, from the dataset its intake read (as it arrived)."""
    values = {keyword: str(dataset.get(keyword, "") or "") for keyword in KEPT}
    return ImageOrigin(
        study_instance_uid=values["StudyInstanceUID"],
        series_instance_uid=values["SeriesInstanceUID"],
        sop_instance_uid=values["SOPInstanceUID"],
        sop_class_uid=values["SOPClassUID"],
        modality=values["Modality"] or "OT",
        patient_id=values["PatientID"],
        patient_name=values["PatientName"],
        patient_birth_date=values["PatientBirthDate"],
        patient_sex=values["PatientSex"],
        accession_number=values["AccessionNumber"],
        study_id=values["StudyID"],
        study_date=values["StudyDate"],
        study_time=values["StudyTime"],
    )


def origin_seal(origin: ImageOrigin) -> bytes:
    return origin_cipher().encrypt(json.dumps(asdict(origin)).encode())


def origin_open(sealed: bytes) -> ImageOrigin:
    try:
        return ImageOrigin(**json.loads(origin_cipher().decrypt(bytes(sealed))))
    except InvalidToken as error:
        raise OriginKeyError(
            "CXR_ORIGIN_KEY cannot open the stored identifiers (was the key changed?)."
        ) from error
