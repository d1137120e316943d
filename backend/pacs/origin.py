"""Where a study's radiograph sits in the hospital's archive: what its results must carry to file there.

Results (SR, Secondary Captures, PDF) reference the radiograph's study, series and instance and
repeat the patient's identifiers, so that a PACS files them into the same study. A study uploaded
through the web app has only its de-identified copy: its results reference that copy's UIDs, and a
PNG or JPEG upload, which has none, gets UIDs derived from the study's id, the same every time.
"""

import io
import uuid
from dataclasses import dataclass

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import SecondaryCaptureImageStorage

from studies import storage
from studies.models import Study
from studies.uploads import DICOM


@dataclass(frozen=True)
class ImageOrigin:
    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    sop_class_uid: str
    modality: str = "OT"
    patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    accession_number: str = ""
    study_id: str = ""
    study_date: str = ""
    study_time: str = ""

    def reference_dataset(self) -> Dataset:
        """The radiograph as far as its results need it: patient, study and instance attributes."""
        dataset = Dataset()
        dataset.PatientName = self.patient_name
        dataset.PatientID = self.patient_id
        dataset.PatientBirthDate = self.patient_birth_date
        dataset.PatientSex = self.patient_sex
        dataset.StudyInstanceUID = self.study_instance_uid
        dataset.StudyID = self.study_id
        dataset.StudyDate = self.study_date
        dataset.StudyTime = self.study_time
        dataset.AccessionNumber = self.accession_number
        dataset.ReferringPhysicianName = ""
        dataset.SeriesInstanceUID = self.series_instance_uid
        dataset.SOPInstanceUID = self.sop_instance_uid
        dataset.SOPClassUID = self.sop_class_uid
        dataset.Modality = self.modality
        return dataset


def derived_uid(study: Study, purpose: str) -> str:
    """A UID of the study's own (a result, or a PNG's stand-in study), the same for every call."""
    return f"2.25.{uuid.uuid5(study.id, purpose).int}"


def stored_origin(*, study: Study) -> ImageOrigin:
    """The origin of a study as its stored (de-identified) radiograph tells it."""
    day = study.created_at.strftime("%Y%m%d")
    moment = study.created_at.strftime("%H%M%S")
    if study.key_image.content_type == DICOM.content_type:
        stored = pydicom.dcmread(
            io.BytesIO(storage.read_file(study.key_image.original_file.name)), stop_before_pixels=True
        )
        return ImageOrigin(
            study_instance_uid=stored.StudyInstanceUID,
            series_instance_uid=stored.SeriesInstanceUID,
            sop_instance_uid=stored.SOPInstanceUID,
            sop_class_uid=stored.SOPClassUID,
            modality=str(stored.get("Modality", "OT")),
            patient_sex=str(stored.get("PatientSex", "")),
            study_date=day,
            study_time=moment,
        )
    return ImageOrigin(
        study_instance_uid=derived_uid(study, "study"),
        series_instance_uid=derived_uid(study, "radiograph-series"),
        sop_instance_uid=derived_uid(study, "radiograph"),
        # A PNG or JPEG file is, for DICOM, a secondary capture of a radiograph.
        sop_class_uid=SecondaryCaptureImageStorage,
        study_date=day,
        study_time=moment,
    )
