"""Where a study's radiograph sits in the hospital's archive: what its results must carry to file there.

Results (SR, Secondary Captures, PDF) reference the radiograph's study, series and instance and
repeat the patient's identifiers, so that a PACS files them into the same study. A study uploaded
through the web app has only its de-identified copy: its results reference that copy's UIDs, and a
PNG or JPEG upload, which has none, gets UIDs derived from the study's id, the same every time.

The results' own UIDs (``derived_uid``) derive from the study and the set of results they carry:
the same results always get the same UIDs (a filing sent again doubles nothing in the PACS), and
results stored by a later analysis (an image that joined the study) get new ones, as DICOM wants
for new content; a PACS that keeps what it has (Orthanc's default) would ignore them otherwise.
"""

import io
import uuid
from dataclasses import dataclass

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import SecondaryCaptureImageStorage

from reports.selectors import report_signed
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


def results_identity(study: Study) -> str:
    """Which set of results the study holds: when its analysis stored them, and which version of
    the clinician's report is signed. Every analysis that stores results ends the study's job
    (common.jobs.job_done), which sets ``finished_at``, and every signature is a new version, so a
    new set of results (or a newly signed report, final in the SR and PDF) has a new identity and
    the same set keeps it. A study with none yet has ""."""
    if not study.finished_at:
        return ""
    signed = report_signed(study_id=study.pk)
    return study.finished_at.isoformat() + (f"#report-v{signed.version}" if signed else "")


def derived_uid(study: Study, purpose: str) -> str:
    """A UID of the study's current results (an SR, a capture, their series), new for new results."""
    results = results_identity(study)
    return study_own_uid(study, f"{purpose}@{results}" if results else purpose)


def study_own_uid(study: Study, purpose: str) -> str:
    """A UID of the study's own that never changes (a PNG's stand-in study, series and image)."""
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
        study_instance_uid=study_own_uid(study, "study"),
        series_instance_uid=study_own_uid(study, "radiograph-series"),
        sop_instance_uid=study_own_uid(study, "radiograph"),
        # A PNG or JPEG file is, for DICOM, a secondary capture of a radiograph.
        sop_class_uid=SecondaryCaptureImageStorage,
        study_date=day,
        study_time=moment,
    )
